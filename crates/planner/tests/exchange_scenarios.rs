//! Snapshot tests of Exchange Online planning: joiners waiting for their mailbox, movers, the leaver's mailbox
//! sequence (and its guards), leaves and returns, rehires, list creation, and what is never touched. Each builds
//! its inputs from the fixture DSL in `common` and checks that a perfect apply converges.

mod common;

use common::{check_converging_plan, fixture, now};
use expect_test::{Expect, expect};
use planner::{check_limits, plan};

const POLICY: &str = "
policy managed=usageLocation skus=E3,E5,VISIO domains=contoso.com exclude=admin@contoso.com
sku sku-e3 E3 exchange
sku sku-e5 E5 exchange
sku sku-visio VISIO
list Sales kind=dl create owner=boss@contoso.com
list All-Staff kind=dl
sharedbox support@contoso.com
user u-admin upn=admin@contoso.com eid=1
mailbox u-admin
tlist All-Staff kind=dl members=u-admin
";

fn check(text: &str, expected: Expect) {
    check_converging_plan(&format!("{POLICY}{text}"), expected);
}

#[test]
fn joiner_waits_for_the_mailbox_its_licence_brings_then_joins_lists_and_gets_rights() {
    check(
        r#"
exchange
worker 1001 stage=prehire:2026-12-01 names=ada loc=GB licences=E3 lists=All-Staff,Sales shared=support@contoso.com:FullAccess+SendAs line=12
tshared support@contoso.com access=admin@contoso.com:FullAccess
"#,
        expect![[r#"
            Tenure will perform the following 8 steps (0 managed accounts):

              + #1 create user ada@contoso.com (worker 1001, disabled)
                  # because new hire starting 2026-12-01 (hr.csv:12)
              + #2 assign licences 1001: +E3 (after #1)
                  # because licence rule "E3" (hr.csv:12)
              + #3 exchange: create distribution list Sales, owner boss@contoso.com
                  # because a list rule puts workers on it and the policy may create it
              ~ #4 exchange: wait for the mailbox of ada@contoso.com (after #1, #2)
                  # because licence E3 brings a mailbox: its list and mailbox steps wait until Exchange has created it (hr.csv:12)
              + #5 exchange: add ada@contoso.com to list All-Staff (after #4)
                  # because list rule "All-Staff" (hr.csv:12)
              + #6 exchange: add ada@contoso.com to list Sales (after #3, #4)
                  # because list rule "Sales" (hr.csv:12)
              + #7 exchange: grant ada@contoso.com FullAccess on mailbox support@contoso.com (after #4)
                  # because shared mailbox rule "support@contoso.com" (hr.csv:12)
              + #8 exchange: grant ada@contoso.com SendAs on mailbox support@contoso.com (after #4)
                  # because shared mailbox rule "support@contoso.com" (hr.csv:12)

            Plan: 7 to create, 1 to change, 0 to remove, 0 skipped.
        "#]],
    );
}

#[test]
fn joiner_without_a_licence_that_brings_a_mailbox_gets_a_diagnostic() {
    check(
        r#"
exchange
worker 1002 stage=active names=bo loc=GB licences=VISIO lists=All-Staff
"#,
        expect![[r#"
            Tenure will perform the following 2 steps (0 managed accounts):

              + #1 create user bo@contoso.com (worker 1002)
                  # because new hire (hr.csv)
              + #2 assign licences 1002: +VISIO (after #1)
                  # because licence rule "VISIO" (hr.csv)

            Diagnostics:
              warning: tenant: no mailbox, and no licence that brings one: lists of 1002 skipped until they have one

            Plan: 2 to create, 0 to change, 0 to remove, 0 skipped.
        "#]],
    );
}

#[test]
fn mover_joins_and_leaves_lists_and_swaps_rights() {
    check(
        r#"
exchange
worker 1002 stage=active loc=GB licences=E3 lists=All-Staff shared=support@contoso.com:SendAs
user u2 upn=bo@contoso.com eid=1002 loc=GB licences=sku-e3
mailbox u2
tlist Sales kind=dl members=u2
tshared support@contoso.com access=bo@contoso.com:FullAccess,admin@contoso.com:FullAccess
"#,
        expect![[r#"
            Tenure will perform the following 4 steps (1 managed account):

              + #1 exchange: add bo@contoso.com to list All-Staff
                  # because list rule "All-Staff" (hr.csv)
              - #2 exchange: remove bo@contoso.com from list Sales
                  # because no list rule puts this worker on Sales any more (hr.csv)
              + #3 exchange: grant bo@contoso.com SendAs on mailbox support@contoso.com
                  # because shared mailbox rule "support@contoso.com" (hr.csv)
              - #4 exchange: revoke FullAccess of bo@contoso.com on mailbox support@contoso.com
                  # because no shared mailbox rule gives this worker FullAccess on support@contoso.com any more (hr.csv)

            Plan: 2 to create, 0 to change, 2 to remove, 0 skipped.
        "#]],
    );
}

const LEAVER: &str = r#"
exchange convert hide_leavers reply="Cy has left" grant=FullAccess delegates=it@contoso.com keep=Alumni
list Alumni kind=dl
worker 1000 stage=active loc=GB
user u0 upn=boss@contoso.com eid=1000 loc=GB
worker 1003 stage=terminated:2026-11-20 loc=GB manager=1000 lists=Sales,Alumni,All-Staff shared=support@contoso.com:FullAccess line=7
"#;

#[test]
fn leaver_mailbox_sequence_ends_with_the_licence_removal() {
    check(
        &format!(
            "{LEAVER}
user u3 upn=cy@contoso.com eid=1003 loc=GB licences=sku-e3 manager=u0
mailbox u3
tlist Sales kind=dl members=u3
tlist Alumni kind=dl members=u3
tshared support@contoso.com access=cy@contoso.com:FullAccess+SendAs
"
        ),
        expect![[r#"
            Tenure will perform the following 13 steps (2 managed accounts):

              ~ #1 disable account 1003
                  # because last working day 2026-11-20 passed (hr.csv:7)
              ~ #2 reset password of 1003 (after #1)
                  # because last working day 2026-11-20 passed (hr.csv:7)
              ~ #3 revoke sessions of 1003 (after #2)
                  # because last working day 2026-11-20 passed (hr.csv:7)
              - #4 exchange: remove cy@contoso.com from list Sales (after #3)
                  # because leaver: last working day 2026-11-20 passed; Sales is not in exchange.leaver.keep_memberships (hr.csv:7)
              - #5 exchange: revoke FullAccess of cy@contoso.com on mailbox support@contoso.com (after #3)
                  # because leaver: last working day 2026-11-20 passed; support@contoso.com is not in exchange.leaver.keep_memberships (hr.csv:7)
              - #6 exchange: revoke SendAs of cy@contoso.com on mailbox support@contoso.com (after #3)
                  # because leaver: last working day 2026-11-20 passed; support@contoso.com is not in exchange.leaver.keep_memberships (hr.csv:7)
              ~ #7 exchange: hide mailbox cy@contoso.com in the address lists (after #3, #4, #5, #6)
                  # because leaver: hide the mailbox from the address lists (policy exchange.leaver.hide_from_address_lists; hr.csv:7)
              ~ #8 exchange: set the auto-reply of cy@contoso.com: "Cy has left" (after #7)
                  # because leaver: tell senders the person has left (policy exchange.leaver.auto_reply; hr.csv:7)
              ~ #9 exchange: convert mailbox cy@contoso.com to a shared mailbox (after #8)
                  # because leaver: keep the mailbox without a licence (policy exchange.leaver.convert_to_shared; hr.csv:7)
              ~ #10 exchange: confirm mailbox cy@contoso.com is shared before its licences go (after #9)
                  # because leaver: the licences go only once Exchange reports the mailbox shared, so no mail is lost (hr.csv:7)
              + #11 exchange: grant boss@contoso.com FullAccess on mailbox cy@contoso.com (after #10)
                  # because leaver: their manager (employee 1000; policy exchange.leaver.grant_rights) takes over the mailbox (hr.csv:7)
              + #12 exchange: grant it@contoso.com FullAccess on mailbox cy@contoso.com (after #11)
                  # because leaver: delegate it@contoso.com (policy exchange.leaver.delegates) takes over the mailbox (hr.csv:7)
              - #13 assign licences 1003: -E3 (after #3, #12)
                  # because leaver: last working day 2026-11-20 passed (hr.csv:7)

            Plan: 2 to create, 7 to change, 4 to remove, 0 skipped.
        "#]],
    );
}

#[test]
fn settled_leaver_gets_nothing_more() {
    check(
        &format!(
            "{LEAVER}
user u3 upn=cy@contoso.com eid=1003 loc=GB disabled manager=u0
mailbox u3 shared hidden access=boss@contoso.com:FullAccess,it@contoso.com:FullAccess
tlist Alumni kind=dl members=u3
"
        ),
        expect![[r#"
            No changes: the tenant matches the desired state.

            Plan: 0 to create, 0 to change, 0 to remove, 0 skipped.
        "#]],
    );
}

#[test]
fn leaver_without_a_mailbox_gets_the_plain_sequence() {
    check(
        &format!(
            "{LEAVER}
user u3 upn=cy@contoso.com eid=1003 loc=GB licences=sku-e3 manager=u0
"
        ),
        expect![[r#"
            Tenure will perform the following 4 steps (2 managed accounts):

              ~ #1 disable account 1003
                  # because last working day 2026-11-20 passed (hr.csv:7)
              ~ #2 reset password of 1003 (after #1)
                  # because last working day 2026-11-20 passed (hr.csv:7)
              ~ #3 revoke sessions of 1003 (after #2)
                  # because last working day 2026-11-20 passed (hr.csv:7)
              - #4 assign licences 1003: -E3 (after #3)
                  # because leaver: last working day 2026-11-20 passed (hr.csv:7)

            Plan: 0 to create, 3 to change, 1 to remove, 0 skipped.
        "#]],
    );
}

#[test]
fn leaver_whose_manager_has_no_account_shares_with_the_delegates_only() {
    check(
        r#"
exchange convert grant=FullAccess,SendAs delegates=it@contoso.com
worker 1003 stage=terminated:2026-11-20 loc=GB manager=4040
user u3 upn=cy@contoso.com eid=1003 loc=GB licences=sku-e3,sku-visio disabled
mailbox u3 access=it@contoso.com:SendAs
"#,
        expect![[r#"
            Tenure will perform the following 4 steps (1 managed account):

              ~ #1 exchange: convert mailbox cy@contoso.com to a shared mailbox
                  # because leaver: keep the mailbox without a licence (policy exchange.leaver.convert_to_shared; hr.csv)
              ~ #2 exchange: confirm mailbox cy@contoso.com is shared before its licences go (after #1)
                  # because leaver: the licences go only once Exchange reports the mailbox shared, so no mail is lost (hr.csv)
              + #3 exchange: grant it@contoso.com FullAccess on mailbox cy@contoso.com (after #2)
                  # because leaver: delegate it@contoso.com (policy exchange.leaver.delegates) takes over the mailbox (hr.csv)
              - #4 assign licences 1003: -E3 -VISIO (after #3)
                  # because leaver: last working day 2026-11-20 passed (hr.csv)

            Diagnostics:
              warning: hr.csv: employee 1003: the manager (employee 4040) has no account Tenure can find: the mailbox is shared with the delegates only

            Plan: 1 to create, 2 to change, 1 to remove, 0 skipped.
        "#]],
    );
}

#[test]
fn without_an_exchange_connection_leavers_keep_their_licences() {
    check(
        r#"
exchange convert hide_leavers grant=FullAccess offline
worker 1003 stage=terminated:2026-11-20 loc=GB lists=Sales line=7
user u3 upn=cy@contoso.com eid=1003 loc=GB licences=sku-e3
worker 1001 stage=active names=ada loc=GB licences=E3 lists=All-Staff
"#,
        expect![[r#"
            Tenure will perform the following 5 steps (1 managed account):

              + #1 create user ada@contoso.com (worker 1001)
                  # because new hire (hr.csv)
              + #2 assign licences 1001: +E3 (after #1)
                  # because licence rule "E3" (hr.csv)
              ~ #3 disable account 1003
                  # because last working day 2026-11-20 passed (hr.csv:7)
              ~ #4 reset password of 1003 (after #3)
                  # because last working day 2026-11-20 passed (hr.csv:7)
              ~ #5 revoke sessions of 1003 (after #4)
                  # because last working day 2026-11-20 passed (hr.csv:7)

            Diagnostics:
              warning: tenant: Exchange is enabled in the policy but no Exchange connection is configured (add one, or set exchange.enabled = false): no Exchange step is planned
              warning: hr.csv:7: employee 1003: licences E3 kept: the licence removal waits until the mailbox is converted to a shared mailbox, and there is no Exchange connection to convert it

            Plan: 2 to create, 3 to change, 0 to remove, 0 skipped.
        "#]],
    );
}

#[test]
fn a_disabling_leave_hides_the_mailbox_and_the_return_shows_it() {
    check(
        r#"
exchange hide_leave leave_drops_lists
worker 1004 stage=leave loc=GB licences=E3 lists=Sales
user u4 upn=di@contoso.com eid=1004 loc=GB licences=sku-e3
mailbox u4
tlist Sales kind=dl members=u4
worker 1005 stage=active loc=GB licences=E3 lists=Sales
user u5 upn=ed@contoso.com eid=1005 loc=GB licences=sku-e3 disabled
mailbox u5 hidden
"#,
        expect![[r#"
            Tenure will perform the following 6 steps (2 managed accounts):

              ~ #1 disable account 1004
                  # because on leave (sabbatical), disabled during leave (hr.csv)
              ~ #2 enable account 1005
                  # because active worker (hr.csv)
              ~ #3 exchange: hide mailbox di@contoso.com in the address lists
                  # because on leave (sabbatical), disabled during leave: hide the mailbox from the address lists (policy exchange.leave.hide_from_address_lists; hr.csv)
              - #4 exchange: remove di@contoso.com from list Sales
                  # because on leave (sabbatical), disabled during leave: no list rule puts this worker on Sales during the leave (hr.csv)
              ~ #5 exchange: show mailbox ed@contoso.com in the address lists
                  # because active worker: show the mailbox in the address lists again (hr.csv)
              + #6 exchange: add ed@contoso.com to list Sales
                  # because list rule "Sales" (hr.csv)

            Plan: 1 to create, 4 to change, 1 to remove, 0 skipped.
        "#]],
    );
}

#[test]
fn rehire_gets_licences_then_the_mailbox_back() {
    check(
        r#"
exchange convert hide_leavers reply="Fay has left" grant=FullAccess
worker 1006 stage=active loc=DE licences=E3 lists=All-Staff
user u6 upn=fay@contoso.com eid=1006 loc=DE disabled
mailbox u6 shared hidden access=boss@contoso.com:FullAccess
worker 1013 stage=active loc=DE licences=VISIO
user u13 upn=max@contoso.com eid=1013 loc=DE
mailbox u13 shared
"#,
        expect![[r#"
            Tenure will perform the following 7 steps (2 managed accounts):

              ~ #1 enable account 1006
                  # because active worker (hr.csv)
              + #2 assign licences 1006: +E3
                  # because licence rule "E3" (hr.csv)
              + #3 assign licences 1013: +VISIO
                  # because licence rule "VISIO" (hr.csv)
              ~ #4 exchange: convert mailbox fay@contoso.com to a regular mailbox (after #2)
                  # because rehire: the shared mailbox kept since leaving becomes the worker's own again (hr.csv)
              ~ #5 exchange: turn off the auto-reply of fay@contoso.com (after #4)
                  # because rehire: turn off the automatic replies set when the worker left (hr.csv)
              ~ #6 exchange: show mailbox fay@contoso.com in the address lists (after #4)
                  # because active worker: show the mailbox in the address lists again (hr.csv)
              + #7 exchange: add fay@contoso.com to list All-Staff (after #4)
                  # because list rule "All-Staff" (hr.csv)

            Diagnostics:
              warning: hr.csv: employee 1013: the mailbox stays a shared mailbox: no licence rule gives this worker a licence that brings a mailbox

            Plan: 3 to create, 4 to change, 0 to remove, 0 skipped.
        "#]],
    );
}

#[test]
fn accounts_whose_mailbox_is_kept_for_good_are_not_deleted() {
    check(
        r#"
exchange convert
worker 1007 stage=delete:2026-10-01 loc=GB
user u7 upn=gil@contoso.com eid=1007 loc=GB licences=sku-e3
mailbox u7
worker 1008 stage=delete:2026-10-01 loc=GB
user u8 upn=hal@contoso.com eid=1008 loc=GB licences=sku-e3 disabled
"#,
        expect![[r#"
            Tenure will perform the following 8 steps (2 managed accounts):

              ~ #1 disable account 1007
                  # because last working day 2026-10-01 passed and the retention period is over (hr.csv)
              ~ #2 reset password of 1007 (after #1)
                  # because last working day 2026-10-01 passed and the retention period is over (hr.csv)
              ~ #3 revoke sessions of 1007 (after #2)
                  # because last working day 2026-10-01 passed and the retention period is over (hr.csv)
              ~ #4 exchange: convert mailbox gil@contoso.com to a shared mailbox (after #3)
                  # because leaver: keep the mailbox without a licence (policy exchange.leaver.convert_to_shared; hr.csv)
              ~ #5 exchange: confirm mailbox gil@contoso.com is shared before its licences go (after #4)
                  # because leaver: the licences go only once Exchange reports the mailbox shared, so no mail is lost (hr.csv)
              - #6 assign licences 1007: -E3 (after #3, #5)
                  # because leaver: last working day 2026-10-01 passed and the retention period is over (hr.csv)
              - #7 assign licences 1008: -E3
                  # because leaver: last working day 2026-10-01 passed and the retention period is over (hr.csv)
              - #8 delete user 1008 (after #7)
                  # because last working day 2026-10-01 passed and the retention period is over (hr.csv)

            Diagnostics:
              warning: hr.csv: employee 1007: account not deleted: its mailbox is kept as a shared mailbox (exchange.leaver.convert_to_shared) and exchange.leaver.delete_after_days is not set, so deleting the account would delete the mailbox

            Plan: 0 to create, 5 to change, 3 to remove, 0 skipped.
        "#]],
    );
}

#[test]
fn missing_lists_are_created_when_the_policy_may_and_diagnosed_otherwise() {
    check(
        r#"
exchange
list Secret kind=security
worker 1009 stage=active loc=GB licences=E3 lists=All-Staff,Sales,Secret
user u9 upn=ivy@contoso.com eid=1009 loc=GB licences=sku-e3
mailbox u9
worker 1010 stage=active loc=GB licences=E3 lists=Sales shared=ghost@contoso.com:FullAccess
user u10 upn=jo@contoso.com eid=1010 loc=GB licences=sku-e3
mailbox u10
"#,
        expect![[r#"
            Tenure will perform the following 4 steps (2 managed accounts):

              + #1 exchange: create distribution list Sales, owner boss@contoso.com
                  # because a list rule puts workers on it and the policy may create it
              + #2 exchange: add ivy@contoso.com to list All-Staff
                  # because list rule "All-Staff" (hr.csv)
              + #3 exchange: add ivy@contoso.com to list Sales (after #1)
                  # because list rule "Sales" (hr.csv)
              + #4 exchange: add jo@contoso.com to list Sales (after #1)
                  # because list rule "Sales" (hr.csv)

            Diagnostics:
              warning: tenant: shared mailbox "ghost@contoso.com" does not exist: rights of 1010 skipped
              warning: tenant: list "Secret" does not exist and the policy does not create it: memberships of 1009 skipped

            Plan: 4 to create, 0 to change, 0 to remove, 0 skipped.
        "#]],
    );
}

#[test]
fn users_that_are_not_subjects_are_never_touched() {
    check(
        r#"
exchange convert hide_leavers grant=FullAccess
worker 1011 stage=terminated:2026-11-20 loc=GB
user u-ext upn=kim@fabrikam.com eid=1011 loc=GB licences=sku-e3
mailbox u-ext
user u-x upn=stranger@contoso.com loc=GB licences=sku-e3
mailbox u-x hidden
tlist Sales kind=dl members=u-ext,u-x
tshared support@contoso.com access=stranger@contoso.com:FullAccess,kim@fabrikam.com:SendAs
worker 1012 stage=active loc=GB licences=E3 exskip
user u12 upn=lee@contoso.com eid=1012 loc=GB licences=sku-e3
mailbox u12
tlist All-Staff kind=dl members=u-admin,u12
"#,
        expect![[r#"
            No changes: the tenant matches the desired state.

            Skipped:
              ! 1011: the account carrying employee ID 1011 (kim@fabrikam.com) is outside the managed scope

            Plan: 0 to create, 0 to change, 0 to remove, 1 skipped.
        "#]],
    );
}

#[test]
fn list_and_shared_mailbox_removals_count_toward_the_membership_limit() {
    let (desired, observed) = fixture(&format!(
        "{POLICY}
exchange
worker 1002 stage=active loc=GB licences=E3 lists=All-Staff
user u2 upn=bo@contoso.com eid=1002 loc=GB licences=sku-e3
mailbox u2
tlist All-Staff kind=dl members=u-admin,u2
tlist Sales kind=dl members=u2
tshared support@contoso.com access=bo@contoso.com:FullAccess+SendAs
"
    ));
    let plan = plan(&desired, &observed, now());
    let limits = model::SafetyLimits {
        membership_removals: model::Limit { max_count: Some(2), max_share: None },
        ..model::SafetyLimits::default()
    };
    let breaches: Vec<String> = check_limits(&plan, &limits).iter().map(ToString::to_string).collect();
    assert_eq!(
        breaches,
        [
            "safety limit \"membership_removals\" exceeded: 3 group, list or shared-mailbox memberships would be removed, \
          the limit is 2: 1002"
        ]
    );
}

#[test]
fn a_leavers_new_manager_gets_the_mailbox_only_once_their_own_mailbox_exists() {
    check(
        r#"
exchange convert grant=FullAccess
worker 1000 stage=active names=max loc=GB licences=E3
worker 1003 stage=terminated:2026-11-20 loc=GB manager=1000 line=7
user u3 upn=cy@contoso.com eid=1003 loc=GB licences=sku-e3
mailbox u3
"#,
        expect![[r#"
            Tenure will perform the following 11 steps (1 managed account):

              + #1 create user max@contoso.com (worker 1000)
                  # because new hire (hr.csv)
              ~ #2 set manager of 1003 to 1000 (after #1)
                  # because manager is employee 1000 (hr.csv:7)
              + #3 assign licences 1000: +E3 (after #1)
                  # because licence rule "E3" (hr.csv)
              ~ #4 exchange: wait for the mailbox of max@contoso.com (after #1, #3)
                  # because licence E3 brings a mailbox: its list and mailbox steps wait until Exchange has created it (hr.csv)
              ~ #5 disable account 1003
                  # because last working day 2026-11-20 passed (hr.csv:7)
              ~ #6 reset password of 1003 (after #5)
                  # because last working day 2026-11-20 passed (hr.csv:7)
              ~ #7 revoke sessions of 1003 (after #6)
                  # because last working day 2026-11-20 passed (hr.csv:7)
              ~ #8 exchange: convert mailbox cy@contoso.com to a shared mailbox (after #7)
                  # because leaver: keep the mailbox without a licence (policy exchange.leaver.convert_to_shared; hr.csv:7)
              ~ #9 exchange: confirm mailbox cy@contoso.com is shared before its licences go (after #8)
                  # because leaver: the licences go only once Exchange reports the mailbox shared, so no mail is lost (hr.csv:7)
              + #10 exchange: grant max@contoso.com FullAccess on mailbox cy@contoso.com (after #4, #9)
                  # because leaver: their manager (employee 1000; policy exchange.leaver.grant_rights) takes over the mailbox (hr.csv:7)
              - #11 assign licences 1003: -E3 (after #7, #10)
                  # because leaver: last working day 2026-11-20 passed (hr.csv:7)

            Plan: 3 to create, 7 to change, 1 to remove, 0 skipped.
        "#]],
    );
}
