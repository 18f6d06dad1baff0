//! Which of the three Exchange management roles Tenure needs the connection's role group holds, found out
//! without changing anything: each probe runs a cmdlet with `-WhatIf` against an object that does not exist,
//! so the service answers with its RBAC verdict before it would touch anything.
//!
//! - **Mail Recipients** — `Set-Mailbox -WhatIf`: "User is not allowed to call Set-Mailbox" (401) means the
//!   role is missing; "couldn't be found" means the cmdlet was allowed.
//! - **Security Group Creation and Membership** — `Add-DistributionGroupMember -BypassSecurityGroupManagerCheck
//!   -WhatIf`: RBAC hides the switch from callers without the role ("A parameter cannot be found that matches
//!   parameter name 'BypassSecurityGroupManagerCheck'").
//! - **Distribution Groups** — `New-DistributionGroup -Type Distribution -WhatIf`: answered with the group it
//!   would create, or refused.

use serde_json::{Value, json};

/// One role's finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RoleFinding {
    /// The role's name.
    pub(super) role: &'static str,
    /// Held, missing, or unknown (the probe's answer did not tell).
    pub(super) verdict: Verdict,
    /// What Tenure cannot do without it.
    pub(super) consequence: &'static str,
}

/// A probe's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    /// The role is held.
    Held,
    /// The role is missing.
    Missing,
    /// The answer did not tell (with what it said).
    Unknown(String),
}

struct Probe {
    role: &'static str,
    consequence: &'static str,
    cmdlet: &'static str,
    parameters: fn(&str) -> Value,
    /// Whether an answer shows the role is held (called for answers that are not an RBAC refusal).
    held: fn(u16, &str) -> bool,
}

/// What a missing role costs, as the test report says it.
pub(super) const MAIL_RECIPIENTS_CONSEQUENCE: &str =
    "leavers' mailboxes cannot be converted to shared, hidden from the address lists or shared with their manager";

const PROBES: &[Probe] = &[
    Probe {
        role: "Mail Recipients",
        consequence: MAIL_RECIPIENTS_CONSEQUENCE,
        cmdlet: "Set-Mailbox",
        parameters: |missing| json!({"Identity": missing, "HiddenFromAddressListsEnabled": false, "WhatIf": true}),
        held: |status, text| status == 404 || text.contains("ManagementObjectNotFoundException"),
    },
    Probe {
        role: "Security Group Creation and Membership",
        consequence: "members of mail-enabled security groups cannot be added or removed",
        cmdlet: "Add-DistributionGroupMember",
        parameters: |missing| json!({"Identity": missing, "Member": missing, "BypassSecurityGroupManagerCheck": true, "WhatIf": true}),
        held: |status, text| {
            (status == 404 || text.contains("ManagementObjectNotFoundException"))
                && !text.contains("BypassSecurityGroupManagerCheck")
        },
    },
    Probe {
        role: "Distribution Groups",
        consequence: "distribution lists cannot be created or their members changed",
        cmdlet: "New-DistributionGroup",
        parameters: |missing| json!({"Name": format!("tenure-role-probe-{missing}"), "Type": "Distribution", "WhatIf": true}),
        held: |status, _| (200..300).contains(&status),
    },
];

/// Runs the three probes against `invoke_url` (`…/adminapi/beta/{tenant}/InvokeCommand`).
pub(super) async fn probe_roles(client: &reqwest::Client, invoke_url: &str, token: &str) -> Vec<RoleFinding> {
    let missing = random_guid();
    let mut findings = Vec::new();
    for probe in PROBES {
        let body = json!({"CmdletInput": {"CmdletName": probe.cmdlet, "Parameters": (probe.parameters)(&missing)}});
        let answer = client
            .post(invoke_url)
            .bearer_auth(token)
            .header("Content-Type", "application/json")
            .header("X-CmdletName", probe.cmdlet)
            .header("X-ResponseFormat", "json")
            .body(body.to_string())
            .send()
            .await;
        let verdict = match answer {
            Ok(response) => {
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                verdict(probe, status, &text)
            }
            Err(error) => Verdict::Unknown(format!("no answer ({error})")),
        };
        findings.push(RoleFinding { role: probe.role, verdict, consequence: probe.consequence });
    }
    findings
}

/// A GUID no object has (random), in the usual 8-4-4-4-12 form.
fn random_guid() -> String {
    use rand::{Rng, SeedableRng};
    let hex = format!("{:032x}", rand::rngs::StdRng::from_os_rng().random::<u128>());
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

fn verdict(probe: &Probe, status: u16, text: &str) -> Verdict {
    let refused_cmdlet = status == 401 && text.contains("is not allowed to call");
    let hidden_parameter =
        text.contains("ParameterBindingException") && text.contains("BypassSecurityGroupManagerCheck");
    let refused_task = text.contains(probe.role) && (400..500).contains(&status);
    if refused_cmdlet || hidden_parameter || refused_task {
        Verdict::Missing
    } else if (probe.held)(status, text) {
        Verdict::Held
    } else {
        let message = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|json| {
                json.pointer("/error/details/0/message")
                    .or_else(|| json.pointer("/error/message"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| text.chars().take(200).collect());
        Verdict::Unknown(format!("HTTP {status} {message}").trim_end().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_verdicts() {
        let [mail, security, groups] = [&PROBES[0], &PROBES[1], &PROBES[2]];
        let denied = r#"{"error":{"code":"Unauthorized","message":"User is not allowed to call Set-Mailbox"}}"#;
        assert_eq!(verdict(mail, 401, denied), Verdict::Missing);
        let not_found = r#"{"error":{"details":[{"message":"Ex1|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|x"}]}}"#;
        assert_eq!(verdict(mail, 404, not_found), Verdict::Held);
        assert_eq!(verdict(security, 404, not_found), Verdict::Held);
        let hidden = r#"{"error":{"details":[{"message":"Ex2|System.Management.Automation.ParameterBindingException|A parameter cannot be found that matches parameter name 'BypassSecurityGroupManagerCheck'."}]}}"#;
        assert_eq!(verdict(security, 400, hidden), Verdict::Missing);
        assert_eq!(verdict(groups, 200, "{}"), Verdict::Held);
        assert!(matches!(verdict(groups, 500, "oops"), Verdict::Unknown(_)));
    }
}
