//! What changed on each object during one later delta round (sequence numbers above the round's base up to
//! its watermark), read from the tenant's logs: the changed properties ([`Tenant::property_log`]) that
//! `Prefer: return=minimal` limits updated objects to, and each user's manager at the start of the round
//! ([`Tenant::manager_log`]), from which `manager@delta` reports a removed or replaced manager.

use std::collections::{BTreeSet, HashMap};

use uuid::Uuid;

use crate::directory::tenant::{ALL_PROPERTIES, Tenant};

/// The properties of one object changed during the round.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ChangedProperties {
    /// The object was created or restored during the round: it is shown whole.
    #[default]
    All,
    /// These properties (lower-case Graph names) changed.
    Some(BTreeSet<String>),
}

impl ChangedProperties {
    /// Whether `name` (any case) is to be shown.
    pub fn contains(&self, name: &str) -> bool {
        match self {
            ChangedProperties::All => true,
            ChangedProperties::Some(names) => names.contains(&name.to_ascii_lowercase()),
        }
    }

    fn add(&mut self, name: &str) {
        if name == ALL_PROPERTIES {
            *self = ChangedProperties::All;
        } else if let ChangedProperties::Some(names) = self {
            names.insert(name.to_ascii_lowercase());
        }
    }
}

/// The changes of the round `(base, upto]`.
#[derive(Debug, Default)]
pub struct RoundChanges {
    properties: HashMap<Uuid, ChangedProperties>,
    managers_before: HashMap<Uuid, Option<Uuid>>,
}

impl RoundChanges {
    /// Reads the logs of `tenant` for the round `(base, upto]`; property changes only when `properties`.
    pub fn read(tenant: &Tenant, base: u64, upto: u64, properties: bool) -> RoundChanges {
        let mut changes = RoundChanges::default();
        if properties {
            let log = &tenant.property_log;
            let start = log.partition_point(|change| change.seq <= base);
            for change in log[start..].iter().take_while(|change| change.seq <= upto) {
                changes
                    .properties
                    .entry(change.id)
                    .or_insert_with(|| ChangedProperties::Some(BTreeSet::new()))
                    .add(&change.property);
            }
        }
        let log = &tenant.manager_log;
        let start = log.partition_point(|change| change.seq <= base);
        for change in log[start..].iter().take_while(|change| change.seq <= upto) {
            // The earliest change of the round tells the manager the client last saw.
            changes.managers_before.entry(change.user).or_insert(change.previous);
        }
        changes
    }

    /// The properties of `id` changed during the round (nothing when it only changed otherwise, e.g. its
    /// membership or password).
    pub fn properties(&self, id: Uuid) -> ChangedProperties {
        self.properties.get(&id).cloned().unwrap_or_else(|| ChangedProperties::Some(BTreeSet::new()))
    }

    /// The manager of `user` at the start of the round, when its manager changed during the round.
    pub fn manager_before(&self, user: Uuid) -> Option<Option<Uuid>> {
        self.managers_before.get(&user).copied()
    }
}
