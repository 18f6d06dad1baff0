//! Connections, their sealed secrets, certificates and OAuth states, on SQLite and PostgreSQL: names are unique,
//! deleting a connection takes everything of it along, the refresh-token compare-and-swap and the single-use
//! OAuth state hold under concurrent callers, and key rotation's list-and-rewrite covers every sealed value.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::TestDb;
use model::NationalCloud;
use store::{
    CertificateRecord, ConnectionAuth, ConnectionId, ConnectionKind, ConnectionStatus, Error, NewConnection,
    OAuthPurpose, OAuthState, SecretRow, Store, StoredSecret,
};

store_tests!(
    connections_are_created_listed_by_name_and_unique,
    status_link_and_test_are_recorded,
    deleting_a_connection_takes_its_secrets_certificates_and_states,
    secrets_are_upserted_read_and_deleted,
    replace_secret_if_lets_exactly_one_of_two_writers_win,
    certificates_are_newest_first_with_one_active,
    an_oauth_state_is_taken_once_even_by_concurrent_callbacks,
    expired_oauth_states_are_purged,
    list_and_rekey_cover_connection_secrets_and_state_verifiers,
    rekey_if_skips_secrets_rotated_meanwhile,
);

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, minute, 0).unwrap()
}

fn delegated(name: &str) -> NewConnection {
    NewConnection {
        name: name.to_owned(),
        kind: ConnectionKind::EntraDelegated,
        auth: ConnectionAuth::Delegated,
        cloud: NationalCloud::Global,
        tenant_id: None,
        client_id: None,
    }
}

fn sealed(key_id: &str, ciphertext: &str) -> StoredSecret {
    StoredSecret { key_id: key_id.to_owned(), ciphertext: ciphertext.to_owned() }
}

fn certificate(connection: ConnectionId, sha1: &str, created_minute: u32, active: bool) -> CertificateRecord {
    CertificateRecord {
        connection_id: connection,
        sha1_thumbprint: sha1.to_owned(),
        sha256_thumbprint: format!("{sha1}-s256"),
        certificate_pem: format!("-----BEGIN CERTIFICATE-----\n{sha1}\n-----END CERTIFICATE-----\n"),
        not_before: at(created_minute),
        not_after: at(created_minute) + Duration::days(365),
        active,
        created_at: at(created_minute),
    }
}

fn state(hash: &str, connection: ConnectionId, verifier: Option<StoredSecret>, expires: DateTime<Utc>) -> OAuthState {
    OAuthState {
        state_hash: hash.to_owned(),
        connection_id: connection,
        purpose: if verifier.is_some() { OAuthPurpose::Link } else { OAuthPurpose::AdminConsent },
        session_binding: "session-hash".to_owned(),
        verifier,
        redirect_uri: "https://tenure.example.com/oauth/callback".to_owned(),
        expires_at: expires,
    }
}

async fn connections_are_created_listed_by_name_and_unique(db: TestDb) {
    let store = &db.store;
    let app = NewConnection {
        name: "contoso-app".to_owned(),
        kind: ConnectionKind::EntraApp,
        auth: ConnectionAuth::Certificate,
        cloud: NationalCloud::UsGovHigh,
        tenant_id: Some("11111111-2222-3333-4444-555555555555".to_owned()),
        client_id: Some("66666666-7777-8888-9999-000000000000".to_owned()),
    };
    let created = store.create_connection(&app, at(1) + Duration::nanoseconds(1_234_567)).await.unwrap();
    assert_eq!(created.status, ConnectionStatus::NotLinked);
    assert!(created.granted_permissions.is_empty() && created.linked_by.is_none() && created.last_test.is_none());
    let loaded = store.connection(created.id).await.unwrap().unwrap();
    assert_eq!(loaded, created, "what create returns is what is stored (microsecond timestamps)");
    assert_eq!(loaded.cloud, NationalCloud::UsGovHigh);
    assert_eq!(loaded.auth, ConnectionAuth::Certificate);
    assert_eq!(store.connection_by_name("contoso-app").await.unwrap().unwrap().id, created.id);

    let second = store.create_connection(&delegated("adatum"), at(2)).await.unwrap();
    assert_ne!(second.id, created.id);
    let names: Vec<String> = store.list_connections().await.unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["adatum", "contoso-app"]);

    let duplicate = store.create_connection(&delegated("contoso-app"), at(3)).await.unwrap_err();
    assert!(matches!(&duplicate, Error::DuplicateConnectionName { name } if name == "contoso-app"), "{duplicate:?}");
    assert!(duplicate.to_string().contains("a connection named \"contoso-app\" already exists"), "{duplicate}");
    assert_eq!(store.list_connections().await.unwrap().len(), 2, "the duplicate was not stored");

    assert!(store.connection(ConnectionId(9_999)).await.unwrap().is_none());
    assert!(store.connection_by_name("nobody").await.unwrap().is_none());
}

async fn status_link_and_test_are_recorded(db: TestDb) {
    let store = &db.store;
    let id = store.create_connection(&delegated("contoso"), at(1)).await.unwrap().id;

    store
        .set_connection_status(id, ConnectionStatus::WaitingAdminApproval, Some("an admin must approve"), at(2))
        .await
        .unwrap();
    let waiting = store.connection(id).await.unwrap().unwrap();
    assert_eq!(waiting.status, ConnectionStatus::WaitingAdminApproval);
    assert_eq!(waiting.status_reason.as_deref(), Some("an admin must approve"));
    assert_eq!(waiting.updated_at, at(2));

    let granted = vec!["User.ReadWrite.All".to_owned(), "Group.ReadWrite.All".to_owned()];
    store.record_link(id, "admin@contoso.com", &granted, Some("tenant-guid"), at(3)).await.unwrap();
    let linked = store.connection(id).await.unwrap().unwrap();
    assert_eq!(linked.status, ConnectionStatus::Connected);
    assert_eq!(linked.status_reason, None, "linking clears the reason");
    assert_eq!(linked.linked_by.as_deref(), Some("admin@contoso.com"));
    assert_eq!(linked.linked_at, Some(at(3)));
    assert_eq!(linked.granted_permissions, granted);
    assert_eq!(linked.tenant_id.as_deref(), Some("tenant-guid"));

    // Re-linking without a tenant id keeps the known one.
    store.record_link(id, "other@contoso.com", &[], None, at(4)).await.unwrap();
    let relinked = store.connection(id).await.unwrap().unwrap();
    assert_eq!(relinked.tenant_id.as_deref(), Some("tenant-guid"));
    assert!(relinked.granted_permissions.is_empty());

    store.record_connection_test(id, r#"{"passed":true}"#, at(5)).await.unwrap();
    assert_eq!(store.connection(id).await.unwrap().unwrap().last_test.as_deref(), Some(r#"{"passed":true}"#));

    store.set_connection_status(id, ConnectionStatus::NeedsRelink, Some("AADSTS70000: revoked"), at(6)).await.unwrap();
    assert_eq!(store.connection(id).await.unwrap().unwrap().status, ConnectionStatus::NeedsRelink);

    let missing = ConnectionId(id.0 + 100);
    for error in [
        store.set_connection_status(missing, ConnectionStatus::Connected, None, at(7)).await.unwrap_err(),
        store.record_link(missing, "x", &[], None, at(7)).await.unwrap_err(),
        store.record_connection_test(missing, "{}", at(7)).await.unwrap_err(),
    ] {
        assert!(matches!(error, Error::ConnectionNotFound { connection, .. } if connection == missing), "{error:?}");
    }
}

async fn deleting_a_connection_takes_its_secrets_certificates_and_states(db: TestDb) {
    let store = &db.store;
    let doomed = store.create_connection(&delegated("doomed"), at(1)).await.unwrap().id;
    let kept = store.create_connection(&delegated("kept"), at(1)).await.unwrap().id;
    for id in [doomed, kept] {
        store.put_secret(id, "refresh_token", &sealed("k1", &format!("rt-{id}")), at(2)).await.unwrap();
        store.add_certificate(&certificate(id, &format!("AB{id}"), 2, true)).await.unwrap();
        let verifier = Some(sealed("k1", &format!("verifier-{id}")));
        store.save_oauth_state(&state(&format!("state-{id}"), id, verifier, at(30))).await.unwrap();
    }

    assert!(store.delete_connection(doomed).await.unwrap());
    assert!(store.connection(doomed).await.unwrap().is_none());
    assert!(store.secret(doomed, "refresh_token").await.unwrap().is_none());
    assert!(store.certificates(doomed).await.unwrap().is_empty());
    assert!(store.take_oauth_state(&format!("state-{doomed}")).await.unwrap().is_none());
    assert!(!store.delete_connection(doomed).await.unwrap(), "already gone");

    assert_eq!(store.secret(kept, "refresh_token").await.unwrap(), Some(sealed("k1", &format!("rt-{kept}"))));
    assert_eq!(store.certificates(kept).await.unwrap().len(), 1);
    assert!(store.take_oauth_state(&format!("state-{kept}")).await.unwrap().is_some());

    // The name is free again.
    store.create_connection(&delegated("doomed"), at(3)).await.unwrap();
}

async fn secrets_are_upserted_read_and_deleted(db: TestDb) {
    let store = &db.store;
    let id = store.create_connection(&delegated("contoso"), at(1)).await.unwrap().id;
    assert!(store.secret(id, "client_secret").await.unwrap().is_none());
    store.put_secret(id, "client_secret", &sealed("k1", "first"), at(2)).await.unwrap();
    store.put_secret(id, "client_secret", &sealed("k2", "second"), at(3)).await.unwrap();
    store.put_secret(id, "private_key:ABCD", &sealed("k2", "key"), at(3)).await.unwrap();
    assert_eq!(store.secret(id, "client_secret").await.unwrap(), Some(sealed("k2", "second")));
    assert_eq!(store.secret(id, "private_key:ABCD").await.unwrap(), Some(sealed("k2", "key")));

    store.delete_secret(id, "client_secret").await.unwrap();
    store.delete_secret(id, "client_secret").await.unwrap();
    assert!(store.secret(id, "client_secret").await.unwrap().is_none());
    assert!(store.secret(id, "private_key:ABCD").await.unwrap().is_some());

    let missing = ConnectionId(id.0 + 100);
    let error = store.put_secret(missing, "client_secret", &sealed("k1", "x"), at(4)).await.unwrap_err();
    assert!(matches!(error, Error::ConnectionNotFound { connection, .. } if connection == missing), "{error:?}");
    for reserved in ["oauth_state:abc", ""] {
        let error = store.put_secret(id, reserved, &sealed("k1", "x"), at(4)).await.unwrap_err();
        assert!(matches!(error, Error::ReservedSecretPurpose { .. }), "{error:?}");
    }
}

async fn replace_secret_if_lets_exactly_one_of_two_writers_win(db: TestDb) {
    let store = &db.store;
    let id = store.create_connection(&delegated("contoso"), at(1)).await.unwrap().id;
    store.put_secret(id, "refresh_token", &sealed("k1", "rt-0"), at(2)).await.unwrap();

    // Sequentially: a stale expectation loses.
    assert!(store.replace_secret_if(id, "refresh_token", "rt-0", &sealed("k1", "rt-1"), at(3)).await.unwrap());
    assert!(!store.replace_secret_if(id, "refresh_token", "rt-0", &sealed("k1", "rt-x"), at(3)).await.unwrap());
    assert_eq!(store.secret(id, "refresh_token").await.unwrap(), Some(sealed("k1", "rt-1")));
    assert!(!store.replace_secret_if(id, "nothing_here", "rt-1", &sealed("k1", "y"), at(3)).await.unwrap());

    // Concurrently, over many rounds: both writers expect the same ciphertext; exactly one wins each round.
    let mut current = "rt-1".to_owned();
    for round in 0..25 {
        let writers: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|writer| {
                let store = store.clone();
                let expected = current.clone();
                let new = sealed("k1", &format!("rt-{round}-{writer}"));
                tokio::spawn(async move {
                    let won = store.replace_secret_if(id, "refresh_token", &expected, &new, at(4)).await.unwrap();
                    (won, new.ciphertext)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for writer in writers {
            let (won, ciphertext) = writer.await.unwrap();
            if won {
                winners.push(ciphertext);
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: exactly one writer wins, got {winners:?}");
        current = winners.remove(0);
        assert_eq!(store.secret(id, "refresh_token").await.unwrap().unwrap().ciphertext, current);
    }
}

async fn certificates_are_newest_first_with_one_active(db: TestDb) {
    let store = &db.store;
    let id = store.create_connection(&delegated("contoso"), at(1)).await.unwrap().id;
    let other = store.create_connection(&delegated("other"), at(1)).await.unwrap().id;
    store.add_certificate(&certificate(other, "OTHER", 1, true)).await.unwrap();
    store.add_certificate(&certificate(id, "OLD", 2, true)).await.unwrap();
    store.add_certificate(&certificate(id, "NEW", 5, false)).await.unwrap();

    let listed = store.certificates(id).await.unwrap();
    let order: Vec<(&str, bool)> = listed.iter().map(|c| (c.sha1_thumbprint.as_str(), c.active)).collect();
    assert_eq!(order, [("NEW", false), ("OLD", true)]);
    assert_eq!(listed[1], certificate(id, "OLD", 2, true), "stored as given");

    store.activate_certificate(id, "NEW").await.unwrap();
    let order: Vec<(String, bool)> =
        store.certificates(id).await.unwrap().into_iter().map(|c| (c.sha1_thumbprint, c.active)).collect();
    assert_eq!(order, [("NEW".to_owned(), true), ("OLD".to_owned(), false)]);

    // Adding an active certificate deactivates the others; other connections are untouched.
    store.add_certificate(&certificate(id, "NEWEST", 9, true)).await.unwrap();
    let active: Vec<String> =
        store.certificates(id).await.unwrap().into_iter().filter(|c| c.active).map(|c| c.sha1_thumbprint).collect();
    assert_eq!(active, ["NEWEST"]);
    assert!(store.certificates(other).await.unwrap()[0].active);

    let error = store.add_certificate(&certificate(id, "OLD", 10, false)).await.unwrap_err();
    assert!(matches!(&error, Error::DuplicateCertificate { sha1_thumbprint, .. } if sha1_thumbprint == "OLD"));
    let error = store.activate_certificate(id, "MISSING").await.unwrap_err();
    assert!(error.to_string().contains("has no certificate with sha-1 thumbprint MISSING"), "{error}");
    let active_after_failure = store.certificates(id).await.unwrap().into_iter().filter(|c| c.active).count();
    assert_eq!(active_after_failure, 1, "a failed activation rolls back");
    let error = store.add_certificate(&certificate(ConnectionId(other.0 + 100), "X", 1, false)).await.unwrap_err();
    assert!(matches!(error, Error::ConnectionNotFound { .. }), "{error:?}");

    store.remove_certificate(id, "OLD").await.unwrap();
    assert!(store.remove_certificate(id, "OLD").await.is_err());
    assert_eq!(store.certificates(id).await.unwrap().len(), 2);
}

async fn an_oauth_state_is_taken_once_even_by_concurrent_callbacks(db: TestDb) {
    let store = &db.store;
    let id = store.create_connection(&delegated("contoso"), at(1)).await.unwrap().id;
    let saved = state("hash-1", id, Some(sealed("k1", "verifier")), at(20));
    store.save_oauth_state(&saved).await.unwrap();
    let consent = state("hash-2", id, None, at(20));
    store.save_oauth_state(&consent).await.unwrap();
    assert!(store.save_oauth_state(&saved).await.is_err(), "a state hash is saved once");
    let missing = ConnectionId(id.0 + 100);
    let error = store.save_oauth_state(&state("hash-3", missing, None, at(20))).await.unwrap_err();
    assert!(matches!(error, Error::ConnectionNotFound { .. }), "{error:?}");

    assert_eq!(store.take_oauth_state("hash-1").await.unwrap(), Some(saved));
    assert_eq!(store.take_oauth_state("hash-1").await.unwrap(), None, "a replay finds nothing");
    assert_eq!(store.take_oauth_state("hash-2").await.unwrap(), Some(consent));
    assert_eq!(store.take_oauth_state("forged").await.unwrap(), None);

    // Concurrent callbacks with the same state: exactly one gets it, every round.
    for round in 0..20 {
        let hash = format!("race-{round}");
        store.save_oauth_state(&state(&hash, id, Some(sealed("k1", "v")), at(20))).await.unwrap();
        let takers: Vec<_> = (0..6)
            .map(|_| {
                let store: Store = store.clone();
                let hash = hash.clone();
                tokio::spawn(async move { store.take_oauth_state(&hash).await.unwrap() })
            })
            .collect();
        let mut taken = 0;
        for taker in takers {
            if let Some(state) = taker.await.unwrap() {
                assert_eq!(state.state_hash, hash);
                taken += 1;
            }
        }
        assert_eq!(taken, 1, "round {round}");
    }
}

async fn expired_oauth_states_are_purged(db: TestDb) {
    let store = &db.store;
    let id = store.create_connection(&delegated("contoso"), at(1)).await.unwrap().id;
    store.save_oauth_state(&state("early", id, None, at(10))).await.unwrap();
    store.save_oauth_state(&state("exact", id, None, at(20))).await.unwrap();
    store.save_oauth_state(&state("late", id, None, at(30))).await.unwrap();
    assert_eq!(store.purge_expired_oauth_states(at(20)).await.unwrap(), 2);
    assert_eq!(store.purge_expired_oauth_states(at(20)).await.unwrap(), 0);
    assert!(store.take_oauth_state("early").await.unwrap().is_none());
    assert!(store.take_oauth_state("exact").await.unwrap().is_none());
    assert_eq!(store.take_oauth_state("late").await.unwrap().unwrap().expires_at, at(30));
}

async fn list_and_rekey_cover_connection_secrets_and_state_verifiers(db: TestDb) {
    let store = &db.store;
    let a = store.create_connection(&delegated("a"), at(1)).await.unwrap().id;
    let b = store.create_connection(&delegated("b"), at(1)).await.unwrap().id;
    store.put_secret(a, "refresh_token", &sealed("old", "a-rt"), at(2)).await.unwrap();
    store.put_secret(b, "client_secret", &sealed("old", "b-cs"), at(2)).await.unwrap();
    store.put_secret(b, "private_key:CAFE", &sealed("old", "b-pk"), at(2)).await.unwrap();
    store.save_oauth_state(&state("s1", a, Some(sealed("old", "a-verifier")), at(30))).await.unwrap();
    store.save_oauth_state(&state("s2", b, None, at(30))).await.unwrap();

    let rows = store.list_secrets().await.unwrap();
    let listed: Vec<(ConnectionId, &str, &str, String)> = rows
        .iter()
        .map(|row| (row.connection_id, row.purpose.as_str(), row.secret.ciphertext.as_str(), row.seal_context()))
        .collect();
    assert_eq!(
        listed,
        [
            (a, "refresh_token", "a-rt", format!("connection:{a}:refresh_token")),
            (b, "client_secret", "b-cs", format!("connection:{b}:client_secret")),
            (b, "private_key:CAFE", "b-pk", format!("connection:{b}:private_key:CAFE")),
            (a, "oauth_state:s1", "a-verifier", "oauth_state:s1".to_owned()),
        ]
    );

    let resealed: Vec<SecretRow> = rows
        .iter()
        .map(|row| SecretRow { secret: sealed("new", &format!("{}+new", row.secret.ciphertext)), ..row.clone() })
        .collect();
    store.rekey_secrets(&resealed, at(3)).await.unwrap();
    let after = store.list_secrets().await.unwrap();
    assert_eq!(after, resealed);
    assert!(after.iter().all(|row| row.secret.key_id == "new"));
    let verifier = store.take_oauth_state("s1").await.unwrap().unwrap().verifier.unwrap();
    assert_eq!(verifier, sealed("new", "a-verifier+new"));
    assert_eq!(store.take_oauth_state("s2").await.unwrap().unwrap().verifier, None);
}

async fn rekey_if_skips_secrets_rotated_meanwhile(db: TestDb) {
    let store = &db.store;
    let id = store.create_connection(&delegated("contoso"), at(1)).await.unwrap().id;
    store.put_secret(id, "refresh_token", &sealed("old", "rt-1"), at(2)).await.unwrap();
    store.put_secret(id, "client_secret", &sealed("old", "cs"), at(2)).await.unwrap();
    store.save_oauth_state(&state("s1", id, Some(sealed("old", "v")), at(30))).await.unwrap();
    let rows = store.list_secrets().await.unwrap();

    // The refresh token rotates (under the old key) while the rotation re-seals.
    assert!(store.replace_secret_if(id, "refresh_token", "rt-1", &sealed("old", "rt-2"), at(3)).await.unwrap());

    let pairs: Vec<(SecretRow, String)> = rows
        .iter()
        .map(|row| {
            let new = SecretRow { secret: sealed("new", &format!("{}+new", row.secret.ciphertext)), ..row.clone() };
            (new, row.secret.ciphertext.clone())
        })
        .collect();
    assert_eq!(store.rekey_secrets_if(&pairs, at(4)).await.unwrap(), 2, "the rotated token is not overwritten");
    assert_eq!(store.secret(id, "refresh_token").await.unwrap(), Some(sealed("old", "rt-2")));
    assert_eq!(store.secret(id, "client_secret").await.unwrap(), Some(sealed("new", "cs+new")));
    let remaining: Vec<String> = store
        .list_secrets()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.secret.key_id == "old")
        .map(|r| r.purpose)
        .collect();
    assert_eq!(remaining, ["refresh_token"]);
}
