//! Observing the tenant with the store's cache: the first run (and every `full_reconcile` period) reads the whole
//! tenant through Graph delta; the runs in between read only the changes since the stored deltaLinks.

use chrono::{DateTime, Duration, Utc};
use graph::DeltaLinks;
use model::ObservedState;
use store::Store;

use crate::progress::Progress;

/// How the tenant was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObserveKind {
    /// A full read (first run, or the periodic full reconciliation).
    Full,
    /// Only the changes since the last run.
    Incremental,
}

/// Reads the tenant, using and refreshing the cache kept under `tenant_key`.
pub async fn observe(
    graph: &graph::Client,
    store: &Store,
    tenant_key: &str,
    now: DateTime<Utc>,
    full_reconcile: Duration,
    progress: &dyn Progress,
) -> anyhow::Result<(ObservedState, ObserveKind)> {
    progress.begin("observe", 0);
    let cached = store.load_observation(tenant_key).await?;
    let usable = cached.and_then(|cached| {
        let fresh_enough = now.signed_duration_since(cached.full_at) < full_reconcile;
        let observed: Option<ObservedState> = serde_json::from_str(&cached.observed_json).ok();
        let links: Option<DeltaLinks> = serde_json::from_str(&cached.delta_links_json).ok();
        match (fresh_enough, observed, links) {
            (true, Some(observed), Some(links)) => Some((observed, links, cached.full_at)),
            _ => None,
        }
    });
    let (observed, links, full_at, kind) = match usable {
        Some((observed, links, full_at)) => {
            let (observed, links) = graph.observe_incremental(observed, &links).await?;
            (observed, links, full_at, ObserveKind::Incremental)
        }
        None => {
            let (observed, links) = graph.observe_full().await?;
            (observed, links, now, ObserveKind::Full)
        }
    };
    let observed_json = serde_json::to_string(&observed)?;
    let links_json = serde_json::to_string(&links)?;
    store.save_observation(tenant_key, &observed_json, &links_json, full_at).await?;
    progress.finish();
    Ok((observed, kind))
}
