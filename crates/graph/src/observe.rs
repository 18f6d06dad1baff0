//! Reading the tenant: full and incremental observation through delta queries, plus single-user look-ups.
//!
//! A full observation is four reads, run concurrently: the users delta
//! (`$select` = [`convert::user_select`] + `manager`, so manager changes arrive as `manager@delta`), the
//! groups delta (`$select` = [`convert::GROUP_SELECT`], members as `members@delta`), the soft-deleted users
//! (`/directory/deletedItems/microsoft.graph.user`) and `/subscribedSkus`. Every delta is followed through
//! its `@odata.nextLink`s to the `@odata.deltaLink`, which is what [`DeltaLinks`] keeps.
//!
//! An incremental observation follows the two delta links and applies the changes to the cached state, then
//! re-reads the deleted users and the SKUs (one request each): four requests when nothing changed. When
//! Graph says a sync state is gone (410, `syncStateNotFound`, `resyncRequired`), it falls back to a full
//! observation.

use model::{DirectoryUser, ObservedState};
use serde_json::Value;

use crate::client::Client;
use crate::convert::{self, GROUP_SELECT};
use crate::error::{Error, Result};
use crate::{DeltaLinks, GraphResponse};

/// Page size asked for on plain lists (Graph's maximum).
const LIST_PAGE: u32 = 999;

impl Client {
    /// Reads the whole tenant: users (with manager and licences), groups (with user members), soft-deleted
    /// users and subscribed SKUs. Returns the state and the delta links for the next incremental read.
    pub async fn observe_full(&self) -> Result<(ObservedState, DeltaLinks)> {
        let users_url = format!("{}/users/delta?$select={},manager", self.api_root(), convert::user_select());
        let groups_url = format!("{}/groups/delta?$select={GROUP_SELECT}", self.api_root());
        let (users, groups, deleted, skus) = tokio::try_join!(
            self.delta("users delta", &users_url),
            self.delta("groups delta", &groups_url),
            self.deleted_users(),
            self.subscribed_skus(),
        )?;
        let mut state = ObservedState::default();
        for entry in &users.0 {
            convert::apply_user_entry(&mut state, entry);
        }
        for entry in &groups.0 {
            convert::apply_group_entry(&mut state, entry);
        }
        state.deleted_users = deleted;
        state.skus = skus;
        Ok((state, DeltaLinks { users: Some(users.1), groups: Some(groups.1) }))
    }

    /// Brings `cached` up to date by following `links`; falls back to [`Client::observe_full`] when a link is
    /// missing or Graph says the sync state is gone.
    pub async fn observe_incremental(
        &self,
        cached: ObservedState,
        links: &DeltaLinks,
    ) -> Result<(ObservedState, DeltaLinks)> {
        let (Some(users_link), Some(groups_link)) = (&links.users, &links.groups) else {
            return self.observe_full().await;
        };
        let rounds = tokio::try_join!(self.delta("users delta", users_link), self.delta("groups delta", groups_link));
        let (users, groups) = match rounds {
            Ok(rounds) => rounds,
            Err(error) if error.is_resync_required() => {
                tracing::info!(error = %error, "delta sync state is gone; reading the tenant in full");
                return self.observe_full().await;
            }
            Err(error) => return Err(error),
        };
        let mut state = cached;
        for entry in &users.0 {
            convert::apply_user_entry(&mut state, entry);
        }
        for entry in &groups.0 {
            convert::apply_group_entry(&mut state, entry);
        }
        let (deleted, skus) = tokio::try_join!(self.deleted_users(), self.subscribed_skus())?;
        state.deleted_users = deleted;
        state.skus = skus;
        Ok((state, DeltaLinks { users: Some(users.1), groups: Some(groups.1) }))
    }

    /// Live users whose `employeeId` is `employee_id` (with manager and licences).
    pub async fn find_users_by_employee_id(&self, employee_id: &str) -> Result<Vec<DirectoryUser>> {
        let filter = format!("employeeId eq '{}'", employee_id.replace('\'', "''"));
        let url = format!(
            "{}/users?$filter={}&$select={}&$expand=manager($select=id)",
            self.api_root(),
            encode_query(&filter),
            convert::user_select()
        );
        let mut users = Vec::new();
        for object in self.list("find users by employee id", &url).await? {
            if let Some(user) = object.as_object().and_then(|object| convert::merge_user(None, object)) {
                users.push(user);
            }
        }
        Ok(users)
    }

    /// The live user with this `userPrincipalName`, if any (with manager and licences).
    pub async fn find_user_by_upn(&self, upn: &str) -> Result<Option<DirectoryUser>> {
        let url = format!(
            "{}/users/{}?$select={}&$expand=manager($select=id)",
            self.api_root(),
            percent_encoding::utf8_percent_encode(upn, percent_encoding::NON_ALPHANUMERIC),
            convert::user_select()
        );
        match self.get_json("find user by upn", &url).await {
            Ok(response) => Ok(response.body.as_object().and_then(|object| convert::merge_user(None, object))),
            Err(error) if error.status() == Some(404) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Soft-deleted users.
    async fn deleted_users(&self) -> Result<std::collections::BTreeMap<model::ObjectId, DirectoryUser>> {
        let url = format!(
            "{}/directory/deletedItems/microsoft.graph.user?$select={}&$top={LIST_PAGE}",
            self.api_root(),
            convert::user_select()
        );
        let mut users = std::collections::BTreeMap::new();
        for object in self.list("list deleted users", &url).await? {
            if let Some(user) = object.as_object().and_then(|object| convert::merge_user(None, object)) {
                users.insert(user.id.clone(), user);
            }
        }
        Ok(users)
    }

    /// The tenant's licence products.
    async fn subscribed_skus(&self) -> Result<Vec<model::SubscribedSku>> {
        let url = format!("{}/subscribedSkus", self.api_root());
        let skus = self.list("list subscribed skus", &url).await?;
        Ok(skus.iter().filter_map(convert::sku).collect())
    }

    /// Every `value` entry of a list, following `@odata.nextLink`.
    async fn list(&self, operation: &str, url: &str) -> Result<Vec<Value>> {
        let mut values = Vec::new();
        let mut next = Some(url.to_string());
        while let Some(url) = next.take() {
            let page = self.get_json(operation, &url).await?;
            values.extend(page_values(operation, &page)?);
            next = page.body["@odata.nextLink"].as_str().map(str::to_string);
        }
        Ok(values)
    }

    /// One delta round: every entry of every page, and the round's `@odata.deltaLink`.
    async fn delta(&self, operation: &str, url: &str) -> Result<(Vec<Value>, String)> {
        let mut values = Vec::new();
        let mut url = url.to_string();
        loop {
            let page = self.get_json(operation, &url).await?;
            values.extend(page_values(operation, &page)?);
            if let Some(next) = page.body["@odata.nextLink"].as_str() {
                url = next.to_string();
            } else if let Some(delta) = page.body["@odata.deltaLink"].as_str() {
                return Ok((values, delta.to_string()));
            } else {
                return Err(Error::InvalidResponse {
                    operation: operation.to_string(),
                    message: "a delta page has neither a next link nor a delta link".into(),
                    request_id: page.request_id,
                });
            }
        }
    }
}

fn page_values(operation: &str, page: &GraphResponse) -> Result<Vec<Value>> {
    page.body["value"].as_array().cloned().ok_or_else(|| Error::InvalidResponse {
        operation: operation.to_string(),
        message: "a page has no `value` array".into(),
        request_id: page.request_id.clone(),
    })
}

/// Percent-encodes a query option value (spaces as `%20`, quotes kept readable by Graph).
fn encode_query(value: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'\'')
        .remove(b'(')
        .remove(b')');
    percent_encoding::utf8_percent_encode(value, SET).to_string()
}
