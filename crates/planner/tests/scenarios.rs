//! Snapshot tests of `render_text` for the lifecycle scenarios: joiner, mover, leaver, rehire, name collisions,
//! manager ordering, scope and safety limits. Each builds its inputs from the fixture DSL in `common`.

mod common;

use common::{check_converging_plan, fixture, now};
use expect_test::{Expect, expect};
use model::{Limit, SafetyLimits};
use planner::{check_limits, plan, render_text};

const POLICY: &str = "
policy managed=displayName,jobTitle,department,usageLocation skus=E3,E5,VISIO domains=contoso.com exclude=admin@contoso.com leaver_all
group all-staff kind=security create
group sales kind=m365 create
group eng kind=security
sku sku-e3 E3
sku sku-e5 E5
tgroup g-all all-staff kind=security members=u-admin
";

fn check(text: &str, expected: Expect) {
    check_converging_plan(&format!("{POLICY}{text}"), expected);
}

#[test]
fn joiner() {
    check(
        r#"
worker 1001 stage=prehire:2026-12-01 names=ada.lovelace display="Ada Lovelace" title=Engineer dept=R&D loc=GB groups=all-staff,sales licences=E3 line=12
user u-admin upn=admin@contoso.com eid=1
"#,
        expect![[r#"
            Tenure will perform the following 5 steps (0 managed accounts):

              + #1 create group sales ("sales", microsoft365)
                  # because a group rule refers to it and the policy may create it
              + #2 create user ada.lovelace@contoso.com (worker 1001, disabled)
                  # because new hire starting 2026-12-01 (hr.csv:12)
              + #3 add members to all-staff: 1001 (after #2)
                  # because rule "all-staff"
              + #4 add members to sales: 1001 (after #1, #2)
                  # because rule "sales"
              + #5 assign licences 1001: +E3 (after #2)
                  # because licence rule "E3" (hr.csv:12)

            Plan: 5 to create, 0 to change, 0 to remove, 0 skipped.
        "#]],
    );
}

#[test]
fn mover_changes_attributes_and_groups() {
    check(
        r#"
worker 1001 stage=active display="Ada Lovelace" title=Engineer dept=Engineering loc=GB groups=all-staff,eng licences=E5
user u1 upn=ada.lovelace@contoso.com eid=1001 display="Ada Lovelace" title=Analyst dept=Sales loc=GB licences=sku-e3
tgroup g-sales sales kind=m365 members=u1
tgroup g-eng eng kind=security
"#,
        expect![[r#"
            Tenure will perform the following 5 steps (1 managed account):

              ~ #1 update user 1001: jobTitle "Analyst" → "Engineer", department "Sales" → "Engineering"
                  # because HR record differs from the account (hr.csv)
              + #2 add members to all-staff: 1001
                  # because rule "all-staff"
              + #3 add members to eng: 1001
                  # because rule "eng"
              ~ #4 assign licences 1001: +E5 -E3
                  # because licence rule "E5"; no licence rule assigns E3 any more (hr.csv)
              - #5 remove member 1001 from sales
                  # because no group rule puts this worker in sales any more (hr.csv)

            Plan: 2 to create, 2 to change, 1 to remove, 0 skipped.
        "#]],
    );
}

#[test]
fn leaver_is_disabled_then_reset_then_revoked_then_stripped() {
    check(
        r#"
worker 1003 stage=terminated:2026-11-20 display="Cy Leaver" title=Clerk line=7
user u3 upn=cy@contoso.com eid=1003 display="Cy Leaver" title=Clerk licences=sku-e3,sku-unmanaged manager=u9
tgroup g-sales sales kind=m365 members=u3
tgroup g-proj project-x kind=security members=u3
tgroup g-dyn dyn-all kind=security dynamic members=u3
tgroup g-dl sales-dl kind=other members=u3
"#,
        expect![[r#"
            Tenure will perform the following 7 steps (1 managed account):

              - #1 remove manager of 1003
                  # because HR record names no manager (hr.csv:7)
              ~ #2 disable account 1003
                  # because last working day 2026-11-20 passed (hr.csv:7)
              ~ #3 reset password of 1003 (after #2)
                  # because last working day 2026-11-20 passed (hr.csv:7)
              ~ #4 revoke sessions of 1003 (after #3)
                  # because last working day 2026-11-20 passed (hr.csv:7)
              - #5 remove member 1003 from project-x (after #4)
                  # because leaver: last working day 2026-11-20 passed (hr.csv:7)
              - #6 remove member 1003 from sales (after #4)
                  # because leaver: last working day 2026-11-20 passed (hr.csv:7)
              - #7 assign licences 1003: -E3 (after #4)
                  # because leaver: last working day 2026-11-20 passed (hr.csv:7)

            Plan: 0 to create, 3 to change, 4 to remove, 0 skipped.
        "#]],
    );
}

#[test]
fn disabled_leaver_replans_to_nothing() {
    check(
        r#"
worker 1003 stage=terminated:2026-11-20 display="Cy Leaver" title=Clerk
user u3 upn=cy@contoso.com eid=1003 display="Cy Leaver" title=Clerk disabled
"#,
        expect![[r#"
            No changes: the tenant matches the desired state.

            Plan: 0 to create, 0 to change, 0 to remove, 0 skipped.
        "#]],
    );
}

#[test]
fn delete_stage_disables_before_deleting_unless_kept() {
    check(
        r#"
worker 1004 stage=delete:2026-10-01 display=Dee
worker 1005 stage=delete:2026-10-01 display=Eve keep
user u4 upn=dee@contoso.com eid=1004 display=Dee
user u5 upn=eve@contoso.com eid=1005 display=Eve disabled
"#,
        expect![[r#"
            Tenure will perform the following 4 steps (2 managed accounts):

              ~ #1 disable account 1004
                  # because last working day 2026-10-01 passed and the retention period is over (hr.csv)
              ~ #2 reset password of 1004 (after #1)
                  # because last working day 2026-10-01 passed and the retention period is over (hr.csv)
              ~ #3 revoke sessions of 1004 (after #2)
                  # because last working day 2026-10-01 passed and the retention period is over (hr.csv)
              - #4 delete user 1004 (after #1, #3)
                  # because last working day 2026-10-01 passed and the retention period is over (hr.csv)

            Plan: 0 to create, 3 to change, 1 to remove, 0 skipped.
        "#]],
    );
}

#[test]
fn rehire_restores_the_soft_deleted_account() {
    check(
        r#"
worker 1006 stage=active names=fay.rehire display="Fay Rehire" title=Engineer loc=DE groups=all-staff licences=E3
deleted u6 upn=fay.rehire@contoso.com eid=1006 display="Fay Rehire" title=Intern disabled
"#,
        expect![[r#"
            Tenure will perform the following 5 steps (0 managed accounts):

              + #1 restore deleted user fay.rehire@contoso.com (worker 1006)
                  # because rehire: soft-deleted account fay.rehire@contoso.com carries employee ID 1006 (hr.csv)
              ~ #2 update user 1006: jobTitle "Intern" → "Engineer", usageLocation (empty) → "DE" (after #1)
                  # because rehire: bring the restored account up to date (hr.csv)
              ~ #3 enable account 1006 (after #1)
                  # because active worker (hr.csv)
              + #4 add members to all-staff: 1006 (after #1)
                  # because rule "all-staff"
              + #5 assign licences 1006: +E3 (after #1, #2)
                  # because licence rule "E3" (hr.csv)

            Plan: 3 to create, 2 to change, 0 to remove, 0 skipped.
        "#]],
    );
}

#[test]
fn names_collide_with_soft_deleted_users_and_proxy_addresses() {
    check(
        r#"
worker 1007 stage=active names=gus.grey,g.grey,gus.grey2 display="Gus Grey"
worker 1008 stage=active names=gus.grey,g.grey,gus.grey2,gus.grey3 display="Gus Grey"
worker 1009 stage=active names=hal display=Hal
deleted u-old upn=gus.grey@contoso.com eid=0042
user u-alias upn=someone@contoso.com proxies=SMTP:someone@contoso.com,smtp:G.Grey@contoso.com
user u-hal upn=hal.x@contoso.com nick=hal
"#,
        expect![[r#"
            Tenure will perform the following 2 steps (2 managed accounts):

              + #1 create user gus.grey2@contoso.com (worker 1007)
                  # because new hire (hr.csv)
              + #2 create user gus.grey3@contoso.com (worker 1008)
                  # because new hire (hr.csv)

            Skipped:
              ! 1009: no free name: every naming candidate is taken (hal@contoso.com)

            Plan: 2 to create, 0 to change, 0 to remove, 1 skipped.
        "#]],
    );
}

#[test]
fn managers_are_created_before_their_reports_manager_link() {
    check(
        r#"
worker 2001 stage=active names=report display=Report manager=2002
worker 2002 stage=active names=boss display=Boss manager=2003
worker 2003 stage=active display=Chief
worker 2004 stage=active display=Orphan manager=9999
user u-chief upn=chief@contoso.com eid=2003 display=Chief
user u-orphan upn=orphan@contoso.com eid=2004 display=Orphan manager=u-chief
"#,
        expect![[r#"
            Tenure will perform the following 4 steps (2 managed accounts):

              + #1 create user boss@contoso.com (worker 2002)
                  # because new hire (hr.csv)
              + #2 create user report@contoso.com (worker 2001)
                  # because new hire (hr.csv)
              ~ #3 set manager of 2001 to 2002 (after #1, #2)
                  # because manager is employee 2002 (hr.csv)
              ~ #4 set manager of 2002 to 2003 (after #1)
                  # because manager is employee 2003 (hr.csv)

            Plan: 2 to create, 2 to change, 0 to remove, 0 skipped.
        "#]],
    );
}

#[test]
fn out_of_scope_users_are_untouched() {
    check(
        r#"
worker 3001 stage=terminated:2026-11-01 display=Admin
worker 3002 stage=active display=Partner title=Boss
worker 3003 stage=active display=Dup
user u-admin upn=admin@contoso.com eid=3001 display=Admin
user u-partner upn=partner@fabrikam.com eid=3002 display=Partner
user u-dup1 upn=dup1@contoso.com eid=3003
user u-dup2 upn=dup2@contoso.com eid=3003
"#,
        expect![[r#"
            No changes: the tenant matches the desired state.

            Skipped:
              ! 3001: the account carrying employee ID 3001 (admin@contoso.com) is outside the managed scope
              ! 3002: the account carrying employee ID 3002 (partner@fabrikam.com) is outside the managed scope
              ! 3003: 2 live accounts carry employee ID 3003 (dup1@contoso.com, dup2@contoso.com); resolve the duplicate by hand

            Plan: 0 to create, 0 to change, 0 to remove, 3 skipped.
        "#]],
    );
}

#[test]
fn groups_that_cannot_be_written_are_diagnosed() {
    check(
        r#"
worker 4001 stage=active display=Ida loc=DE groups=eng,dyn-all,sales-dl,nowhere licences=E3,VISIO
user u41 upn=ida@contoso.com eid=4001 display=Ida loc=DE licences=sku-e3
tgroup g-dyn dyn-all kind=security dynamic
tgroup g-dl sales-dl kind=other
worker 4002 stage=active display=Jon licences=E3
user u42 upn=jon@contoso.com eid=4002 display=Jon
"#,
        expect![[r#"
            No changes: the tenant matches the desired state.

            Diagnostics:
              warning: tenant: group "dyn-all" has dynamic membership: memberships of 4001 skipped
              warning: tenant: group "eng" does not exist and the policy does not create it: memberships of 4001 skipped
              warning: tenant: group "nowhere" does not exist and no group rule describes it: memberships of 4001 skipped
              warning: tenant: group "sales-dl" is neither a security group nor a Microsoft 365 group (Exchange manages it): memberships of 4001 skipped
              warning: hr.csv: employee 4002: field "usageLocation": no usage location: licences E3 not assigned until one is set
              warning: tenant: licence "VISIO" is not subscribed in the tenant: not assigned to 4001

            Plan: 0 to create, 0 to change, 0 to remove, 0 skipped.
        "#]],
    );
}

#[test]
fn safety_limit_breach_names_the_limit_and_who() {
    let mut text = String::from(POLICY);
    for n in 0..30 {
        text.push_str(&format!("worker {} stage=terminated:2026-11-20 display=W{n}\n", 5000 + n));
        text.push_str(&format!("user u{n} upn=w{n}@contoso.com eid={} display=W{n}\n", 5000 + n));
    }
    for n in 30..120 {
        text.push_str(&format!("user u{n} upn=w{n}@contoso.com eid={}\n", 5000 + n));
    }
    let (desired, observed) = fixture(&text);
    let plan = plan(&desired, &observed, now());
    let limits = SafetyLimits {
        disables: Limit { max_count: Some(25), max_share: Some(0.10) },
        deletes: Limit { max_count: Some(0), max_share: None },
        license_removals: Limit::default(),
        membership_removals: Limit { max_count: Some(30), max_share: None },
    };
    let breaches: Vec<String> = check_limits(&plan, &limits).iter().map(ToString::to_string).collect();
    expect![[r#"
        [
            "safety limit \"disables\" exceeded: 30 accounts would be disabled, the limit is 12 (10% of 120 managed accounts): 5000, 5001, 5002, 5003, 5004, 5005, 5006, 5007, 5008, 5009, … (and 20 more)",
        ]
    "#]].assert_debug_eq(&breaches);
}

#[test]
fn plain_render_names_users_by_worker_and_object_id() {
    let (desired, observed) = fixture(&format!(
        "{POLICY}
worker 1001 stage=active names=ada display=Ada manager=1002 groups=all-staff
worker 1002 stage=active display=Bo
user u2 upn=bo@contoso.com eid=1002 display=Bo
"
    ));
    let plan = plan(&desired, &observed, now());
    expect![[r#"
        Tenure will perform the following 3 steps (1 managed account):

          + #1 create user ada@contoso.com (worker 1001)
              # because new hire (hr.csv)
          ~ #2 set manager of 1001 to u2 (after #1)
              # because manager is employee 1002 (hr.csv)
          + #3 add members to g-all: 1001 (after #1)
              # because rule "all-staff"

        Plan: 2 to create, 1 to change, 0 to remove, 0 skipped.
    "#]]
    .assert_eq(&render_text(&plan));
}

#[test]
fn empty_plan_renders_no_changes() {
    let (desired, observed) = fixture(POLICY);
    expect![[r#"
        No changes: the tenant matches the desired state.

        Plan: 0 to create, 0 to change, 0 to remove, 0 skipped.
    "#]]
    .assert_eq(&render_text(&plan(&desired, &observed, now())));
}

#[test]
fn json_render_round_trips() {
    let (desired, observed) = fixture(&format!("{POLICY}worker 1001 stage=active names=ada display=Ada\n"));
    let plan = plan(&desired, &observed, now());
    let json = planner::render_json(&plan);
    let back: model::Plan = serde_json::from_str(&json).expect("valid plan JSON");
    assert_eq!(back, plan);
    assert!(json.contains("\n  \"steps\": ["), "pretty-printed: {json}");
}
