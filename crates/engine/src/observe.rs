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

/// The cached observation of a tenant, usable as the base of an incremental read.
#[derive(Debug)]
pub struct Cached {
    observed: ObservedState,
    links: DeltaLinks,
    full_at: DateTime<Utc>,
}

/// Loads the cached observation kept under `tenant_key` when it is recent enough to build on (its last full read
/// is younger than `full_reconcile`); reads the store only, writes nothing.
pub async fn load_cached(
    store: &Store,
    tenant_key: &str,
    now: DateTime<Utc>,
    full_reconcile: Duration,
) -> anyhow::Result<Option<Cached>> {
    let Some(cached) = store.load_observation(tenant_key).await? else { return Ok(None) };
    if now.signed_duration_since(cached.full_at) >= full_reconcile {
        return Ok(None);
    }
    // The JSON text is dropped as soon as it is parsed: at 100,000 accounts it is tens of megabytes.
    let observed: Option<ObservedState> = serde_json::from_str(&cached.observed_json).ok();
    let links: Option<DeltaLinks> = serde_json::from_str(&cached.delta_links_json).ok();
    Ok(observed.zip(links).map(|(observed, links)| Cached { observed, links, full_at: cached.full_at }))
}

/// Reads the tenant: the changes since `cached` (or everything, without a usable cache), and stores the result
/// as the new cache.
pub async fn refresh(
    graph: &graph::Client,
    store: &Store,
    tenant_key: &str,
    cached: Option<Cached>,
    now: DateTime<Utc>,
    progress: &dyn Progress,
) -> anyhow::Result<(ObservedState, ObserveKind)> {
    progress.begin("observe", 0);
    let (observed, links, full_at, kind, unchanged) = match cached {
        Some(Cached { observed, links, full_at }) => {
            let before = fingerprint(&observed)?;
            let (observed, links) = graph.observe_incremental(observed, &links).await?;
            let unchanged = fingerprint(&observed)? == before;
            (observed, links, full_at, ObserveKind::Incremental, unchanged)
        }
        None => {
            let (observed, links) = graph.observe_full().await?;
            (observed, links, now, ObserveKind::Full, false)
        }
    };
    let links_json = serde_json::to_string(&links)?;
    if unchanged {
        // Nothing changed: only the delta links move on (the state is not serialized again, which at 100,000
        // accounts would be tens of megabytes of JSON for nothing).
        store.save_delta_links(tenant_key, &links_json).await?;
    } else {
        let observed_json = serde_json::to_string(&observed)?;
        store.save_observation(tenant_key, &observed_json, &links_json, full_at).await?;
    }
    progress.finish();
    Ok((observed, kind))
}

/// Reads the tenant, using and refreshing the cache kept under `tenant_key` ([`load_cached`] then [`refresh`]).
pub async fn observe(
    graph: &graph::Client,
    store: &Store,
    tenant_key: &str,
    now: DateTime<Utc>,
    full_reconcile: Duration,
    progress: &dyn Progress,
) -> anyhow::Result<(ObservedState, ObserveKind)> {
    let cached = load_cached(store, tenant_key, now, full_reconcile).await?;
    refresh(graph, store, tenant_key, cached, now, progress).await
}

/// A hash of the state's serialized form, computed as a stream (no copy of the state is kept).
fn fingerprint(observed: &ObservedState) -> anyhow::Result<u64> {
    struct HashingWriter(std::collections::hash_map::DefaultHasher);
    impl std::io::Write for HashingWriter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            std::hash::Hasher::write(&mut self.0, bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut writer = HashingWriter(std::collections::hash_map::DefaultHasher::new());
    serde_json::to_writer(&mut writer, observed)?;
    Ok(std::hash::Hasher::finish(&writer.0))
}
