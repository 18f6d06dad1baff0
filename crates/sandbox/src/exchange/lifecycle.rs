//! Mailbox lifecycle, driven by the directory: a user who comes to hold a licence with an Exchange plan gets
//! a mailbox once the provisioning delay has passed; a regular mailbox whose last Exchange licence goes is
//! marked for deletion (Microsoft deletes it after a 30-day grace); a deleted user's mailbox is purged,
//! shared or not. Every mark and purge lands in the tenant's data-loss record, so a test (or a rehearsal)
//! can prove that nothing was lost.
//!
//! Graph's licence, delete and restore handlers call in here; Exchange's own cmdlets call in when they
//! create a shared mailbox or change a mailbox's type.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::model::{LICENCE_GRACE_DAYS, LossKind, Mailbox, MailboxKind, MailboxLoss};
use crate::directory::tenant::Tenant;
use crate::directory::user::User;

/// Whether `user` holds a licence with an enabled Exchange plan.
pub fn has_exchange_plan(tenant: &Tenant, user: &User) -> bool {
    user.assigned_licenses.iter().any(|license| {
        tenant.skus.iter().filter(|sku| sku.sku_id == license.sku_id).any(|sku| {
            sku.service_plans.iter().any(|plan| {
                plan.service_plan_name.starts_with("EXCHANGE")
                    && !license.disabled_plans.contains(&plan.service_plan_id)
            })
        })
    })
}

fn record(tenant: &mut Tenant, user_id: Uuid, kind: LossKind, reason: String, now: DateTime<Utc>) {
    let Some(user) = tenant.users.get(&user_id) else { return };
    let Some(mailbox) = tenant.exchange.mailboxes.get(&user_id) else { return };
    let deletion_due = match kind {
        LossKind::MarkedForDeletion => now + Duration::days(LICENCE_GRACE_DAYS),
        LossKind::Purged => now,
    };
    let loss = MailboxLoss {
        at: now,
        kind,
        user: user_id,
        user_principal_name: user.user_principal_name.clone(),
        primary_smtp_address: user.mail.clone(),
        recipient_type_details: mailbox.kind.recipient_type_details().to_string(),
        reason,
        deletion_due,
    };
    tracing::warn!(user = %loss.user_principal_name, kind = ?kind, "A mailbox lost its mail (data-loss record).");
    tenant.exchange.data_loss.push(loss);
}

/// Brings the user's mailbox in line with its licences after they changed: starts provisioning for a newly
/// licensed user, restores a mailbox still within its grace period, marks a regular mailbox whose last
/// Exchange licence went, and cancels a provisioning that had not finished.
pub fn after_licence_change(tenant: &mut Tenant, user_id: Uuid, now: DateTime<Utc>, delay: Duration) {
    let Some(user) = tenant.users.get(&user_id) else { return };
    if user.is_deleted() {
        return;
    }
    let licensed = has_exchange_plan(tenant, user);
    let existing = tenant.exchange.mailboxes.get(&user_id).cloned();
    match (licensed, existing) {
        (true, None) => {
            tenant.exchange.mailboxes.insert(user_id, Mailbox::new(user_id, MailboxKind::User, now, now + delay));
        }
        (true, Some(mailbox)) if mailbox.is_gone(now) => {
            tenant.exchange.mailboxes.insert(user_id, Mailbox::new(user_id, MailboxKind::User, now, now + delay));
        }
        (true, Some(mailbox)) if mailbox.marked_for_deletion.is_some() => {
            if let Some(mailbox) = tenant.exchange.mailboxes.get_mut(&user_id) {
                mailbox.marked_for_deletion = None;
            }
        }
        (false, Some(mailbox)) if now < mailbox.ready_at => {
            tenant.exchange.mailboxes.remove(&user_id);
        }
        (false, Some(mailbox))
            if mailbox.kind == MailboxKind::User && mailbox.marked_for_deletion.is_none() && !mailbox.is_gone(now) =>
        {
            record(
                tenant,
                user_id,
                LossKind::MarkedForDeletion,
                "the last licence with an Exchange plan was removed from a mailbox that is not shared".into(),
                now,
            );
            if let Some(mailbox) = tenant.exchange.mailboxes.get_mut(&user_id) {
                mailbox.marked_for_deletion = Some(now);
            }
        }
        _ => {}
    }
}

/// After `Set-Mailbox -Type`: a shared mailbox needs no licence (a pending deletion is cancelled); a mailbox
/// converted back to a regular one without an Exchange licence starts its grace period.
pub fn after_type_change(tenant: &mut Tenant, user_id: Uuid, now: DateTime<Utc>) {
    let Some(user) = tenant.users.get(&user_id) else { return };
    let licensed = has_exchange_plan(tenant, user);
    let Some(mailbox) = tenant.exchange.mailboxes.get(&user_id) else { return };
    match mailbox.kind {
        MailboxKind::Shared => {
            if let Some(mailbox) = tenant.exchange.mailboxes.get_mut(&user_id) {
                mailbox.marked_for_deletion = None;
            }
        }
        MailboxKind::User if !licensed && mailbox.marked_for_deletion.is_none() => {
            record(
                tenant,
                user_id,
                LossKind::MarkedForDeletion,
                "a mailbox without an Exchange licence was converted to a regular mailbox".into(),
                now,
            );
            if let Some(mailbox) = tenant.exchange.mailboxes.get_mut(&user_id) {
                mailbox.marked_for_deletion = Some(now);
            }
        }
        MailboxKind::User => {}
    }
}

/// After a user was deleted (moved to deleted items): its mailbox is purged, shared or not.
pub fn after_user_deleted(tenant: &mut Tenant, user_id: Uuid, now: DateTime<Utc>) {
    let Some(mailbox) = tenant.exchange.mailboxes.get(&user_id) else { return };
    if now >= mailbox.ready_at && !mailbox.is_gone(now) {
        record(tenant, user_id, LossKind::Purged, "the user was deleted".into(), now);
    }
    tenant.exchange.mailboxes.remove(&user_id);
}

/// After a user came back from deleted items: a licensed user gets a new (empty) mailbox.
pub fn after_user_restored(tenant: &mut Tenant, user_id: Uuid, now: DateTime<Utc>, delay: Duration) {
    after_licence_change(tenant, user_id, now, delay);
}

/// Seeded (and bulk-created) licensed users have their mailboxes from the start.
pub fn provision_at_once(tenant: &mut Tenant, user_id: Uuid, now: DateTime<Utc>) {
    after_licence_change(tenant, user_id, now, Duration::zero());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::Cloud;
    use crate::directory::tenant::{ServicePlan, Sku};
    use crate::directory::user::AssignedLicense;

    const SKU: Uuid = Uuid::from_u128(1);

    fn tenant_with_user(now: DateTime<Utc>) -> (Tenant, Uuid) {
        let mut tenant = Tenant::new(Uuid::nil(), "T".into(), Cloud::Global, Vec::new());
        tenant.skus.push(Sku {
            sku_id: SKU,
            sku_part_number: "EXCHANGESTANDARD".into(),
            enabled_units: 5,
            service_plans: vec![ServicePlan {
                service_plan_id: Uuid::from_u128(2),
                service_plan_name: "EXCHANGE_S_STANDARD".into(),
            }],
        });
        let id = Uuid::from_u128(9);
        tenant.insert_user(User::new(id, "a@t.com", "A", "Sandbox!Pass1", now));
        (tenant, id)
    }

    fn set_licensed(tenant: &mut Tenant, id: Uuid, licensed: bool) {
        tenant.update_user(id, |user| {
            user.assigned_licenses =
                if licensed { vec![AssignedLicense { sku_id: SKU, disabled_plans: Vec::new() }] } else { Vec::new() };
        });
    }

    #[test]
    fn a_licence_provisions_after_the_delay_and_its_removal_marks_the_mailbox() {
        let now = Utc::now();
        let (mut tenant, id) = tenant_with_user(now);
        set_licensed(&mut tenant, id, true);
        after_licence_change(&mut tenant, id, now, Duration::minutes(5));
        assert!(tenant.exchange.ready_mailbox(id, now).is_none(), "not before the delay");
        let later = now + Duration::minutes(5);
        assert!(tenant.exchange.ready_mailbox(id, later).is_some());
        set_licensed(&mut tenant, id, false);
        after_licence_change(&mut tenant, id, later, Duration::zero());
        assert_eq!(tenant.exchange.data_loss.len(), 1);
        assert_eq!(tenant.exchange.data_loss[0].kind, LossKind::MarkedForDeletion);
        assert!(tenant.exchange.ready_mailbox(id, later + Duration::days(LICENCE_GRACE_DAYS)).is_none());
    }

    #[test]
    fn a_shared_mailbox_keeps_its_mail_without_a_licence_but_not_its_user() {
        let now = Utc::now();
        let (mut tenant, id) = tenant_with_user(now);
        set_licensed(&mut tenant, id, true);
        after_licence_change(&mut tenant, id, now, Duration::zero());
        tenant.exchange.mailboxes.get_mut(&id).unwrap().kind = MailboxKind::Shared;
        after_type_change(&mut tenant, id, now);
        set_licensed(&mut tenant, id, false);
        after_licence_change(&mut tenant, id, now, Duration::zero());
        assert!(tenant.exchange.data_loss.is_empty());
        assert!(tenant.exchange.ready_mailbox(id, now + Duration::days(60)).is_some());
        after_user_deleted(&mut tenant, id, now);
        assert_eq!(tenant.exchange.data_loss.last().unwrap().kind, LossKind::Purged);
        assert_eq!(tenant.exchange.data_loss.last().unwrap().recipient_type_details, "SharedMailbox");
    }

    #[test]
    fn removing_a_licence_before_provisioning_finished_loses_nothing() {
        let now = Utc::now();
        let (mut tenant, id) = tenant_with_user(now);
        set_licensed(&mut tenant, id, true);
        after_licence_change(&mut tenant, id, now, Duration::minutes(5));
        set_licensed(&mut tenant, id, false);
        after_licence_change(&mut tenant, id, now, Duration::zero());
        assert!(tenant.exchange.mailboxes.is_empty() && tenant.exchange.data_loss.is_empty());
    }
}
