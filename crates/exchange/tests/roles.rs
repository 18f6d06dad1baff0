//! `check_roles` against role groups that hold all three roles Tenure needs, and against ones lacking each.

mod common;

use model::{ExchangeRole, RoleVerdict};
use sandbox::knobs::Knobs;

fn verdicts(check: &model::RoleCheck) -> Vec<(ExchangeRole, RoleVerdict)> {
    check.findings.iter().map(|finding| (finding.role, finding.verdict.clone())).collect()
}

#[tokio::test]
async fn the_sample_role_group_holds_every_role_and_nothing_changes() {
    let sandbox = common::start(Knobs::default()).await;
    let client = common::client(&sandbox);
    let before = client.list_distribution_groups().await.expect("groups").len();
    let check = client.check_roles().await;
    assert!(check.all_held(), "{:?}", verdicts(&check));
    assert_eq!(check.findings.len(), 3);
    assert_eq!(client.list_distribution_groups().await.expect("groups").len(), before, "-WhatIf created nothing");
}

#[tokio::test]
async fn each_missing_role_is_found_missing_alone() {
    for missing in ExchangeRole::ALL {
        let sandbox = common::start_without_role(missing.name()).await;
        let check = common::client(&sandbox).check_roles().await;
        for role in ExchangeRole::ALL {
            let expected = if role == missing { RoleVerdict::Missing } else { RoleVerdict::Held };
            assert_eq!(check.verdict(role), Some(&expected), "without {missing}: {:?}", verdicts(&check));
        }
        assert_eq!(check.missing().collect::<Vec<_>>(), vec![missing]);
    }
}
