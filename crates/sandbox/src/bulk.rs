//! Bulk population of a tenant with generated users and groups, for scale rehearsals and benchmarks
//! (100,000 users and 5,000 groups in a few seconds). Generated data is deterministic: the same counts give
//! the same names, ids and memberships.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::directory::group::Group;
use crate::directory::tenant::Tenant;
use crate::directory::user::User;

const GIVEN_NAMES: &[&str] = &["Ada", "Björn", "Chloé", "Dmitri", "Emeka", "Fatima", "Grace", "Hiro", "Inès", "Jonas"];
const SURNAMES: &[&str] =
    &["Lovelace", "Öberg", "Dubois", "Ivanov", "Okafor", "Haddad", "Hopper", "Tanaka", "Müller", "Berg"];
const DEPARTMENTS: &[&str] =
    &["Engineering", "Finance", "Marketing", "Retail", "Operations", "Legal", "Sales", "Support"];

/// The password every generated user gets.
pub const GENERATED_PASSWORD: &str = "Sandbox!Pass1";

fn generated_id(kind: u8, index: usize) -> Uuid {
    let mut bytes = [0_u8; 16];
    bytes[0] = 0xb0 | kind;
    bytes[8..16].copy_from_slice(&(index as u64).to_be_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Adds `users` generated users and `groups` generated security groups (each with up to `members_per_group`
/// of the generated users) to `tenant`, on its default domain. Returns the ids of the users added.
pub fn populate(
    tenant: &mut Tenant,
    users: usize,
    groups: usize,
    members_per_group: usize,
    now: DateTime<Utc>,
) -> Vec<Uuid> {
    let domain = tenant.default_domain();
    let mut user_ids = Vec::with_capacity(users);
    for index in 0..users {
        let given = GIVEN_NAMES[index % GIVEN_NAMES.len()];
        let surname = SURNAMES[(index / GIVEN_NAMES.len()) % SURNAMES.len()];
        let upn = format!("gen.user{index}@{domain}");
        let id = generated_id(1, index);
        let mut user = User::new(id, &upn, &format!("{given} {surname} {index}"), GENERATED_PASSWORD, now);
        user.given_name = Some(given.to_string());
        user.surname = Some(surname.to_string());
        user.department = Some(DEPARTMENTS[index % DEPARTMENTS.len()].to_string());
        user.job_title = Some("Associate".to_string());
        user.employee_id = Some(format!("G{index:07}"));
        user.usage_location = Some("US".to_string());
        user.mail = Some(upn.clone());
        user.proxy_addresses = vec![format!("SMTP:{upn}")];
        if tenant.check_unique(Some(&upn), &user.smtp_addresses(), None).is_err() {
            continue;
        }
        tenant.insert_user(user);
        user_ids.push(id);
    }
    for index in 0..groups {
        let members: BTreeSet<Uuid> = if user_ids.is_empty() {
            BTreeSet::new()
        } else {
            (0..members_per_group)
                .map(|offset| user_ids[(index * members_per_group + offset) % user_ids.len()])
                .collect()
        };
        let mut group = Group::new_security(
            generated_id(2, index),
            &format!("Generated Group {index}"),
            &format!("gen-group-{index}"),
            now,
        );
        group.members = members;
        tenant.insert_group(group);
    }
    user_ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::Seed;

    #[test]
    fn populate_adds_unique_users_and_groups_to_the_default_domain() {
        let directory = Seed::sample().build(Utc::now()).unwrap();
        let tenant = directory.tenant("contoso.com").unwrap();
        let mut tenant = tenant.write();
        let before = tenant.users.len();
        let ids = populate(&mut tenant, 250, 10, 20, Utc::now());
        assert_eq!(ids.len(), 250);
        assert_eq!(tenant.users.len(), before + 250);
        assert!(tenant.live_user("gen.user42@contoso.com").is_some());
        assert_eq!(tenant.groups.values().filter(|group| group.display_name.starts_with("Generated")).count(), 10);
        assert_eq!(tenant.size_class(), 'M');
    }
}
