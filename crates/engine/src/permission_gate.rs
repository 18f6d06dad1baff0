//! The permission gate: a run refuses to start steps its connection cannot do.
//!
//! Before the first step, the connection's token is read for what it grants (`scp` for a signed-in admin, `roles`
//! for an app) and compared with what the plan's actions need; a missing permission blocks the run with a
//! sentence naming the permission, what it is for and how many steps need it — instead of a run that fails
//! half-way with `Authorization_RequestDenied`.

use std::collections::BTreeMap;

use model::{AccessTokenProvider, Action, Plan};
use vault::permissions::{Feature, GrantType};

/// The Graph feature an action needs (`None` for Exchange commands: the Exchange gate checks their roles).
fn feature_of(action: &Action) -> Option<Feature> {
    Some(match action {
        Action::CreateUser { .. }
        | Action::RestoreUser { .. }
        | Action::UpdateUser { .. }
        | Action::SetManager { .. }
        | Action::RemoveManager { .. }
        | Action::RevokeSessions { .. } => Feature::CreateAndUpdateUsers,
        Action::EnableAccount { .. } | Action::DisableAccount { .. } => Feature::EnableDisableAccounts,
        Action::ResetPassword { .. } => Feature::ResetPasswords,
        Action::CreateGroup { .. } | Action::AddMembers { .. } | Action::RemoveMember { .. } => Feature::ManageGroups,
        Action::AssignLicenses { .. } => Feature::AssignLicenses,
        Action::DeleteUser { .. } => Feature::DeleteUsers,
        Action::CreateMailList { .. }
        | Action::AddMailListMember { .. }
        | Action::RemoveMailListMember { .. }
        | Action::AwaitMailbox { .. }
        | Action::GrantMailboxRight { .. }
        | Action::RevokeMailboxRight { .. }
        | Action::SetMailboxHidden { .. }
        | Action::SetAutoReply { .. }
        | Action::ConvertMailbox { .. }
        | Action::ConfirmMailboxShared { .. } => return None,
    })
}

/// What `plan` needs that the token of `tokens` does not grant, one sentence per missing permission (empty when
/// everything is granted or the plan is empty).
///
/// # Errors
///
/// No token could be had, or it could not be read.
pub async fn missing_permissions(plan: &Plan, tokens: &dyn AccessTokenProvider) -> anyhow::Result<Vec<String>> {
    let mut needed: BTreeMap<Feature, usize> = BTreeMap::new();
    for feature in plan.steps.iter().filter_map(|step| feature_of(&step.action)) {
        *needed.entry(feature).or_default() += 1;
    }
    if needed.is_empty() {
        return Ok(Vec::new());
    }
    let token = tokens.access_token().await.map_err(|error| anyhow::anyhow!("getting a token: {error}"))?;
    let granted = vault::granted_permissions(&token.token)?;
    let grant = if granted.scopes.is_empty() { GrantType::Application } else { GrantType::Delegated };
    let features: Vec<Feature> = needed.keys().copied().collect();
    Ok(vault::permissions::missing_permissions(grant, &granted, &features)
        .into_iter()
        .map(|gap| {
            let steps = needed.get(&gap.feature).copied().unwrap_or(0);
            format!(
                "{} is missing: {} ({steps} step{} need{} it)",
                gap.permission,
                gap.consequence,
                if steps == 1 { "" } else { "s" },
                if steps == 1 { "s" } else { "" }
            )
        })
        .collect())
}
