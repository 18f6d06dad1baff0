//! The policy file's sections as serde structs (`deny_unknown_fields` everywhere), with spans kept on the values
//! that are checked after the structural parse (templates, names, shares) so problems can name their line.
//!
//! `[hr]` is not here: policy keeps it as an opaque `toml::Table` for the engine to hand to `hr-source`.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// `[scope]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScopeDoc {
    #[serde(default)]
    pub(crate) upn_domains: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) exclude_upns: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) require_employee_id: bool,
}

/// `[matching]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MatchingDoc {
    #[serde(default)]
    pub(crate) adopt_by_secondary_key: bool,
    pub(crate) secondary_key: Option<Spanned<String>>,
    pub(crate) previous_id_field: Option<Spanned<String>>,
}

/// `[naming]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NamingDoc {
    pub(crate) domain: Spanned<String>,
    pub(crate) candidates: Spanned<Vec<Spanned<String>>>,
    #[serde(default = "default_counter_start")]
    pub(crate) counter_start: Spanned<u32>,
    #[serde(default = "default_max_counter")]
    pub(crate) max_counter: Spanned<u32>,
    #[serde(default)]
    pub(crate) set_mail: bool,
}

fn default_counter_start() -> Spanned<u32> {
    Spanned::new(0..0, 2)
}

fn default_max_counter() -> Spanned<u32> {
    Spanned::new(0..0, 99)
}

/// What happens to the account during one type of leave.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LeaveAction {
    /// Disable the account for the leave.
    #[default]
    Disable,
    /// Keep the account enabled.
    Keep,
}

/// `[lifecycle.leave]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeaveDoc {
    #[serde(default)]
    pub(crate) default: LeaveAction,
    #[serde(default)]
    pub(crate) types: BTreeMap<String, LeaveAction>,
}

/// `[lifecycle]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LifecycleDoc {
    pub(crate) default_time_zone: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) create_days_before_start: u32,
    pub(crate) delete_after_days: Option<u32>,
    pub(crate) keep_account_when: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) leaver_removes_all_memberships: bool,
    #[serde(default)]
    pub(crate) leave: LeaveDoc,
}

/// One `[[groups]]` rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GroupDoc {
    pub(crate) id: Option<String>,
    pub(crate) name: Spanned<String>,
    pub(crate) display_name: Option<Spanned<String>>,
    pub(crate) kind: Spanned<String>,
    #[serde(default)]
    pub(crate) create: bool,
    pub(crate) when: Option<Spanned<String>>,
}

/// One `[[licences]]` rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LicenceDoc {
    pub(crate) id: Option<String>,
    pub(crate) sku: Spanned<String>,
    pub(crate) when: Option<Spanned<String>>,
}

/// One limit in `[limits]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitDoc {
    pub(crate) count: Option<u32>,
    pub(crate) share: Option<Spanned<f64>>,
}

/// `[limits]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitsDoc {
    #[serde(default)]
    pub(crate) disables: LimitDoc,
    #[serde(default)]
    pub(crate) deletes: LimitDoc,
    #[serde(default)]
    pub(crate) license_removals: LimitDoc,
    #[serde(default)]
    pub(crate) membership_removals: LimitDoc,
}
