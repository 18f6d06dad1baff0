//! Delta queries: `GET /users/delta` and `GET /groups/delta` (reference §3.4).
//!
//! A sync is a series of rounds. The first round pages through every live, visible object in id order
//! (`@odata.nextLink` with `$skiptoken`) and ends with an `@odata.deltaLink` (`$deltatoken`). Each later
//! round returns the objects whose change sequence number lies above the previous round's watermark — found
//! with a range scan of [`Tenant::changes`] — with soft-deleted objects as `@removed: changed` and purged ones
//! as `@removed: deleted`. Groups carry `members@delta` (current members in the first round; additions and
//! `@removed` removals from [`Tenant::membership_log`] afterwards) when `members` is tracked, which is the
//! default without `$select`; users carry `manager@delta` when `$select` names `manager` (the current manager,
//! and in later rounds a replaced or removed one as `@removed`, from [`Tenant::manager_log`]).
//!
//! With `Prefer: return=minimal`, later rounds show an updated object as its `id` and the properties that
//! changed during the round (within the sync's property set), from [`Tenant::property_log`], and answer
//! `Preference-Applied: return=minimal`; created and restored objects are shown whole.
//!
//! A round's watermark never passes an object that is still inside its replication delay, so such an
//! object is delivered by a later round once it becomes visible (objects may therefore be delivered twice,
//! which Graph allows: "rounds can be replayed").
//!
//! Tokens are sealed ([`token`]); a tampered or unreadable token, or one older than seven days on the
//! sandbox clock, answers `410 Gone` with a `Location` for a fresh sync.

pub mod query;
pub mod round_changes;
pub mod token;

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, RawQuery, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use self::query::DeltaOptions;
use self::round_changes::RoundChanges;
use self::token::SyncState;
use super::caller::Caller;
use super::error::{GraphError, GraphResult};
use super::groups;
use super::odata::EntityKind;
use super::permissions;
use super::users::UserView;
use crate::directory::tenant::{ObjectKind, Tenant};
use crate::dispatch::RequestContext;
use crate::state::AppState;

/// Objects per page.
pub const PAGE_SIZE: usize = 200;

/// Delta tokens of directory objects are valid for seven days.
const TOKEN_LIFETIME_MS: i64 = 7 * 24 * 3_600 * 1_000;

/// Which collection a delta query tracks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Collection {
    Users,
    Groups,
}

impl Collection {
    fn tag(self) -> char {
        match self {
            Collection::Users => 'u',
            Collection::Groups => 'g',
        }
    }

    fn set(self) -> &'static str {
        match self {
            Collection::Users => "users",
            Collection::Groups => "groups",
        }
    }

    fn entity(self) -> EntityKind {
        match self {
            Collection::Users => EntityKind::User,
            Collection::Groups => EntityKind::Group,
        }
    }

    fn object_kind(self) -> ObjectKind {
        match self {
            Collection::Users => ObjectKind::User,
            Collection::Groups => ObjectKind::Group,
        }
    }

    /// The relationship tracked as `{name}@delta`.
    fn relationship(self) -> &'static str {
        match self {
            Collection::Users => "manager",
            Collection::Groups => "members",
        }
    }
}

/// `GET /users/delta`.
pub async fn users_delta(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    context: Option<Extension<RequestContext>>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
) -> GraphResult<Response> {
    permissions::require_user_read(&caller)?;
    delta(Collection::Users, &state, &caller, context.map(|Extension(context)| context), raw_query.as_deref(), &headers)
}

/// `GET /groups/delta`.
pub async fn groups_delta(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    context: Option<Extension<RequestContext>>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
) -> GraphResult<Response> {
    permissions::require(&caller, permissions::GROUP_READ)?;
    delta(
        Collection::Groups,
        &state,
        &caller,
        context.map(|Extension(context)| context),
        raw_query.as_deref(),
        &headers,
    )
}

fn delta(
    collection: Collection,
    state: &AppState,
    caller: &Caller,
    context: Option<RequestContext>,
    raw_query: Option<&str>,
    headers: &HeaderMap,
) -> GraphResult<Response> {
    let base_url = match &context {
        Some(context) => format!("{}/v1.0", context.public_base),
        None => "https://graph.microsoft.com/v1.0".to_string(),
    };
    let options = query::parse(collection.entity(), collection.relationship(), raw_query, headers)?;
    let now = state.clock.now();
    let view = UserView::of(caller);
    let tenant = caller.tenant.read();
    let token = options.skiptoken.as_deref().or(options.deltatoken.as_deref()).filter(|token| !token.is_empty());
    if options.latest && token.is_none() {
        // "Sync from now": no data, only a deltaLink at the current watermark.
        let sync = new_sync(collection, &tenant, &options, now);
        let upto = changes_watermark(&tenant, collection, 0, now);
        let link = Link::Delta(next_round(&sync, upto, now));
        return Ok(page_response(collection, &base_url, &sync, Vec::new(), link, false));
    }
    let sync = match token {
        Some(token) => open_token(collection, &tenant, token, &base_url, now)?,
        None => new_sync(collection, &tenant, &options, now),
    };
    let minimal = options.return_minimal && !sync.full;
    let (values, link) = if sync.full {
        full_page(collection, &tenant, &sync, view, now)
    } else {
        changes_page(collection, &tenant, &sync, view, now, minimal)
    };
    Ok(page_response(collection, &base_url, &sync, values, link, minimal))
}

/// The state of a new sync: a full round up to the current watermark.
fn new_sync(collection: Collection, tenant: &Tenant, options: &DeltaOptions, now: DateTime<Utc>) -> SyncState {
    let mut select = options.select.clone();
    if options.relationship_selected {
        select.get_or_insert_with(Vec::new).push(collection.relationship().to_string());
    }
    SyncState {
        kind: collection.tag(),
        tenant: tenant.id,
        issued_ms: now.timestamp_millis(),
        select,
        ids: options.ids.clone(),
        base: 0,
        full: true,
        upto: full_watermark(tenant, collection, now),
        after_id: None,
        after_seq: 0,
    }
}

/// Decodes a state token, answering 410 for tampered, foreign or expired ones.
fn open_token(
    collection: Collection,
    tenant: &Tenant,
    token: &str,
    base_url: &str,
    now: DateTime<Utc>,
) -> GraphResult<SyncState> {
    let fresh_sync = |sync: Option<&SyncState>| fresh_sync_url(collection, base_url, sync);
    let Some(sync) = token::decode(token).filter(|sync| sync.kind == collection.tag() && sync.tenant == tenant.id)
    else {
        return Err(gone(
            "resyncRequired",
            "The delta token is no longer valid, and the app must reset the sync state.",
            &fresh_sync(None),
        ));
    };
    if now.timestamp_millis() - sync.issued_ms > TOKEN_LIFETIME_MS {
        return Err(gone(
            "syncStateNotFound",
            "The sync state generation is not found. The delta token is expired and data must be synchronized again.",
            &fresh_sync(Some(&sync)),
        ));
    }
    Ok(sync)
}

fn gone(code: &str, message: &str, location: &str) -> GraphError {
    let error = GraphError::new(StatusCode::GONE, code, message);
    match HeaderValue::from_str(location) {
        Ok(value) => error.with_header(header::LOCATION, value),
        Err(_) => error,
    }
}

/// The URL of a fresh sync with the original query options (when known) and an empty `$deltatoken`, as
/// Graph's `Location` on a 410 (<https://learn.microsoft.com/graph/delta-query-overview#synchronization-reset>).
fn fresh_sync_url(collection: Collection, base_url: &str, sync: Option<&SyncState>) -> String {
    let mut query = Vec::new();
    if let Some(select) = sync.and_then(|sync| sync.select.as_ref()) {
        query.push(format!("$select={}", select.join(",")));
    }
    if let Some(ids) = sync.and_then(|sync| sync.ids.as_ref()) {
        let filter: Vec<String> = ids.iter().map(|id| format!("id+eq+%27{id}%27")).collect();
        query.push(format!("$filter={}", filter.join("+or+")));
    }
    query.push("$deltatoken=".to_string());
    format!("{base_url}/{}/delta?{}", collection.set(), query.join("&"))
}

/// The highest sequence number a full round can promise: just below the oldest object still inside its
/// replication delay, or the tenant's current one.
fn full_watermark(tenant: &Tenant, collection: Collection, now: DateTime<Utc>) -> u64 {
    let invisible = match collection {
        Collection::Users => {
            tenant.users.values().filter(|user| !Tenant::visible(user.visible_from, now)).map(|user| user.seq).min()
        }
        Collection::Groups => tenant
            .groups
            .values()
            .filter(|group| !Tenant::visible(group.visible_from, now))
            .map(|group| group.seq)
            .min(),
    };
    invisible.map_or(tenant.seq, |seq| seq.saturating_sub(1))
}

/// Like [`full_watermark`] for a changes round after `base`: only changes above `base` are scanned.
fn changes_watermark(tenant: &Tenant, collection: Collection, base: u64, now: DateTime<Utc>) -> u64 {
    for (seq, change) in tenant.changes.range(base + 1..) {
        if change.kind != collection.object_kind() || change.purged {
            continue;
        }
        let visible_from = match collection {
            Collection::Users => tenant.users.get(&change.id).map(|user| user.visible_from),
            Collection::Groups => tenant.groups.get(&change.id).map(|group| group.visible_from),
        };
        if visible_from.is_some_and(|from| !Tenant::visible(from, now)) {
            return seq - 1;
        }
    }
    tenant.seq.max(base)
}

/// How a page ends: more of this round, or the end of the round.
enum Link {
    /// `@odata.nextLink` with a `$skiptoken` for this state.
    Next(SyncState),
    /// `@odata.deltaLink` with a `$deltatoken` for this state.
    Delta(SyncState),
}

/// The state of the next round after one that delivered up to `upto`.
fn next_round(sync: &SyncState, upto: u64, now: DateTime<Utc>) -> SyncState {
    SyncState {
        issued_ms: now.timestamp_millis(),
        base: upto,
        full: false,
        upto: 0,
        after_id: None,
        after_seq: 0,
        ..sync.clone()
    }
}

/// One page of the first round: live, visible objects after the cursor, in id order.
fn full_page(
    collection: Collection,
    tenant: &Tenant,
    sync: &SyncState,
    view: UserView,
    now: DateTime<Utc>,
) -> (Vec<Value>, Link) {
    let after = sync.after_id.map_or(Bound::Unbounded, Bound::Excluded);
    let wanted = |id: &Uuid| sync.ids.as_ref().is_none_or(|ids| ids.binary_search(id).is_ok());
    let renderer = Renderer::new(collection, tenant, sync, view, false);
    let ids: Vec<Uuid> = match collection {
        Collection::Users => tenant
            .users
            .range((after, Bound::Unbounded))
            .map(|(_, user)| user)
            .filter(|user| !user.is_deleted() && Tenant::visible(user.visible_from, now) && wanted(&user.id))
            .map(|user| user.id)
            .take(PAGE_SIZE + 1)
            .collect(),
        Collection::Groups => tenant
            .groups
            .range((after, Bound::Unbounded))
            .map(|(_, group)| group)
            .filter(|group| group.deleted.is_none() && Tenant::visible(group.visible_from, now) && wanted(&group.id))
            .map(|group| group.id)
            .take(PAGE_SIZE + 1)
            .collect(),
    };
    let more = ids.len() > PAGE_SIZE;
    let page = &ids[..ids.len().min(PAGE_SIZE)];
    let values: Vec<Value> = page.iter().filter_map(|id| renderer.object(*id)).collect();
    let link = if more {
        Link::Next(SyncState { after_id: page.last().copied(), issued_ms: now.timestamp_millis(), ..sync.clone() })
    } else {
        Link::Delta(next_round(sync, sync.upto, now))
    };
    (values, link)
}

/// One page of a changes round: the latest change of each object above the cursor, up to the watermark.
fn changes_page(
    collection: Collection,
    tenant: &Tenant,
    sync: &SyncState,
    view: UserView,
    now: DateTime<Utc>,
    minimal: bool,
) -> (Vec<Value>, Link) {
    let mut sync = sync.clone();
    if sync.upto == 0 {
        // A deltaLink: the round starts now, up to the current watermark.
        sync.upto = changes_watermark(tenant, collection, sync.base, now);
        sync.after_seq = sync.base;
    }
    let renderer = Renderer::new(collection, tenant, &sync, view, minimal);
    let from = sync.after_seq.max(sync.base) + 1;
    let mut values = Vec::new();
    let mut last_seq = sync.after_seq;
    let mut more = false;
    if from <= sync.upto {
        for (seq, change) in tenant.changes.range(from..=sync.upto) {
            if change.kind != collection.object_kind()
                || sync.ids.as_ref().is_some_and(|ids| ids.binary_search(&change.id).is_err())
            {
                continue;
            }
            if values.len() == PAGE_SIZE {
                more = true;
                break;
            }
            last_seq = *seq;
            let value =
                if change.purged { Some(removed(change.id, "deleted")) } else { renderer.change(change.id, now) };
            values.extend(value);
        }
    }
    let link = if more {
        Link::Next(SyncState { after_seq: last_seq, issued_ms: now.timestamp_millis(), ..sync.clone() })
    } else {
        Link::Delta(next_round(&sync, sync.upto, now))
    };
    (values, link)
}

/// `{"id": …, "@removed": {"reason": …}}`.
fn removed(id: Uuid, reason: &str) -> Value {
    json!({"id": id.to_string(), "@removed": {"reason": reason}})
}

/// Renders objects of one page with the sync's property set and relationship tracking.
struct Renderer<'t> {
    collection: Collection,
    tenant: &'t Tenant,
    /// Properties to project (without the relationship), `None` = the default set.
    select: Option<Vec<String>>,
    /// Whether `{relationship}@delta` is tracked.
    relationship: bool,
    /// The first round lists current members; later rounds list membership changes.
    first_round: bool,
    /// Membership changes of this round per group (member → added), for later rounds.
    member_changes: HashMap<Uuid, BTreeMap<Uuid, bool>>,
    /// How the caller's permissions let it see users.
    view: UserView,
    /// `Prefer: return=minimal` in a later round: updated objects carry only their changed properties.
    minimal: bool,
    /// Changed properties and previous managers of this round (empty in the first round).
    round: RoundChanges,
}

impl<'t> Renderer<'t> {
    fn new(
        collection: Collection,
        tenant: &'t Tenant,
        sync: &SyncState,
        view: UserView,
        minimal: bool,
    ) -> Renderer<'t> {
        let name = collection.relationship();
        let (select, relationship) = match &sync.select {
            None => (None, collection == Collection::Groups),
            Some(select) => {
                let tracked = select.iter().any(|property| property.eq_ignore_ascii_case(name));
                let rest = select.iter().filter(|property| !property.eq_ignore_ascii_case(name)).cloned().collect();
                (Some(rest), tracked)
            }
        };
        let mut member_changes: HashMap<Uuid, BTreeMap<Uuid, bool>> = HashMap::new();
        if collection == Collection::Groups && relationship && !sync.full {
            let log = &tenant.membership_log;
            let start = log.partition_point(|change| change.seq <= sync.base);
            for change in log[start..].iter().take_while(|change| change.seq <= sync.upto) {
                member_changes.entry(change.group).or_default().insert(change.member, change.added);
            }
        }
        let round =
            if sync.full { RoundChanges::default() } else { RoundChanges::read(tenant, sync.base, sync.upto, minimal) };
        Renderer {
            collection,
            tenant,
            select,
            relationship,
            first_round: sync.full,
            member_changes,
            view,
            minimal,
            round,
        }
    }

    /// A live object in the first round.
    fn object(&self, id: Uuid) -> Option<Value> {
        match self.collection {
            Collection::Users => self.tenant.users.get(&id).map(|user| self.render_user(user)),
            Collection::Groups => self.tenant.groups.get(&id).map(|group| self.render_group(group)),
        }
    }

    /// The entry for an object changed in a later round: `@removed: changed` when in deleted items, nothing
    /// while it is invisible, otherwise its current state.
    fn change(&self, id: Uuid, now: DateTime<Utc>) -> Option<Value> {
        match self.collection {
            Collection::Users => {
                let user = self.tenant.users.get(&id)?;
                if user.is_deleted() {
                    Some(removed(id, "changed"))
                } else {
                    Tenant::visible(user.visible_from, now).then(|| self.render_user(user))
                }
            }
            Collection::Groups => {
                let group = self.tenant.groups.get(&id)?;
                if group.deleted.is_some() {
                    Some(removed(id, "changed"))
                } else {
                    Tenant::visible(group.visible_from, now).then(|| self.render_group(group))
                }
            }
        }
    }

    fn with_id(mut object: Map<String, Value>, id: Uuid) -> Map<String, Value> {
        object.entry("id").or_insert_with(|| Value::String(id.to_string()));
        object
    }

    /// Keeps only `id` and the properties changed this round, under `Prefer: return=minimal`; returns whether
    /// the object is shown whole.
    fn restrict(&self, object: &mut Map<String, Value>, id: Uuid) -> bool {
        if !self.minimal {
            return true;
        }
        let changed = self.round.properties(id);
        if changed == round_changes::ChangedProperties::All {
            return true;
        }
        object.retain(|name, _| name == "id" || changed.contains(name));
        false
    }

    fn render_user(&self, user: &crate::directory::user::User) -> Value {
        let mut object = Renderer::with_id(self.view.render(user, self.select.as_deref()), user.id);
        let whole = self.restrict(&mut object, user.id);
        if self.relationship {
            let manager_entry =
                |manager: Uuid| json!({"@odata.type": "#microsoft.graph.user", "id": manager.to_string()});
            let mut entries = Vec::new();
            match self.round.manager_before(user.id).filter(|before| *before != user.manager) {
                Some(before) => {
                    // Replaced or removed this round: the old manager as a removed link, then the new one.
                    if let Some(old) = before {
                        let mut entry = manager_entry(old);
                        entry["@removed"] = json!({"reason": "deleted"});
                        entries.push(entry);
                    }
                    entries.extend(user.manager.map(manager_entry));
                }
                None if whole => entries.extend(user.manager.map(manager_entry)),
                None => {}
            }
            if !entries.is_empty() {
                object.insert("manager@delta".into(), Value::Array(entries));
            }
        }
        Value::Object(object)
    }

    fn render_group(&self, group: &crate::directory::group::Group) -> Value {
        let mut object = Renderer::with_id(groups::render(group, self.select.as_deref()), group.id);
        self.restrict(&mut object, group.id);
        if self.relationship {
            let entries: Vec<Value> = if self.first_round {
                group.members.iter().map(|member| self.member_entry(*member, true)).collect()
            } else {
                self.member_changes
                    .get(&group.id)
                    .map(|changes| changes.iter().map(|(member, added)| self.member_entry(*member, *added)).collect())
                    .unwrap_or_default()
            };
            if !entries.is_empty() {
                object.insert("members@delta".into(), Value::Array(entries));
            }
        }
        Value::Object(object)
    }

    fn member_entry(&self, member: Uuid, added: bool) -> Value {
        let odata_type =
            if self.tenant.groups.contains_key(&member) { "#microsoft.graph.group" } else { "#microsoft.graph.user" };
        let mut entry = json!({"@odata.type": odata_type, "id": member.to_string()});
        if !added {
            entry["@removed"] = json!({"reason": "deleted"});
        }
        entry
    }
}

/// The response body of one page.
fn page_response(
    collection: Collection,
    base_url: &str,
    sync: &SyncState,
    values: Vec<Value>,
    link: Link,
    minimal: bool,
) -> Response {
    let mut body = Map::new();
    let context = match &sync.select {
        Some(select) if !select.is_empty() => {
            format!("{base_url}/$metadata#{}({})", collection.set(), select.join(","))
        }
        _ => format!("{base_url}/$metadata#{}", collection.set()),
    };
    body.insert("@odata.context".into(), Value::String(context));
    match link {
        Link::Next(state) => {
            let url = format!("{base_url}/{}/delta?$skiptoken={}", collection.set(), token::encode(&state));
            body.insert("@odata.nextLink".into(), Value::String(url));
        }
        Link::Delta(state) => {
            let url = format!("{base_url}/{}/delta?$deltatoken={}", collection.set(), token::encode(&state));
            body.insert("@odata.deltaLink".into(), Value::String(url));
        }
    }
    body.insert("value".into(), Value::Array(values));
    let mut response = Json(Value::Object(body)).into_response();
    if minimal {
        response.headers_mut().insert("preference-applied", HeaderValue::from_static("return=minimal"));
    }
    response
}
