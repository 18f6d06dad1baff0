//! Mailbox permissions: FullAccess (`Add-`/`Remove-`/`Get-MailboxPermission`), SendAs (`Add-`/`Remove-`/
//! `Get-RecipientPermission`) and Send on Behalf (`Set-Mailbox -GrantSendOnBehalfTo @{Add=…}` / `@{Remove=…}`).
//!
//! Every write is idempotent from the caller's side: a grant that is already there, or a removal of one that is
//! not, is [`Outcome::AlreadyDone`] (Exchange says so in a warning, not an error). Removals pass `-Confirm:$false`,
//! as the module does after its confirmation round trip.

use model::MailboxPermission;
use serde_json::{Value, json};

use crate::error::Result;
use crate::outcome::{self, Outcome};
use crate::{ExchangeClient, parameters};

/// The hashtable form of a multi-valued change: `@{Add=…}` or `@{Remove=…}` (reference §4.2).
fn hashtable(operation: &str, values: &[&str]) -> Value {
    json!({"@odata.type": "#Exchange.GenericHashTable", operation: values})
}

impl ExchangeClient {
    /// Grants `user` FullAccess to `mailbox` (`-AutoMapping` adds the mailbox to the user's Outlook).
    pub async fn add_full_access(&self, mailbox: &str, user: &str, auto_mapping: bool) -> Result<Outcome> {
        let query = parameters(json!({
            "Identity": mailbox, "User": user, "AccessRights": ["FullAccess"], "AutoMapping": auto_mapping,
        }));
        let output = self.invoke_with_warnings("Add-MailboxPermission", query).await?;
        Ok(outcome::of_grant(&output.warnings))
    }

    /// Takes `user`'s FullAccess to `mailbox` away (every inheritance type).
    pub async fn remove_full_access(&self, mailbox: &str, user: &str) -> Result<Outcome> {
        let query = parameters(json!({
            "Identity": mailbox, "User": user, "AccessRights": ["FullAccess"], "Confirm": false,
        }));
        let output = self.invoke_with_warnings("Remove-MailboxPermission", query).await?;
        Ok(outcome::of_revoke(&output.warnings))
    }

    /// Lets `trustee` send as `mailbox`.
    pub async fn add_send_as(&self, mailbox: &str, trustee: &str) -> Result<Outcome> {
        let query = parameters(json!({
            "Identity": mailbox, "Trustee": trustee, "AccessRights": ["SendAs"], "Confirm": false,
        }));
        let output = self.invoke_with_warnings("Add-RecipientPermission", query).await?;
        Ok(outcome::of_grant(&output.warnings))
    }

    /// Stops `trustee` sending as `mailbox`.
    pub async fn remove_send_as(&self, mailbox: &str, trustee: &str) -> Result<Outcome> {
        let query = parameters(json!({
            "Identity": mailbox, "Trustee": trustee, "AccessRights": ["SendAs"], "Confirm": false,
        }));
        let output = self.invoke_with_warnings("Remove-RecipientPermission", query).await?;
        Ok(outcome::of_revoke(&output.warnings))
    }

    /// Lets `delegate` send on behalf of `mailbox`, keeping the other delegates.
    pub async fn grant_send_on_behalf(&self, mailbox: &str, delegate: &str) -> Result<Outcome> {
        self.set_mailbox(parameters(json!({"Identity": mailbox, "GrantSendOnBehalfTo": hashtable("Add", &[delegate])})))
            .await
    }

    /// Stops `delegate` sending on behalf of `mailbox`, keeping the other delegates.
    pub async fn revoke_send_on_behalf(&self, mailbox: &str, delegate: &str) -> Result<Outcome> {
        self.set_mailbox(parameters(
            json!({"Identity": mailbox, "GrantSendOnBehalfTo": hashtable("Remove", &[delegate])}),
        ))
        .await
    }

    /// The FullAccess entries on `mailbox`, except the owner's own.
    pub async fn list_mailbox_permissions(&self, mailbox: &str) -> Result<Vec<MailboxPermission>> {
        const CMDLET: &str = "Get-MailboxPermission";
        let objects = self.invoke(CMDLET, parameters(json!({"Identity": mailbox, "ResultSize": "Unlimited"}))).await?;
        let entries: Result<Vec<Option<MailboxPermission>>> =
            objects.into_iter().map(|object| crate::dto::full_access(CMDLET, object)).collect();
        Ok(entries?.into_iter().flatten().collect())
    }

    /// The SendAs entries on `mailbox`, except the owner's own.
    pub async fn list_recipient_permissions(&self, mailbox: &str) -> Result<Vec<MailboxPermission>> {
        const CMDLET: &str = "Get-RecipientPermission";
        let objects = self.invoke(CMDLET, parameters(json!({"Identity": mailbox, "ResultSize": "Unlimited"}))).await?;
        let entries: Result<Vec<Option<MailboxPermission>>> =
            objects.into_iter().map(|object| crate::dto::send_as(CMDLET, object)).collect();
        Ok(entries?.into_iter().flatten().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashtables_carry_the_odata_type() {
        assert_eq!(
            hashtable("Add", &["adele@contoso.com"]),
            json!({"@odata.type": "#Exchange.GenericHashTable", "Add": ["adele@contoso.com"]})
        );
    }
}
