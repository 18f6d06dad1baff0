//! A linked delegated connection at work, against the sandbox over HTTPS: refresh tokens rotate on every use and
//! the newest is what the next refresh presents; concurrent callers share one refresh; two providers racing on
//! one store both succeed and the store keeps a working token; a revoked or expired refresh token marks the
//! connection for re-link with the reason; transient failures and configuration mistakes do not; and an access
//! token the sandbox (its clock moved ahead) considers expired is replaced.

mod link;

use std::sync::Arc;

use link::*;
use model::{AccessTokenProvider, NationalCloud, Secret};
use reqwest::StatusCode;
use sandbox::knobs::{FaultRule, Knobs};
use vault::DelegatedAppConfig;
use vault::DelegatedTokenProvider;
use vault::authorization_code::graph_resource_scope;

fn provider(config: &DelegatedAppConfig, store: &Arc<MemoryStore>) -> DelegatedTokenProvider {
    let store: Arc<dyn vault::RefreshTokenStore> = store.clone();
    DelegatedTokenProvider::new(config.clone(), graph_resource_scope(config.cloud), store).expect("config is fine")
}

#[tokio::test]
async fn every_refresh_rotates_and_the_next_one_presents_the_newest_token() {
    let sandbox = start().await;
    let (config, grant) = link_contoso(&sandbox).await;
    let store = MemoryStore::new(grant.refresh_token.clone());
    let provider = provider(&config, &store);

    let first = provider.access_token().await.expect("a token");
    let cached = provider.access_token().await.expect("the cached token");
    assert_eq!(cached.token, first.token);
    assert_eq!(provider.token_requests(), 1);
    for _ in 0..2 {
        let fresh = provider.fresh_access_token().await.expect("a fresh token");
        let (status, me) = graph_me(&sandbox, "graph.microsoft.com", &fresh.token).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["userPrincipalName"], CONTOSO_ADMIN);
    }
    assert_eq!(provider.token_requests(), 3);

    let rotations: Vec<(Secret, Secret)> = store.log(|log| log.rotations.clone());
    assert_eq!(rotations.len(), 3);
    assert_eq!(rotations[0].0, grant.refresh_token, "the first refresh presents the linked token");
    for pair in rotations.windows(2) {
        assert_eq!(pair[1].0, pair[0].1, "each refresh presents the token the previous one stored");
    }
    let mut tokens: Vec<&str> = rotations.iter().map(|(_, newest)| newest.expose()).collect();
    tokens.push(grant.refresh_token.expose());
    tokens.sort_unstable();
    tokens.dedup();
    assert_eq!(tokens.len(), 4, "every refresh token is new");
    assert_eq!(store.current(), rotations[2].1);
    assert_eq!(store.log(|log| log.lost_rotations), 0);
}

#[tokio::test]
async fn concurrent_callers_of_one_provider_share_one_refresh() {
    // A little latency on the login host, so the callers really overlap the refresh.
    let sandbox = start_with(Knobs { latency_ms: 30, include_login: true, ..Knobs::default() }).await;
    let (config, grant) = link_contoso(&sandbox).await;
    let store = MemoryStore::new(grant.refresh_token);
    let provider = Arc::new(provider(&config, &store));
    let callers: Vec<_> = (0..8)
        .map(|_| {
            let provider = provider.clone();
            tokio::spawn(async move { provider.access_token().await })
        })
        .collect();
    let mut tokens = Vec::new();
    for caller in callers {
        tokens.push(caller.await.expect("joins").expect("a token").token);
    }
    assert!(tokens.windows(2).all(|pair| pair[0] == pair[1]), "every caller got the one token");
    assert_eq!(provider.token_requests(), 1);
    assert_eq!(store.log(|log| (log.loads, log.rotations.len())), (1, 1));
}

#[tokio::test]
async fn two_providers_racing_on_one_store_both_succeed_and_the_store_keeps_a_working_token() {
    let sandbox = start().await;
    let (config, grant) = link_contoso(&sandbox).await;
    // Both providers load the same token before either saves.
    let store = MemoryStore::with_racing_loads(grant.refresh_token.clone(), 2);
    let one = provider(&config, &store);
    let two = provider(&config, &store);
    let (first, second) = tokio::join!(one.access_token(), two.access_token());
    let (first, second) = (first.expect("first succeeds"), second.expect("second succeeds"));
    for token in [&first.token, &second.token] {
        assert_eq!(graph_me(&sandbox, "graph.microsoft.com", token).await.0, StatusCode::OK);
    }
    let (rotations, lost) = store.log(|log| (log.rotations.clone(), log.lost_rotations));
    assert_eq!((rotations.len(), lost), (1, 1), "one rotation won, the other found it done");
    assert_eq!(rotations[0].0, grant.refresh_token);
    assert_eq!(store.current(), rotations[0].1, "the store holds the winner's newest token");

    // The stored token works for whoever comes next, and rotates again.
    let third = provider(&config, &store);
    third.access_token().await.expect("the stored token works");
    assert_eq!(store.log(|log| log.rotations.len()), 2);
    assert_eq!(store.log(|log| log.rotations[1].0.clone()), rotations[0].1);
}

#[tokio::test]
async fn a_revoked_refresh_token_needs_relink_with_the_reason() {
    let sandbox = start().await;
    let (config, grant) = link_contoso(&sandbox).await;
    let store = MemoryStore::new(grant.refresh_token.clone());
    let provider = provider(&config, &store);
    let token = provider.access_token().await.expect("works before revocation");
    revoke_sessions(&sandbox, &token.token).await;

    let error = provider.fresh_access_token().await.expect_err("revoked");
    assert!(error.needs_relink && !error.transient, "{error:?}");
    assert!(error.message.contains("AADSTS50173"), "{error}");
    let relinks = store.log(|log| log.relinks.clone());
    assert_eq!(relinks.len(), 1);
    assert!(relinks[0].contains("revoked") && relinks[0].ends_with("(AADSTS50173)"), "{}", relinks[0]);
    for secret in [&grant.refresh_token, &store.current()] {
        assert!(!error.message.contains(secret.expose()) && !relinks[0].contains(secret.expose()));
    }
    // Each call asks again (the answer is not cached) and marks again.
    let again = provider.access_token().await.expect_err("still revoked");
    assert!(again.needs_relink);
}

#[tokio::test]
async fn a_relinked_token_stored_meanwhile_is_used_instead_of_needing_relink() {
    let sandbox = start().await;
    let (config, grant) = link_contoso(&sandbox).await;
    let store = MemoryStore::new(grant.refresh_token.clone());
    let provider = provider(&config, &store);
    let token = provider.access_token().await.expect("a token");
    revoke_sessions(&sandbox, &token.token).await;
    // The admin links again (another process stores the new token) after this provider loaded the old one.
    let (_, relinked) = link_contoso(&sandbox).await;
    store.set_after_next_load(relinked.refresh_token.clone());
    let fresh = provider.fresh_access_token().await.expect("the re-linked token serves");
    assert_eq!(graph_me(&sandbox, "graph.microsoft.com", &fresh.token).await.0, StatusCode::OK);
    assert!(store.log(|log| log.relinks.is_empty()));
    assert_eq!(store.log(|log| log.rotations.last().map(|rotation| rotation.0.clone())), Some(relinked.refresh_token));
}

#[tokio::test]
async fn an_access_token_the_sandbox_considers_expired_is_replaced() {
    let sandbox = start().await;
    let (config, grant) = link_contoso(&sandbox).await;
    let store = MemoryStore::new(grant.refresh_token);
    let provider = provider(&config, &store);
    let token = provider.access_token().await.expect("a token");
    assert_eq!(graph_me(&sandbox, "graph.microsoft.com", &token.token).await.0, StatusCode::OK);

    // The sandbox's clock runs two hours ahead of ours: our cached token is still "valid" here, expired there.
    advance_clock(&sandbox, 2 * 3600).await;
    let cached = provider.access_token().await.expect("cached");
    assert_eq!(cached.token, token.token);
    let (status, body) = graph_me(&sandbox, "graph.microsoft.com", &cached.token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // The caller whose API refused the token asks for a fresh one; the refresh token is still good.
    let fresh = provider.fresh_access_token().await.expect("refreshed");
    assert_ne!(fresh.token, token.token);
    assert_eq!(graph_me(&sandbox, "graph.microsoft.com", &fresh.token).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_refresh_token_past_its_lifetime_needs_relink() {
    let sandbox = start().await;
    let (config, grant) = link_contoso(&sandbox).await;
    let store = MemoryStore::new(grant.refresh_token);
    let provider = provider(&config, &store);
    advance_clock(&sandbox, 91 * 24 * 3600).await;
    let error = provider.access_token().await.expect_err("expired after 90 idle days");
    assert!(error.needs_relink, "{error:?}");
    let relinks = store.log(|log| log.relinks.clone());
    assert_eq!(relinks, ["the refresh token expired after 90 days without use (AADSTS700082)"]);
}

#[tokio::test]
async fn transient_failures_do_not_need_relink() {
    let unavailable = FaultRule {
        method: Some("POST".into()),
        path_prefix: format!("/{CONTOSO}/oauth2/v2.0/token"),
        status: Some(503),
        retry_after_seconds: Some(0),
        ..FaultRule::default()
    };
    let knobs = Knobs { include_login: true, fault_plan: vec![unavailable], ..Knobs::default() };
    let sandbox = start().await;
    let (config, grant) = link_contoso(&sandbox).await;
    sandbox.state().knobs.set(knobs);
    let store = MemoryStore::new(grant.refresh_token.clone());
    let provider = provider(&config, &store);
    let error = provider.access_token().await.expect_err("the login host is down");
    assert!(error.transient && !error.needs_relink, "{error:?}");
    assert_eq!(provider.token_requests(), 3, "retried");
    assert!(store.log(|log| log.relinks.is_empty() && log.rotations.is_empty()));
    assert_eq!(store.current(), grant.refresh_token);
}

#[tokio::test]
async fn a_refresh_for_another_tenant_needs_relink_but_another_cloud_is_a_setting_error() {
    let sandbox = start().await;
    let (config, grant) = link_contoso(&sandbox).await;
    // Litware knows the app too, but the refresh token is Contoso's.
    let provider_app = provider_config(&sandbox, NationalCloud::Global);
    link_as_admin(
        &sandbox,
        &provider_app,
        LITWARE_ADMIN,
        vault::authorization_code::graph_scopes(NationalCloud::Global),
    )
    .await;
    let store = MemoryStore::new(grant.refresh_token.clone());
    let litware = DelegatedAppConfig { tenant: LITWARE.into(), ..config.clone() };
    let error = provider(&litware, &store).access_token().await.expect_err("wrong tenant");
    assert!(error.needs_relink, "{error:?}");
    assert!(store.log(|log| log.relinks[0].ends_with("(AADSTS70000)")));

    // Contoso asked for at the US Government login host: the tenant does not exist there. The connection's
    // settings are wrong, the grant is not: no re-link.
    let store = MemoryStore::new(grant.refresh_token);
    let us = DelegatedAppConfig {
        cloud: NationalCloud::UsGovHigh,
        login_base_url: Some(host_base(&sandbox, NationalCloud::UsGovHigh.login_host())),
        ..config
    };
    let error = provider(&us, &store).access_token().await.expect_err("wrong cloud");
    assert!(!error.needs_relink && !error.transient, "{error:?}");
    assert!(error.message.contains("AADSTS90002") && error.message.contains("login.microsoftonline.us"), "{error}");
    assert!(store.log(|log| log.relinks.is_empty()));
}
