//! Pure: the policy file (TOML) and `desired_state`: HR snapshot + rules → what every account should be.
//!
//! `parse_policy` turns the policy text into a checked [`Policy`] (or every [`PolicyProblem`] at once);
//! `desired_state` applies it to an HR snapshot at a given instant. Neither reads the clock or the environment.

mod desired;
mod document;
mod exchange;
mod exchange_desired;
mod lifecycle;
mod naming;
mod policy;
mod problems;
mod templates;

pub use desired::{desired_state, desired_state_from_workers, desired_state_with_names_for};
pub use naming::clean_local_part;
pub use policy::{Policy, parse_policy};
pub use problems::PolicyProblem;
pub use templates::ascii;
