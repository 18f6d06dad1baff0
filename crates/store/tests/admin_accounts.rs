//! Admin accounts and sessions of the web UI, each test run on SQLite and on PostgreSQL (`common::store_tests!`).

mod common;

use chrono::Duration;
use common::{TestDb, at};
use store::{Error, NewAdminSession};

const HASH_A: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA";
const HASH_B: &str = "$argon2id$v=19$m=19456,t=2,p=1$b3RoZXJzYWx0c2FsdA$b3RoZXJoYXNob3RoZXJoYXNob3RoZXJoYXNo";

fn session(id_hash: &str, account_id: i64, hours: i64) -> NewAdminSession {
    NewAdminSession {
        id_hash: id_hash.to_owned(),
        account_id,
        csrf_token: format!("csrf-{id_hash}"),
        created_at: at(8, 0),
        expires_at: at(8, 0) + Duration::hours(hours),
    }
}

async fn accounts_are_created_listed_and_unique(db: TestDb) {
    let store = &db.store;
    assert!(store.list_admin_accounts().await.unwrap().is_empty());
    assert_eq!(store.admin_account("alice").await.unwrap(), None);

    let alice = store.create_admin_account("alice", HASH_A, at(8, 0)).await.unwrap();
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.password_hash, HASH_A);
    assert_eq!(alice.created_at, at(8, 0));
    assert_eq!(store.admin_account("alice").await.unwrap(), Some(alice.clone()));
    assert!(!format!("{alice:?}").contains("argon2"), "Debug must not show the hash: {alice:?}");

    let error = store.create_admin_account("alice", HASH_B, at(9, 0)).await.unwrap_err();
    assert!(matches!(&error, Error::DuplicateAdminAccount { username } if username == "alice"), "{error:?}");
    assert_eq!(store.admin_account("alice").await.unwrap().unwrap().password_hash, HASH_A);

    // Names are compared exactly: a differently cased name is another account.
    store.create_admin_account("Bob", HASH_B, at(9, 0)).await.unwrap();
    assert_eq!(store.admin_account("bob").await.unwrap(), None);
    let names: Vec<String> = store.list_admin_accounts().await.unwrap().into_iter().map(|a| a.username).collect();
    assert_eq!(names, ["Bob", "alice"]);
}

async fn sessions_expire_and_end(db: TestDb) {
    let store = &db.store;
    let alice = store.create_admin_account("alice", HASH_A, at(8, 0)).await.unwrap();
    store.create_admin_session(&session("aaaa", alice.id, 12)).await.unwrap();
    store.create_admin_session(&session("bbbb", alice.id, 1)).await.unwrap();

    let live = store.admin_session("aaaa", at(9, 0)).await.unwrap().expect("live session");
    assert_eq!(live.username, "alice");
    assert_eq!(live.account_id, alice.id);
    assert_eq!(live.csrf_token, "csrf-aaaa");
    assert_eq!(live.expires_at, at(20, 0));
    assert!(!format!("{live:?}").contains("csrf-aaaa"), "Debug must not show the CSRF token: {live:?}");

    // Expiry is exclusive: at the expiry instant the session is gone.
    assert!(store.admin_session("bbbb", at(8, 59)).await.unwrap().is_some());
    assert_eq!(store.admin_session("bbbb", at(9, 0)).await.unwrap(), None);
    assert_eq!(store.admin_session("unknown", at(8, 30)).await.unwrap(), None);

    assert_eq!(store.purge_expired_admin_sessions(at(10, 0)).await.unwrap(), 1);
    assert_eq!(store.purge_expired_admin_sessions(at(10, 0)).await.unwrap(), 0);

    assert!(store.delete_admin_session("aaaa").await.unwrap());
    assert!(!store.delete_admin_session("aaaa").await.unwrap());
    assert_eq!(store.admin_session("aaaa", at(9, 0)).await.unwrap(), None);

    // A session for an account that does not exist is refused by the foreign key.
    assert!(store.create_admin_session(&session("cccc", alice.id + 1000, 1)).await.is_err());
}

async fn password_change_and_removal_end_sessions(db: TestDb) {
    let store = &db.store;
    let alice = store.create_admin_account("alice", HASH_A, at(8, 0)).await.unwrap();
    let bob = store.create_admin_account("bob", HASH_A, at(8, 0)).await.unwrap();
    store.create_admin_session(&session("alice-1", alice.id, 12)).await.unwrap();
    store.create_admin_session(&session("bob-1", bob.id, 12)).await.unwrap();

    assert!(store.set_admin_password("alice", HASH_B, at(9, 0)).await.unwrap());
    let changed = store.admin_account("alice").await.unwrap().unwrap();
    assert_eq!(changed.password_hash, HASH_B);
    assert_eq!(changed.updated_at, at(9, 0));
    assert_eq!(changed.created_at, at(8, 0));
    assert_eq!(store.admin_session("alice-1", at(9, 30)).await.unwrap(), None, "a new password signs out");
    assert!(store.admin_session("bob-1", at(9, 30)).await.unwrap().is_some(), "other accounts stay signed in");
    assert!(!store.set_admin_password("nobody", HASH_B, at(9, 0)).await.unwrap());

    assert!(store.delete_admin_account("bob").await.unwrap());
    assert!(!store.delete_admin_account("bob").await.unwrap());
    assert_eq!(store.admin_session("bob-1", at(9, 30)).await.unwrap(), None);
    assert_eq!(store.admin_account("bob").await.unwrap(), None);

    // Still there after reopening the database (a restarted server keeps its accounts).
    let reopened = db.reopen().await;
    assert_eq!(reopened.admin_account("alice").await.unwrap().unwrap().password_hash, HASH_B);
    reopened.close().await;
}

store_tests!(accounts_are_created_listed_and_unique, sessions_expire_and_end, password_change_and_removal_end_sessions);
