//! `tenure demo` — the README's main command — runs the whole story against its in-process sandbox: both syncs
//! succeed without a failed step, and planning again after each gives an empty plan.

use std::process::Command;

#[test]
fn the_demo_syncs_twice_and_converges_each_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_tenure"))
        .args(["demo", "--dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .output()
        .expect("tenure demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "tenure demo failed:\n{stderr}\n{stdout}");
    assert!(stdout.contains("Run 1: succeeded") && stdout.contains("Run 2: succeeded"), "{stdout}");
    assert!(!stdout.contains("failed:"), "{stdout}");
    assert_eq!(stdout.matches("No changes: the tenant matches the desired state.").count(), 2, "{stdout}");
    // The story's landmarks: the rehire is restored (not recreated), the name collision gets a number, the
    // contractor's account is kept under the new employee ID, a leaver past retention is deleted, and a leaver's
    // mailbox is converted, confirmed shared and handed to the manager before the licence goes — as read back.
    for landmark in [
        "restore deleted user lucia.fernandez@contoso.com (worker 100033)",
        "create user john.smith2@contoso.com (worker 100307",
        "employeeId \"900007\" → \"100313\"",
        "delete user 100101",
        "exchange: convert mailbox henrik.dahl@contoso.com to a shared mailbox",
        "exchange: confirm mailbox henrik.dahl@contoso.com is shared before its licences go",
        "exchange: grant hakan.wahlin@contoso.com FullAccess on mailbox henrik.dahl@contoso.com",
        "Leaver's mailbox henrik.dahl@contoso.com (read back from Exchange Online):\n  type      SharedMailbox",
        "access    hakan.wahlin@contoso.com FullAccess",
    ] {
        assert!(stdout.contains(landmark), "missing {landmark:?} in:\n{stdout}");
    }
    assert!(dir.path().join("tenure.db").exists(), "the store is kept");
}
