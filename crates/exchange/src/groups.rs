//! Distribution lists and mail-enabled security groups: list them (with or without their members), read one by
//! name, create one, and add or remove members.
//!
//! Membership changes always pass `-BypassSecurityGroupManagerCheck`: Tenure's connection is not an owner
//! (`ManagedBy`) of the groups it manages, and an app-only caller never is. The switch needs the "Security Group
//! Creation and Membership" role; without it Exchange hides it ([`crate::ErrorKind::ParameterHidden`]).
//! Adding a member twice or removing a non-member is [`Outcome::AlreadyDone`].

use model::{MailGroup, MailGroupKind, MailGroupMember, MembershipRestriction};
use serde_json::json;

use crate::error::{ErrorKind, Result};
use crate::outcome::Outcome;
use crate::{ExchangeClient, parameters};

/// What [`ExchangeClient::new_distribution_group`] creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDistributionGroup {
    /// The unique `Name` (at most 64 characters; also the display name).
    pub name: String,
    /// The alias (`mailNickname`; the address is made from it in the default domain).
    pub alias: String,
    /// Distribution list or mail-enabled security group.
    pub kind: MailGroupKind,
    /// The owners (UPNs or other identities); empty leaves Exchange's default (the creator).
    pub managed_by: Vec<String>,
    /// Who may join (`Open` is refused for security groups).
    pub member_join_restriction: MembershipRestriction,
    /// Who may leave (`Open` is refused for security groups).
    pub member_depart_restriction: MembershipRestriction,
}

impl ExchangeClient {
    /// Every distribution list and mail-enabled security group, without members (`members` is `None`).
    pub async fn list_distribution_groups(&self) -> Result<Vec<MailGroup>> {
        const CMDLET: &str = "Get-DistributionGroup";
        let types = [MailGroupKind::Distribution, MailGroupKind::Security].map(MailGroupKind::recipient_type_details);
        let query = parameters(json!({"RecipientTypeDetails": types, "ResultSize": "Unlimited"}));
        let objects = self.invoke(CMDLET, query).await?;
        objects.into_iter().map(|object| crate::dto::mail_group(CMDLET, object)).collect()
    }

    /// The distribution list or mail-enabled security group `identity` names (its name, alias, address or
    /// GUID), without members; `None` when there is none.
    pub async fn get_distribution_group(&self, identity: &str) -> Result<Option<MailGroup>> {
        const CMDLET: &str = "Get-DistributionGroup";
        match self.invoke(CMDLET, parameters(json!({"Identity": identity}))).await {
            Ok(objects) => objects.into_iter().next().map(|object| crate::dto::mail_group(CMDLET, object)).transpose(),
            Err(error) if error.kind() == &ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Every distribution list and mail-enabled security group with its members, read concurrently (within
    /// the client's concurrency limit).
    pub async fn list_distribution_groups_with_members(&self) -> Result<Vec<MailGroup>> {
        let mut groups = self.list_distribution_groups().await?;
        let mut reads = tokio::task::JoinSet::new();
        for (index, group) in groups.iter().enumerate() {
            let client = self.clone();
            let identity = group.object_id.as_ref().map_or_else(|| group.identity.clone(), |id| id.0.clone());
            reads.spawn(async move { (index, client.list_group_members(&identity).await) });
        }
        while let Some(read) = reads.join_next().await {
            let (index, members) = read.map_err(|error| {
                crate::Error::usage("Get-DistributionGroupMember", format!("a member read stopped: {error}"))
            })?;
            groups[index].members = Some(members?);
        }
        Ok(groups)
    }

    /// The members of the group `identity` names.
    pub async fn list_group_members(&self, identity: &str) -> Result<Vec<MailGroupMember>> {
        const CMDLET: &str = "Get-DistributionGroupMember";
        let objects = self.invoke(CMDLET, parameters(json!({"Identity": identity, "ResultSize": "Unlimited"}))).await?;
        objects.into_iter().map(|object| crate::dto::member(CMDLET, object)).collect()
    }

    /// Creates a distribution list or mail-enabled security group and returns it as Exchange made it. A name or
    /// address in use is [`crate::ErrorKind::AlreadyExists`].
    pub async fn new_distribution_group(&self, group: &NewDistributionGroup) -> Result<MailGroup> {
        const CMDLET: &str = "New-DistributionGroup";
        let kind = match group.kind {
            MailGroupKind::Distribution => "Distribution",
            MailGroupKind::Security => "Security",
        };
        let mut query = parameters(json!({
            "Name": group.name,
            "Alias": group.alias,
            "Type": kind,
            "MemberJoinRestriction": group.member_join_restriction.as_str(),
            "MemberDepartRestriction": group.member_depart_restriction.as_str(),
        }));
        if !group.managed_by.is_empty() {
            query.insert("ManagedBy".into(), json!(group.managed_by));
        }
        let objects = self.invoke(CMDLET, query).await?;
        let object = objects.into_iter().next().ok_or_else(|| {
            crate::Error::new(ErrorKind::InvalidResponse, CMDLET, "Exchange returned no group for the one it created")
        })?;
        let mut created = crate::dto::mail_group(CMDLET, object)?;
        created.members = Some(Vec::new());
        Ok(created)
    }

    /// Adds `member` to `group`.
    pub async fn add_group_member(&self, group: &str, member: &str) -> Result<Outcome> {
        let query = parameters(json!({"Identity": group, "Member": member, "BypassSecurityGroupManagerCheck": true}));
        match self.invoke("Add-DistributionGroupMember", query).await {
            Ok(_) => Ok(Outcome::Done),
            Err(error) if error.kind() == &ErrorKind::AlreadyExists => Ok(Outcome::AlreadyDone),
            Err(error) => Err(error),
        }
    }

    /// Removes `member` from `group`.
    pub async fn remove_group_member(&self, group: &str, member: &str) -> Result<Outcome> {
        let query = parameters(json!({
            "Identity": group, "Member": member, "BypassSecurityGroupManagerCheck": true, "Confirm": false,
        }));
        match self.invoke("Remove-DistributionGroupMember", query).await {
            Ok(_) => Ok(Outcome::Done),
            Err(error) if error.kind() == &ErrorKind::NotMember => Ok(Outcome::AlreadyDone),
            Err(error) => Err(error),
        }
    }
}
