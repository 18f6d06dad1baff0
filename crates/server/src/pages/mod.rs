//! The HTML pages: the frame ([`layout`]), sign-in ([`login`]), the dashboard ([`dashboard`]), the connection
//! pages ([`connections`], [`connection_forms`]) and the OAuth callback ([`oauth_callback`]).

pub mod connection_forms;
pub mod connections;
pub mod dashboard;
pub mod labels;
pub mod layout;
pub mod login;
pub mod oauth_callback;
