//! Admin sign-in: password hashing ([`password`]), sessions and their cookies ([`session`]), CSRF-checked
//! form posts ([`form`]) and the lock after repeated failed sign-ins ([`sign_in_throttle`]).

pub mod form;
pub mod password;
pub mod session;
pub mod sign_in_throttle;
