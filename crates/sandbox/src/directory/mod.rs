//! The sandbox's data: every tenant's directory and the application registrations, behind locks.
//!
//! [`Directory`] is the shared state of a running sandbox. Each tenant sits behind its own lock, so requests to
//! different tenants never contend.

pub mod app;
pub mod group;
pub mod tenant;
pub mod user;

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;
use uuid::Uuid;

use self::app::App;
use self::tenant::Tenant;

/// A tenant behind its lock.
pub type TenantRef = Arc<RwLock<Tenant>>;

/// All tenants and application registrations.
#[derive(Debug, Default)]
pub struct Directory {
    tenants: RwLock<HashMap<Uuid, TenantRef>>,
    apps: RwLock<HashMap<Uuid, App>>,
}

impl Directory {
    /// Adds (or replaces) a tenant.
    pub fn insert_tenant(&self, mut tenant: Tenant) -> TenantRef {
        tenant.rebuild_indexes();
        crate::exchange::rbac::ensure_built_in(&mut tenant.exchange);
        let id = tenant.id;
        let tenant = Arc::new(RwLock::new(tenant));
        self.tenants.write().insert(id, tenant.clone());
        tenant
    }

    /// Finds a tenant by GUID or by one of its verified domains.
    pub fn tenant(&self, name: &str) -> Option<TenantRef> {
        let tenants = self.tenants.read();
        if let Ok(id) = Uuid::parse_str(name) {
            return tenants.get(&id).cloned();
        }
        tenants.values().find(|tenant| tenant.read().domain(name).is_some()).cloned()
    }

    /// Every tenant, in no particular order.
    pub fn tenants(&self) -> Vec<TenantRef> {
        self.tenants.read().values().cloned().collect()
    }

    /// Adds (or replaces) an application registration.
    pub fn insert_app(&self, app: App) {
        self.apps.write().insert(app.app_id, app);
    }

    /// An application registration by client id.
    pub fn app(&self, app_id: Uuid) -> Option<App> {
        self.apps.read().get(&app_id).cloned()
    }

    /// Every application registration.
    pub fn apps(&self) -> Vec<App> {
        self.apps.read().values().cloned().collect()
    }
}
