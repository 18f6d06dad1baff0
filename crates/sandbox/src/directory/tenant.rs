//! One tenant's directory: users, groups, licences, domains, consent, and the bookkeeping every write goes
//! through (uniqueness indexes, the change sequence that drives delta, the membership log).
//!
//! Writers must use the methods here rather than editing `users`/`groups` directly, so that the indexes and
//! the change log never disagree with the objects.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::app::{ConsentRequest, DelegatedGrant, ServicePrincipal};
use super::group::Group;
use super::user::User;
use crate::cloud::Cloud;
use crate::exchange::model::ExchangeData;

/// A verified domain of the tenant.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Domain {
    /// Domain name, lower-case.
    pub name: String,
    /// The default domain for new users.
    pub is_default: bool,
    /// The `*.onmicrosoft.com` domain created with the tenant.
    pub is_initial: bool,
    /// Federated domains need `onPremisesImmutableId` on new users.
    pub federated: bool,
}

/// A service plan inside a SKU.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServicePlan {
    /// Plan id.
    pub service_plan_id: Uuid,
    /// Plan name, e.g. `EXCHANGE_S_ENTERPRISE`.
    pub service_plan_name: String,
}

/// A subscribed SKU with its seat count.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Sku {
    /// SKU id.
    pub sku_id: Uuid,
    /// Part number, e.g. `ENTERPRISEPACK`.
    pub sku_part_number: String,
    /// Seats bought (`prepaidUnits.enabled`).
    pub enabled_units: u32,
    /// The plans it contains.
    pub service_plans: Vec<ServicePlan>,
}

/// Kind of directory object, for the change log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectKind {
    /// A user.
    User,
    /// A group.
    Group,
}

/// A permanently deleted object, remembered for delta (`@removed: deleted`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Tombstone {
    /// Object id.
    pub id: Uuid,
    /// What it was.
    pub kind: ObjectKind,
    /// Change sequence number of the deletion.
    pub seq: u64,
}

/// One membership change, for `members@delta`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MembershipChange {
    /// Change sequence number.
    pub seq: u64,
    /// The group.
    pub group: Uuid,
    /// The member.
    pub member: Uuid,
    /// Added (`true`) or removed.
    pub added: bool,
}

/// The property name of a [`PropertyChange`] that stands for every property: the object was created or
/// restored from deleted items, so a `Prefer: return=minimal` delta round shows it whole.
pub const ALL_PROPERTIES: &str = "*";

/// One property change of a user or group, for delta rounds under `Prefer: return=minimal`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PropertyChange {
    /// Change sequence number of the write.
    pub seq: u64,
    /// The user or group.
    pub id: Uuid,
    /// The Graph property name (e.g. `jobTitle`, `manager`), or [`ALL_PROPERTIES`].
    pub property: String,
}

/// One change of a user's manager, for `manager@delta` (removals name the previous manager).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ManagerChange {
    /// Change sequence number of the write.
    pub seq: u64,
    /// The user whose manager changed.
    pub user: Uuid,
    /// The manager before the write.
    pub previous: Option<Uuid>,
    /// The manager after the write.
    pub current: Option<Uuid>,
}

/// An entry of the change index: which object changed at a sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChangeRef {
    /// What changed.
    pub kind: ObjectKind,
    /// Its id.
    pub id: Uuid,
    /// Whether it was permanently deleted.
    pub purged: bool,
}

/// A uniqueness conflict on write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The property whose value is taken (`userPrincipalName`, `proxyAddresses`, `mail`).
    pub property: &'static str,
    /// The object holding the value.
    pub holder: Uuid,
}

/// A tenant.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Tenant {
    /// Tenant id.
    pub id: Uuid,
    /// Organisation name.
    pub display_name: String,
    /// The national cloud it lives in.
    pub cloud: Cloud,
    /// Verified domains.
    pub domains: Vec<Domain>,
    /// Users, live and soft-deleted, by id (ordered: paging resumes after an id).
    pub users: BTreeMap<Uuid, User>,
    /// Groups, by id.
    pub groups: BTreeMap<Uuid, Group>,
    /// Subscribed SKUs.
    pub skus: Vec<Sku>,
    /// Applications present in the tenant.
    pub service_principals: Vec<ServicePrincipal>,
    /// Delegated consent.
    pub grants: Vec<DelegatedGrant>,
    /// Admin consent requests.
    pub consent_requests: Vec<ConsentRequest>,
    /// The last change sequence number handed out.
    pub seq: u64,
    /// Permanently deleted objects.
    pub tombstones: Vec<Tombstone>,
    /// Membership changes, oldest first.
    pub membership_log: Vec<MembershipChange>,
    /// Property changes of users and groups, oldest first (absent from state files of older versions).
    #[serde(default)]
    pub property_log: Vec<PropertyChange>,
    /// Manager changes, oldest first (absent from state files of older versions).
    #[serde(default)]
    pub manager_log: Vec<ManagerChange>,
    /// What Exchange Online keeps about the tenant's recipients: mailboxes, group settings, role groups and
    /// the data-loss record (absent from state files of older versions).
    #[serde(default)]
    pub exchange: ExchangeData,
    /// Latest change per object, by sequence number (rebuilt on load).
    #[serde(skip)]
    pub changes: BTreeMap<u64, ChangeRef>,
    /// Live users by lower-case UPN.
    #[serde(skip)]
    upn_index: HashMap<String, Uuid>,
    /// Live objects by lower-case SMTP address (mail and proxy addresses of users and groups).
    #[serde(skip)]
    address_index: HashMap<String, Uuid>,
}

impl Tenant {
    /// An empty tenant.
    pub fn new(id: Uuid, display_name: String, cloud: Cloud, domains: Vec<Domain>) -> Tenant {
        Tenant {
            id,
            display_name,
            cloud,
            domains,
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
            skus: Vec::new(),
            service_principals: Vec::new(),
            grants: Vec::new(),
            consent_requests: Vec::new(),
            seq: 0,
            tombstones: Vec::new(),
            membership_log: Vec::new(),
            property_log: Vec::new(),
            manager_log: Vec::new(),
            exchange: ExchangeData::default(),
            changes: BTreeMap::new(),
            upn_index: HashMap::new(),
            address_index: HashMap::new(),
        }
    }

    /// Rebuilds the indexes and the change index from the objects (after loading a saved state).
    pub fn rebuild_indexes(&mut self) {
        self.upn_index.clear();
        self.address_index.clear();
        self.changes.clear();
        for user in self.users.values() {
            self.changes.insert(user.seq, ChangeRef { kind: ObjectKind::User, id: user.id, purged: false });
            if !user.is_deleted() {
                self.upn_index.insert(user.user_principal_name.to_ascii_lowercase(), user.id);
                for address in user.smtp_addresses() {
                    self.address_index.insert(address, user.id);
                }
            }
        }
        for group in self.groups.values() {
            self.changes.insert(group.seq, ChangeRef { kind: ObjectKind::Group, id: group.id, purged: false });
            if group.deleted.is_none() {
                for address in group.smtp_addresses() {
                    self.address_index.insert(address, group.id);
                }
            }
        }
        for tombstone in &self.tombstones {
            self.changes.insert(tombstone.seq, ChangeRef { kind: tombstone.kind, id: tombstone.id, purged: true });
        }
    }

    /// Whether `domain` is one of the tenant's verified domains.
    pub fn domain(&self, domain: &str) -> Option<&Domain> {
        self.domains.iter().find(|candidate| candidate.name.eq_ignore_ascii_case(domain))
    }

    /// The initial `*.onmicrosoft.com` domain.
    pub fn initial_domain(&self) -> &str {
        self.domains
            .iter()
            .find(|domain| domain.is_initial)
            .or(self.domains.first())
            .map_or("", |domain| domain.name.as_str())
    }

    /// Size class for Graph identity throttling: S < 50 users, M 50–500, L > 500.
    pub fn size_class(&self) -> char {
        match self.upn_index.len() {
            0..50 => 'S',
            50..=500 => 'M',
            _ => 'L',
        }
    }

    /// Users, live and deleted, in id order from just after `from` (the start without it): how paging resumes.
    pub fn users_after(&self, from: Option<Uuid>) -> impl Iterator<Item = &User> {
        self.users.range(ids_after(from)).map(|(_, user)| user)
    }

    /// Groups, live and deleted, in id order from just after `from` (the start without it).
    pub fn groups_after(&self, from: Option<Uuid>) -> impl Iterator<Item = &Group> {
        self.groups.range(ids_after(from)).map(|(_, group)| group)
    }

    /// The domain new addresses are made in: the default domain, else the initial `onmicrosoft.com` one.
    pub fn default_domain(&self) -> String {
        self.domains
            .iter()
            .find(|domain| domain.is_default)
            .map_or_else(|| self.initial_domain().to_string(), |domain| domain.name.clone())
    }

    /// A live user by object id or UPN.
    pub fn live_user(&self, key: &str) -> Option<&User> {
        let id = match Uuid::parse_str(key) {
            Ok(id) => id,
            Err(_) => *self.upn_index.get(&key.to_ascii_lowercase())?,
        };
        self.users.get(&id).filter(|user| !user.is_deleted())
    }

    /// The id of the live object that holds `address` (any SMTP address), if any.
    pub fn address_holder(&self, address: &str) -> Option<Uuid> {
        self.address_index.get(&address.to_ascii_lowercase()).copied()
    }

    /// The id of the live user holding `upn`, if any.
    pub fn upn_holder(&self, upn: &str) -> Option<Uuid> {
        self.upn_index.get(&upn.to_ascii_lowercase()).copied()
    }

    /// Checks that `upn` (when given) and `addresses` are free among live objects, ignoring `except`.
    pub fn check_unique(&self, upn: Option<&str>, addresses: &[String], except: Option<Uuid>) -> Result<(), Conflict> {
        if let Some(upn) = upn
            && let Some(holder) = self.upn_holder(upn).filter(|holder| Some(*holder) != except)
        {
            return Err(Conflict { property: "userPrincipalName", holder });
        }
        for address in addresses {
            if let Some(holder) = self.address_holder(address).filter(|holder| Some(*holder) != except) {
                return Err(Conflict { property: "proxyAddresses", holder });
            }
        }
        Ok(())
    }

    /// Hands out the next change sequence number.
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn record_change(&mut self, old_seq: u64, change: ChangeRef) -> u64 {
        if self.changes.get(&old_seq).is_some_and(|entry| entry.id == change.id) {
            self.changes.remove(&old_seq);
        }
        let seq = self.next_seq();
        self.changes.insert(seq, change);
        seq
    }

    fn unindex_user(&mut self, user: &User) {
        if self.upn_index.get(&user.user_principal_name.to_ascii_lowercase()) == Some(&user.id) {
            self.upn_index.remove(&user.user_principal_name.to_ascii_lowercase());
        }
        for address in user.smtp_addresses() {
            if self.address_index.get(&address) == Some(&user.id) {
                self.address_index.remove(&address);
            }
        }
    }

    fn index_user(&mut self, user: &User) {
        if user.is_deleted() {
            return;
        }
        self.upn_index.insert(user.user_principal_name.to_ascii_lowercase(), user.id);
        for address in user.smtp_addresses() {
            self.address_index.insert(address, user.id);
        }
    }

    fn unindex_group(&mut self, group: &Group) {
        for address in group.smtp_addresses() {
            if self.address_index.get(&address) == Some(&group.id) {
                self.address_index.remove(&address);
            }
        }
    }

    fn index_group(&mut self, group: &Group) {
        if group.deleted.is_some() {
            return;
        }
        for address in group.smtp_addresses() {
            self.address_index.insert(address, group.id);
        }
    }

    /// Inserts a new user (uniqueness must have been checked) and records the change.
    pub fn insert_user(&mut self, mut user: User) {
        user.seq = self.record_change(0, ChangeRef { kind: ObjectKind::User, id: user.id, purged: false });
        self.log_property(user.seq, user.id, ALL_PROPERTIES.to_string());
        if user.manager.is_some() {
            self.manager_log.push(ManagerChange {
                seq: user.seq,
                user: user.id,
                previous: None,
                current: user.manager,
            });
        }
        self.index_user(&user);
        self.users.insert(user.id, user);
    }

    /// Changes a user through `edit`, keeping indexes and the change log right. Returns `false` if there is no
    /// such user (live or deleted).
    pub fn update_user(&mut self, id: Uuid, edit: impl FnOnce(&mut User)) -> bool {
        let Some(mut user) = self.users.remove(&id) else { return false };
        self.unindex_user(&user);
        let before = user.clone();
        edit(&mut user);
        user.seq = self.record_change(user.seq, ChangeRef { kind: ObjectKind::User, id, purged: false });
        self.log_user_changes(&before, &user);
        self.index_user(&user);
        self.users.insert(id, user);
        true
    }

    fn log_property(&mut self, seq: u64, id: Uuid, property: String) {
        self.property_log.push(PropertyChange { seq, id, property });
    }

    /// Records which Graph properties a write changed (every one when it restored the user), and the manager.
    fn log_user_changes(&mut self, before: &User, after: &User) {
        let (seq, id) = (after.seq, after.id);
        if before.is_deleted() && !after.is_deleted() {
            self.log_property(seq, id, ALL_PROPERTIES.to_string());
        } else {
            for property in after.changed_properties(before) {
                self.log_property(seq, id, property);
            }
        }
        if before.manager != after.manager {
            self.log_property(seq, id, "manager".to_string());
            self.manager_log.push(ManagerChange { seq, user: id, previous: before.manager, current: after.manager });
        }
    }

    /// Removes a user for good (from deleted items) and leaves a tombstone for delta.
    pub fn purge_user(&mut self, id: Uuid) -> Option<User> {
        let user = self.users.remove(&id)?;
        self.unindex_user(&user);
        self.remove_from_all_groups(id);
        let seq = self.record_change(user.seq, ChangeRef { kind: ObjectKind::User, id, purged: true });
        self.tombstones.push(Tombstone { id, kind: ObjectKind::User, seq });
        Some(user)
    }

    /// Inserts a new group and records the change.
    pub fn insert_group(&mut self, mut group: Group) {
        group.seq = self.record_change(0, ChangeRef { kind: ObjectKind::Group, id: group.id, purged: false });
        self.log_property(group.seq, group.id, ALL_PROPERTIES.to_string());
        self.index_group(&group);
        for member in group.members.clone() {
            let seq = group.seq;
            self.membership_log.push(MembershipChange { seq, group: group.id, member, added: true });
        }
        self.groups.insert(group.id, group);
    }

    /// Changes a group through `edit`, keeping indexes and the change log right.
    pub fn update_group(&mut self, id: Uuid, edit: impl FnOnce(&mut Group)) -> bool {
        let Some(mut group) = self.groups.remove(&id) else { return false };
        self.unindex_group(&group);
        let before = group.clone();
        let members_before = &before.members;
        edit(&mut group);
        group.seq = self.record_change(group.seq, ChangeRef { kind: ObjectKind::Group, id, purged: false });
        let seq = group.seq;
        if before.deleted.is_some() && group.deleted.is_none() {
            self.log_property(seq, id, ALL_PROPERTIES.to_string());
        } else {
            for property in group.changed_properties(&before) {
                self.log_property(seq, id, property);
            }
        }
        for added in group.members.difference(members_before) {
            self.membership_log.push(MembershipChange { seq, group: id, member: *added, added: true });
        }
        for removed in members_before.difference(&group.members) {
            self.membership_log.push(MembershipChange { seq, group: id, member: *removed, added: false });
        }
        self.index_group(&group);
        self.groups.insert(id, group);
        true
    }

    /// Removes a group for good and leaves a tombstone for delta.
    pub fn purge_group(&mut self, id: Uuid) -> Option<Group> {
        let group = self.groups.remove(&id)?;
        self.unindex_group(&group);
        self.remove_from_all_groups(id);
        let seq = self.record_change(group.seq, ChangeRef { kind: ObjectKind::Group, id, purged: true });
        self.tombstones.push(Tombstone { id, kind: ObjectKind::Group, seq });
        Some(group)
    }

    /// Takes `member` out of every group it belongs to (as happens when an object is deleted).
    pub fn remove_from_all_groups(&mut self, member: Uuid) {
        let holding: Vec<Uuid> =
            self.groups.values().filter(|group| group.members.contains(&member)).map(|group| group.id).collect();
        for group in holding {
            self.update_group(group, |group| {
                group.members.remove(&member);
            });
        }
    }

    /// Seats of `sku_id` in use by live users.
    pub fn consumed_units(&self, sku_id: Uuid) -> u32 {
        let count = self
            .users
            .values()
            .filter(|user| !user.is_deleted() && user.assigned_licenses.iter().any(|license| license.sku_id == sku_id))
            .count();
        u32::try_from(count).unwrap_or(u32::MAX)
    }

    /// The service principal of `app_id` in this tenant, if the app is present.
    pub fn service_principal(&self, app_id: Uuid) -> Option<&ServicePrincipal> {
        self.service_principals.iter().find(|principal| principal.app_id == app_id)
    }

    /// Whether an object (user or group) is visible to reads at `now` (replication delay elapsed).
    pub fn visible(visible_from: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        visible_from.is_none_or(|from| now >= from)
    }
}

/// The range of ids strictly after `from` (every id without it), for resuming an id-ordered walk.
pub fn ids_after(from: Option<Uuid>) -> (Bound<Uuid>, Bound<Uuid>) {
    (from.map_or(Bound::Unbounded, Bound::Excluded), Bound::Unbounded)
}
