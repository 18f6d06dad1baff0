//! [`ExchangeClient::check_roles`]: which of the three management roles Tenure needs the connection holds, found
//! out without changing anything. Each probe runs a cmdlet with `-WhatIf` against an object that does not exist
//! (a random GUID), so the service gives its RBAC verdict before it would touch anything:
//!
//! - **Mail Recipients** — `Set-Mailbox -Identity <guid> -HiddenFromAddressListsEnabled:$false -WhatIf`: refused
//!   by RBAC (401 "User is not allowed to call Set-Mailbox") = missing; "couldn't be found" = held.
//! - **Security Group Creation and Membership** — `Add-DistributionGroupMember -Identity <guid> -Member <guid>
//!   -BypassSecurityGroupManagerCheck -WhatIf`: RBAC hides the switch from callers without the role
//!   (`ParameterBindingException`) = missing; "couldn't be found" = held.
//! - **Distribution Groups** — `New-DistributionGroup -Name tenure-role-probe-<guid> -Type Distribution -WhatIf`:
//!   the group it would create = held; refused by RBAC or by a task error naming the role = missing.
//!
//! Any other answer (a network failure, an unexpected refusal) is [`RoleVerdict::Unknown`] with what it said.

use model::{ExchangeRole, RoleCheck, RoleFinding, RoleVerdict};
use serde_json::{Map, Value, json};

use crate::error::{ErrorKind, Result};
use crate::{ExchangeClient, parameters};

/// The verdict of one probe's result.
fn verdict(role: ExchangeRole, result: &Result<Vec<Map<String, Value>>>) -> RoleVerdict {
    let Err(error) = result else {
        // Nothing exists under a random GUID, so only the group creation probe should get here; for the others
        // an answer at all still means the cmdlet and its parameters were allowed.
        return RoleVerdict::Held;
    };
    match (role, error.kind()) {
        (_, ErrorKind::RbacDenied { .. }) => RoleVerdict::Missing,
        (ExchangeRole::SecurityGroupCreationAndMembership, ErrorKind::ParameterHidden { parameter })
            if parameter.eq_ignore_ascii_case("BypassSecurityGroupManagerCheck") =>
        {
            RoleVerdict::Missing
        }
        (ExchangeRole::MailRecipients | ExchangeRole::SecurityGroupCreationAndMembership, ErrorKind::NotFound) => {
            RoleVerdict::Held
        }
        _ => RoleVerdict::Unknown(error.to_string()),
    }
}

/// The cmdlet and parameters probing `role`, with `missing` a GUID no object has.
fn probe(role: ExchangeRole, missing: &str) -> (&'static str, Map<String, Value>) {
    match role {
        ExchangeRole::MailRecipients => (
            "Set-Mailbox",
            parameters(json!({"Identity": missing, "HiddenFromAddressListsEnabled": false, "WhatIf": true})),
        ),
        ExchangeRole::SecurityGroupCreationAndMembership => (
            "Add-DistributionGroupMember",
            parameters(json!({
                "Identity": missing, "Member": missing, "BypassSecurityGroupManagerCheck": true, "WhatIf": true,
            })),
        ),
        ExchangeRole::DistributionGroups => (
            "New-DistributionGroup",
            parameters(json!({"Name": format!("tenure-role-probe-{missing}"), "Type": "Distribution", "WhatIf": true})),
        ),
    }
}

impl ExchangeClient {
    /// Which of Mail Recipients, Security Group Creation and Membership and Distribution Groups the connection
    /// holds. Changes nothing; never fails (a probe that cannot tell gives [`RoleVerdict::Unknown`]).
    pub async fn check_roles(&self) -> RoleCheck {
        let missing = uuid::Uuid::new_v4().to_string();
        let mut findings = Vec::new();
        for role in ExchangeRole::ALL {
            let (cmdlet, query) = probe(role, &missing);
            let result = self.invoke(cmdlet, query).await;
            let verdict = verdict(role, &result);
            tracing::debug!(role = role.name(), ?verdict, "Exchange role probed.");
            findings.push(RoleFinding { role, verdict });
        }
        RoleCheck { findings }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn failed(kind: ErrorKind) -> Result<Vec<Map<String, Value>>> {
        Err(Error::new(kind, "probe", "message"))
    }

    #[test]
    fn answers_map_to_verdicts() {
        use ExchangeRole::{DistributionGroups, MailRecipients, SecurityGroupCreationAndMembership as Security};
        let denied = || failed(ErrorKind::RbacDenied { cmdlet: "Set-Mailbox".into() });
        assert_eq!(verdict(MailRecipients, &denied()), RoleVerdict::Missing);
        assert_eq!(verdict(MailRecipients, &failed(ErrorKind::NotFound)), RoleVerdict::Held);
        let hidden = failed(ErrorKind::ParameterHidden { parameter: "BypassSecurityGroupManagerCheck".into() });
        assert_eq!(verdict(Security, &hidden), RoleVerdict::Missing);
        assert_eq!(verdict(Security, &failed(ErrorKind::NotFound)), RoleVerdict::Held);
        assert_eq!(verdict(DistributionGroups, &Ok(Vec::new())), RoleVerdict::Held);
        assert_eq!(verdict(DistributionGroups, &denied()), RoleVerdict::Missing);
        assert!(matches!(verdict(DistributionGroups, &failed(ErrorKind::NotFound)), RoleVerdict::Unknown(_)));
        assert!(matches!(verdict(MailRecipients, &failed(ErrorKind::Transient)), RoleVerdict::Unknown(_)));
    }
}
