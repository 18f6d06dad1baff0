//! Microsoft Graph v1.0: users, groups, licences, deleted items, delta and `$batch`, with Graph's OData query
//! options, permission checks from the token, and Graph's error envelope.

pub mod batch;
pub mod call;
pub mod caller;
pub mod deleted_items;
pub mod delta;
pub mod envelope;
pub mod error;
pub mod expand;
pub mod group_write;
pub mod groups;
pub mod licenses;
pub mod listing;
pub mod lookup;
pub mod members;
pub mod odata;
pub mod permissions;
pub mod request_body;
pub mod throttle;
pub mod user_relations;
pub mod user_write;
pub mod users;

use std::sync::Arc;

use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{delete, get, post, put};
use tower_http::catch_panic::CatchPanicLayer;

use crate::state::AppState;

/// Users, groups, licences and deleted items (paths relative to `/v1.0`).
fn directory_routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/users", get(users::list_users).post(users::create_user))
        .route("/users/$count", get(users::count_users))
        .route("/users/{id}", get(users::get_user).patch(users::patch_user).delete(users::delete_user))
        .route("/users/{id}/manager", get(user_relations::get_manager))
        .route("/users/{id}/manager/$ref", put(user_relations::put_manager).delete(user_relations::delete_manager))
        .route("/users/{id}/directReports", get(user_relations::list_direct_reports))
        .route("/users/{id}/memberOf", get(user_relations::list_member_of))
        .route("/users/{id}/revokeSignInSessions", post(user_relations::revoke_sessions))
        .route("/users/{id}/assignLicense", post(licenses::assign_license))
        .route("/users/{id}/licenseDetails", get(licenses::list_license_details))
        .route("/me", get(users::get_user).patch(users::patch_user))
        .route("/me/manager", get(user_relations::get_manager))
        .route("/me/directReports", get(user_relations::list_direct_reports))
        .route("/me/memberOf", get(user_relations::list_member_of))
        .route("/me/revokeSignInSessions", post(user_relations::revoke_sessions))
        .route("/me/licenseDetails", get(licenses::list_license_details))
        .route("/subscribedSkus", get(licenses::list_subscribed_skus))
        .route("/groups", get(groups::list_groups).post(groups::create_group))
        .route("/groups/$count", get(groups::count_groups))
        .route("/groups/{id}", get(groups::get_group).patch(groups::patch_group).delete(groups::delete_group))
        .route("/groups/{id}/members", get(members::list_members))
        .route("/groups/{id}/members/$ref", post(members::add_member))
        .route("/groups/{id}/members/{member}/$ref", delete(members::remove_member))
        .route("/directory/deletedItems/microsoft.graph.user", get(deleted_items::list_deleted_users))
        .route("/directory/deletedItems/microsoft.graph.group", get(deleted_items::list_deleted_groups))
        .route(
            "/directory/deletedItems/{id}",
            get(deleted_items::get_deleted_item).delete(deleted_items::purge_deleted_item),
        )
        .route("/directory/deletedItems/{id}/restore", post(deleted_items::restore_deleted_item))
}

/// The Graph routes (paths start with `/v1.0`).
pub fn router(state: Arc<AppState>) -> Router {
    let v1 = Router::new()
        .route("/users/delta", get(delta::users_delta))
        .route("/users/delta()", get(delta::users_delta))
        .route("/groups/delta", get(delta::groups_delta))
        .route("/groups/delta()", get(delta::groups_delta))
        .route("/$batch", post(batch::post_batch))
        .merge(directory_routes());
    Router::new()
        .nest("/v1.0", v1)
        .layer(from_fn_with_state(state.clone(), throttle::throttle))
        .layer(CatchPanicLayer::custom(envelope::panic_response))
        .layer(from_fn(envelope::graph_envelope))
        .with_state(state)
}
