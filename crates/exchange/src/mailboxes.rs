//! Mailbox operations: read one or all (`Get-Mailbox`), read them lean for an observation (`Get-EXOMailbox` with
//! only the properties Tenure compares), convert between user and shared, hide from the address lists
//! (`Set-Mailbox`), and set or turn off automatic replies (`Set-MailboxAutoReplyConfiguration`).
//!
//! Writes report an [`Outcome`]: `AlreadyDone` when Exchange warns that no setting was modified.

use model::{AutoReplyState, Mailbox, MailboxKind};
use serde_json::json;

use crate::error::{ErrorKind, Result};
use crate::outcome::{self, Outcome};
use crate::{ExchangeClient, parameters};

/// What `Set-Mailbox -Type` converts a mailbox to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailboxType {
    /// A user's own (licensed) mailbox.
    Regular,
    /// A shared mailbox (needs no licence).
    Shared,
}

impl MailboxType {
    fn as_str(self) -> &'static str {
        match self {
            MailboxType::Regular => "Regular",
            MailboxType::Shared => "Shared",
        }
    }
}

/// The properties an observation reads of each mailbox (`Get-EXOMailbox -Properties`): the REST cmdlet returns
/// its minimum set plus these, instead of the hundreds of properties `Get-Mailbox` renders.
const OBSERVED_PROPERTIES: [&str; 5] = [
    "ExternalDirectoryObjectId",
    "UserPrincipalName",
    "RecipientTypeDetails",
    "HiddenFromAddressListsEnabled",
    "GrantSendOnBehalfTo",
];

impl ExchangeClient {
    /// The mailbox `identity` names (UPN, address, alias, name or GUID); `None` when Exchange has none (yet).
    pub async fn get_mailbox(&self, identity: &str) -> Result<Option<Mailbox>> {
        const CMDLET: &str = "Get-Mailbox";
        match self.invoke(CMDLET, parameters(json!({"Identity": identity}))).await {
            Ok(objects) => objects.into_iter().next().map(|object| crate::dto::mailbox(CMDLET, object)).transpose(),
            Err(error) if error.kind() == &ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Every mailbox, or every mailbox of one kind (`RecipientTypeDetails`).
    pub async fn list_mailboxes(&self, kind: Option<&MailboxKind>) -> Result<Vec<Mailbox>> {
        const CMDLET: &str = "Get-Mailbox";
        let mut query = parameters(json!({"ResultSize": "Unlimited"}));
        if let Some(kind) = kind {
            query.insert("RecipientTypeDetails".into(), json!([kind.recipient_type_details()]));
        }
        let objects = self.invoke(CMDLET, query).await?;
        objects.into_iter().map(|object| crate::dto::mailbox(CMDLET, object)).collect()
    }

    /// Every user and shared mailbox (`Get-EXOMailbox -ResultSize Unlimited -RecipientTypeDetails
    /// UserMailbox,SharedMailbox`), read page by page with only the properties an observation compares: object
    /// id, UPN, kind, hidden flag and Send on Behalf delegates (the other fields of [`Mailbox`] come from the
    /// minimum property set).
    pub async fn list_user_and_shared_mailboxes(&self) -> Result<Vec<Mailbox>> {
        const CMDLET: &str = "Get-EXOMailbox";
        let query = parameters(json!({
            "ResultSize": "Unlimited",
            "RecipientTypeDetails": ["UserMailbox", "SharedMailbox"],
            "Properties": OBSERVED_PROPERTIES,
        }));
        let objects = self.invoke(CMDLET, query).await?;
        objects.into_iter().map(|object| crate::dto::mailbox(CMDLET, object)).collect()
    }

    /// The mailbox `identity` names with the observed properties (`Get-EXOMailbox`); `None` when Exchange has
    /// none (yet) — a mailbox still being provisioned is not found.
    pub async fn get_exo_mailbox(&self, identity: &str) -> Result<Option<Mailbox>> {
        const CMDLET: &str = "Get-EXOMailbox";
        let query = parameters(json!({"Identity": identity, "Properties": OBSERVED_PROPERTIES}));
        match self.invoke(CMDLET, query).await {
            Ok(objects) => objects.into_iter().next().map(|object| crate::dto::mailbox(CMDLET, object)).transpose(),
            Err(error) if error.kind() == &ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Converts the mailbox to a regular or shared one (`Set-Mailbox -Type`). Confirm a conversion with
    /// [`ExchangeClient::get_mailbox`] before anything depends on it (a leaver's licence removal does).
    pub async fn set_mailbox_type(&self, identity: &str, kind: MailboxType) -> Result<Outcome> {
        self.set_mailbox(parameters(json!({"Identity": identity, "Type": kind.as_str()}))).await
    }

    /// Hides the mailbox from the address lists, or shows it again (`-HiddenFromAddressListsEnabled`).
    pub async fn set_hidden_from_address_lists(&self, identity: &str, hidden: bool) -> Result<Outcome> {
        self.set_mailbox(parameters(json!({"Identity": identity, "HiddenFromAddressListsEnabled": hidden}))).await
    }

    /// Sets the mailbox's automatic replies: the message for senders inside the organisation, the one for
    /// everyone outside (sent to all external senders; none when empty), and whether and when they apply.
    pub async fn set_auto_reply(
        &self,
        identity: &str,
        internal_message: &str,
        external_message: &str,
        state: AutoReplyState,
    ) -> Result<Outcome> {
        let audience = if external_message.trim().is_empty() { "None" } else { "All" };
        let mut query = parameters(json!({
            "Identity": identity,
            "InternalMessage": internal_message,
            "ExternalMessage": external_message,
            "ExternalAudience": audience,
        }));
        let state_name = match state {
            AutoReplyState::Disabled => "Disabled",
            AutoReplyState::Enabled => "Enabled",
            AutoReplyState::Scheduled { start, end } => {
                query.insert("StartTime".into(), json!(start.to_rfc3339()));
                query.insert("EndTime".into(), json!(end.to_rfc3339()));
                "Scheduled"
            }
        };
        query.insert("AutoReplyState".into(), json!(state_name));
        let output = self.invoke_with_warnings("Set-MailboxAutoReplyConfiguration", query).await?;
        Ok(outcome::of_set(&output.warnings))
    }

    /// Turns the mailbox's automatic replies off, keeping their texts (`-AutoReplyState Disabled` alone).
    pub async fn disable_auto_reply(&self, identity: &str) -> Result<Outcome> {
        let query = parameters(json!({"Identity": identity, "AutoReplyState": "Disabled"}));
        let output = self.invoke_with_warnings("Set-MailboxAutoReplyConfiguration", query).await?;
        Ok(outcome::of_set(&output.warnings))
    }

    /// `Set-Mailbox` with `query`; already done when Exchange says nothing was modified.
    pub(crate) async fn set_mailbox(&self, query: serde_json::Map<String, serde_json::Value>) -> Result<Outcome> {
        let output = self.invoke_with_warnings("Set-Mailbox", query).await?;
        Ok(outcome::of_set(&output.warnings))
    }
}
