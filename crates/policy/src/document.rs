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

/// One `[[exchange.lists]]` rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MailListDoc {
    pub(crate) id: Option<String>,
    pub(crate) name: Spanned<String>,
    pub(crate) kind: Spanned<String>,
    pub(crate) when: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) create: bool,
    pub(crate) owner: Option<Spanned<String>>,
    pub(crate) join_restriction: Option<Spanned<String>>,
    pub(crate) depart_restriction: Option<Spanned<String>>,
}

/// One `[[exchange.shared_mailboxes]]` rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SharedMailboxDoc {
    pub(crate) id: Option<String>,
    pub(crate) mailbox: Spanned<String>,
    pub(crate) when: Option<Spanned<String>>,
    pub(crate) rights: Spanned<Vec<Spanned<String>>>,
    #[serde(default = "yes")]
    pub(crate) auto_mapping: bool,
}

/// `[exchange.leaver.auto_reply]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AutoReplyDoc {
    pub(crate) internal: Spanned<String>,
    pub(crate) external: Option<Spanned<String>>,
}

/// `[exchange.leaver]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MailLeaverDoc {
    #[serde(default = "yes")]
    pub(crate) convert_to_shared: bool,
    #[serde(default = "yes")]
    pub(crate) hide_from_address_lists: bool,
    pub(crate) auto_reply: Option<AutoReplyDoc>,
    pub(crate) grant_manager: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub(crate) delegates: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) keep_memberships: Vec<Spanned<String>>,
    pub(crate) delete_after_days: Option<Spanned<u32>>,
}

impl Default for MailLeaverDoc {
    fn default() -> Self {
        Self {
            convert_to_shared: true,
            hide_from_address_lists: true,
            auto_reply: None,
            grant_manager: None,
            delegates: Vec::new(),
            keep_memberships: Vec::new(),
            delete_after_days: None,
        }
    }
}

/// `[exchange.leave]`: a leave of absence that disables the account.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MailLeaveDoc {
    #[serde(default = "yes")]
    pub(crate) hide_from_address_lists: bool,
    #[serde(default)]
    pub(crate) remove_list_memberships: bool,
}

impl Default for MailLeaveDoc {
    fn default() -> Self {
        Self { hide_from_address_lists: true, remove_list_memberships: false }
    }
}

/// `[exchange]`'s own keys; its sub-tables and arrays are deserialized one by one (so one mistake does not hide
/// the next).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExchangeKeysDoc {
    #[serde(default)]
    pub(crate) enabled: bool,
    pub(crate) default_list: Option<Spanned<String>>,
}

/// `[exchange]` as the structural pass leaves it.
#[derive(Debug, Default)]
pub(crate) struct ExchangeDoc {
    pub(crate) keys: ExchangeKeysDoc,
    pub(crate) lists: Vec<MailListDoc>,
    pub(crate) shared_mailboxes: Vec<SharedMailboxDoc>,
    pub(crate) leaver: MailLeaverDoc,
    pub(crate) leave: MailLeaveDoc,
}

fn yes() -> bool {
    true
}
