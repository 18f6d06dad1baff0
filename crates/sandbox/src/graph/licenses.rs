//! Licences: `POST /users/{id}/assignLicense`, `GET /users/{id}/licenseDetails` and `GET /subscribedSkus`.
//!
//! Error wording, as observed in public scripts that handle these answers (`Request_BadRequest` each):
//! "License assignment cannot be done for user with invalid usage location.",
//! "License {skuId} does not correspond to a valid company License.",
//! "Subscription with SKU {skuId} does not have any available licenses." (the SKU part of this one is
//! reproduced from a test double; the "does not have any available licenses" part is widely observed),
//! "User does not have a corresponding license.".
//!
//! Reference: §3.1.5; <https://learn.microsoft.com/graph/api/user-assignlicense>,
//! <https://learn.microsoft.com/graph/api/user-list-licensedetails>,
//! <https://learn.microsoft.com/graph/api/subscribedsku-list>.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::Path;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::call::Call;
use super::error::{GraphError, GraphResult};
use super::listing::Page;
use super::lookup::{UserTarget, find_user};
use super::permissions;
use super::request_body::{self, conversion_error, node_name, unexpected_node};
use super::user_write;
use super::users::UserView;
use crate::directory::tenant::{Sku, Tenant};
use crate::directory::user::{AssignedLicense, User};

fn parse_guid(value: &Value) -> GraphResult<Uuid> {
    match value {
        Value::String(text) => Uuid::parse_str(text).map_err(|_| conversion_error(value, "Edm.Guid")),
        other => Err(conversion_error(other, "Edm.Guid")),
    }
}

fn parse_guid_list(value: &Value) -> GraphResult<Vec<Uuid>> {
    match value {
        Value::Array(items) => items.iter().map(parse_guid).collect(),
        Value::Null => Err(GraphError::bad_request("Cannot write a null value for the non-nullable parameter.")),
        other => Err(unexpected_node(node_name(other), "StartArray")),
    }
}

/// The parameters of `assignLicense`.
#[derive(Clone, Debug)]
struct AssignLicense {
    add: Vec<AssignedLicense>,
    remove: Vec<Uuid>,
}

fn parse_assign_license(body: &Map<String, Value>) -> GraphResult<AssignLicense> {
    for key in body.keys() {
        if key != "addLicenses" && key != "removeLicenses" && !request_body::is_type_annotation(key) {
            return Err(GraphError::bad_request(format!(
                "The parameter '{key}' in the request payload is not a valid parameter for the operation \
                 'assignLicense'."
            )));
        }
    }
    let missing: Vec<&str> =
        ["addLicenses", "removeLicenses"].into_iter().filter(|name| !body.contains_key(*name)).collect();
    if !missing.is_empty() {
        return Err(GraphError::bad_request(format!(
            "One or more parameters of the operation 'assignLicense' are missing from the request payload. The \
             missing parameters are: {}.",
            missing.join(", ")
        )));
    }
    let add = match &body["addLicenses"] {
        Value::Array(items) => items
            .iter()
            .map(|item| {
                let object = request_body::as_optional_object(item)?.ok_or_else(|| {
                    GraphError::bad_request("Cannot write a null value for the non-nullable parameter.")
                })?;
                let mut sku_id = None;
                let mut disabled_plans = Vec::new();
                for (key, value) in object {
                    match key.as_str() {
                        "skuId" => sku_id = Some(parse_guid(value)?),
                        "disabledPlans" => disabled_plans = parse_guid_list(value)?,
                        key if request_body::is_type_annotation(key) => {}
                        other => return Err(request_body::no_such_property(other, "microsoft.graph.assignedLicense")),
                    }
                }
                let sku_id = sku_id.ok_or_else(|| request_body::invalid_value("skuId", "AssignedLicense"))?;
                Ok(AssignedLicense { sku_id, disabled_plans })
            })
            .collect::<GraphResult<Vec<_>>>()?,
        Value::Null => {
            return Err(GraphError::bad_request("Cannot write a null value for the non-nullable parameter."));
        }
        other => return Err(unexpected_node(node_name(other), "StartArray")),
    };
    let remove = parse_guid_list(&body["removeLicenses"])?;
    Ok(AssignLicense { add, remove })
}

/// `POST /users/{id}/assignLicense` → 200 with the user.
pub async fn assign_license(call: Call, Path(key): Path<String>, body: Bytes) -> GraphResult<Json<Value>> {
    permissions::require(&call.caller, permissions::LICENSE_WRITE)?;
    let request = parse_assign_license(&request_body::parse_object(&body)?)?;
    let view = UserView::of(&call.caller);
    let object = {
        let mut tenant = call.caller.tenant.write();
        let user = find_user(&tenant, &key, call.now)?;
        let user_id = user.id;
        permissions::require_delegated_role(&call.caller, &tenant, permissions::LICENSE_ADMIN_ROLES)?;
        check_assignment(&tenant, user, &request)?;
        let mailbox_address = exchange_address(&tenant, user, &request);
        tenant.update_user(user_id, |user| {
            user.assigned_licenses.retain(|license| !request.remove.contains(&license.sku_id));
            for license in &request.add {
                match user.assigned_licenses.iter_mut().find(|held| held.sku_id == license.sku_id) {
                    Some(held) => held.disabled_plans.clone_from(&license.disabled_plans),
                    None => user.assigned_licenses.push(license.clone()),
                }
            }
            if let Some(address) = &mailbox_address {
                user_write::set_mail(user, Some(address));
            }
        });
        let delay = call.state.knobs.mailbox_provisioning_delay();
        crate::exchange::lifecycle::after_licence_change(&mut tenant, user_id, call.now, delay);
        let user = tenant.users.get(&user_id).ok_or_else(|| GraphError::not_found(&key))?;
        view.render(user, None)
    };
    Ok(call.entity("users", None, object))
}

fn check_assignment(tenant: &Tenant, user: &User, request: &AssignLicense) -> GraphResult<()> {
    let holds = |sku_id: Uuid| user.assigned_licenses.iter().any(|license| license.sku_id == sku_id);
    for license in &request.add {
        let sku = find_sku(tenant, license.sku_id)?;
        if let Some(plan) =
            license.disabled_plans.iter().find(|plan| !sku.service_plans.iter().any(|p| p.service_plan_id == **plan))
        {
            // **Unconfirmed wording**: a disabled plan that is not part of the SKU.
            return Err(request_body::invalid_value(&format!("disabledPlans/{plan}"), "AssignedLicense"));
        }
    }
    for sku_id in &request.remove {
        find_sku(tenant, *sku_id)?;
        if !holds(*sku_id) {
            return Err(GraphError::bad_request("User does not have a corresponding license."));
        }
    }
    if !request.add.is_empty() && user.usage_location.as_deref().is_none_or(str::is_empty) {
        return Err(GraphError::bad_request("License assignment cannot be done for user with invalid usage location."));
    }
    for license in &request.add {
        if holds(license.sku_id) {
            continue;
        }
        let sku = find_sku(tenant, license.sku_id)?;
        if tenant.consumed_units(sku.sku_id) >= sku.enabled_units {
            return Err(GraphError::bad_request(format!(
                "Subscription with SKU {} does not have any available licenses.",
                sku.sku_id
            )));
        }
    }
    Ok(())
}

fn find_sku(tenant: &Tenant, sku_id: Uuid) -> GraphResult<&Sku> {
    tenant.skus.iter().find(|sku| sku.sku_id == sku_id).ok_or_else(|| {
        GraphError::bad_request(format!("License {sku_id} does not correspond to a valid company License."))
    })
}

/// The address Exchange gives a user who receives their first mailbox licence: the UPN, when free.
fn exchange_address(tenant: &Tenant, user: &User, request: &AssignLicense) -> Option<String> {
    if user.mail.is_some() {
        return None;
    }
    let gets_mailbox = request.add.iter().any(|license| {
        tenant.skus.iter().filter(|sku| sku.sku_id == license.sku_id).any(|sku| {
            sku.service_plans.iter().any(|plan| {
                plan.service_plan_name.starts_with("EXCHANGE")
                    && !license.disabled_plans.contains(&plan.service_plan_id)
            })
        })
    });
    let address = user.user_principal_name.clone();
    (gets_mailbox && tenant.address_holder(&address).is_none_or(|holder| holder == user.id)).then_some(address)
}

fn service_plans_json(sku: &Sku, disabled: &[Uuid]) -> Vec<Value> {
    sku.service_plans
        .iter()
        .map(|plan| {
            json!({
                "servicePlanId": plan.service_plan_id,
                "servicePlanName": plan.service_plan_name,
                "provisioningStatus": if disabled.contains(&plan.service_plan_id) { "Disabled" } else { "Success" },
                "appliesTo": "User",
            })
        })
        .collect()
}

/// `GET /users/{id}/licenseDetails` and `GET /me/licenseDetails`.
pub async fn list_license_details(call: Call, target: UserTarget) -> GraphResult<Json<Value>> {
    let key = target.key(&call.caller)?;
    let own = call.caller.user_id().is_some_and(|id| id.to_string().eq_ignore_ascii_case(&key));
    if !own {
        permissions::require(&call.caller, &[permissions::USER_READ, &["LicenseAssignment.Read.All"]].concat())?;
    }
    let (user_id, values) = {
        let tenant = call.caller.tenant.read();
        let user = find_user(&tenant, &key, call.now)?;
        let values: Vec<Value> = user
            .assigned_licenses
            .iter()
            .filter_map(|license| {
                let sku = tenant.skus.iter().find(|sku| sku.sku_id == license.sku_id)?;
                let mut id_bytes = user.id.as_bytes().to_vec();
                id_bytes.extend_from_slice(sku.sku_id.as_bytes());
                Some(json!({
                    "id": URL_SAFE_NO_PAD.encode(id_bytes),
                    "skuId": sku.sku_id,
                    "skuPartNumber": sku.sku_part_number,
                    "servicePlans": service_plans_json(sku, &license.disabled_plans),
                }))
            })
            .collect();
        (user.id, values)
    };
    Ok(call.collection(&format!("users('{user_id}')/licenseDetails"), None, Page::whole(values)))
}

/// `GET /subscribedSkus`.
pub async fn list_subscribed_skus(call: Call) -> GraphResult<Json<Value>> {
    permissions::require(&call.caller, permissions::SKU_READ)?;
    let values: Vec<Value> = {
        let tenant = call.caller.tenant.read();
        let mut consumed: HashMap<Uuid, u32> = HashMap::new();
        for user in tenant.users.values().filter(|user| !user.is_deleted()) {
            for license in &user.assigned_licenses {
                *consumed.entry(license.sku_id).or_default() += 1;
            }
        }
        tenant
            .skus
            .iter()
            .map(|sku| {
                json!({
                    "accountId": tenant.id,
                    "accountName": tenant.display_name,
                    "appliesTo": "User",
                    "capabilityStatus": "Enabled",
                    "consumedUnits": consumed.get(&sku.sku_id).copied().unwrap_or(0),
                    "id": format!("{}_{}", tenant.id, sku.sku_id),
                    "prepaidUnits": {"enabled": sku.enabled_units, "suspended": 0, "warning": 0, "lockedOut": 0},
                    "servicePlans": service_plans_json(sku, &[]),
                    "skuId": sku.sku_id,
                    "skuPartNumber": sku.sku_part_number,
                    "subscriptionIds": [],
                })
            })
            .collect()
    };
    Ok(call.collection("subscribedSkus", None, Page::whole(values)))
}
