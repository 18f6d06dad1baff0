//! Admin sign-in: password hashing ([`password`]), sessions and their cookies ([`session`]) and CSRF-checked
//! form posts ([`form`]).

pub mod form;
pub mod password;
pub mod session;
