"""Refresh tokens as MSAL uses them in the silent flow: rotation on every redemption, the 90-day inactivity
lifetime, and revocation by `revokeSignInSessions` (reference §1.3 "refresh_token", §3.1.6).

Each test signs in on a sandbox of its own, because they move its clock or revoke sessions.
"""

from __future__ import annotations

import msal

from auth_code import GRAPH_DELEGATED_SCOPES, AuthCodeRun, person_for, start_and_sign_in
from conftest import close_graph_client
from credentials import MsalAccountCredential, decode_jwt, graph_client
from sandbox_process import SandboxProcess
from signin import auth_response

ADMIN = "admin@contoso.com"
DAY = 24 * 60 * 60


def signed_in_admin(sandbox: SandboxProcess) -> tuple[AuthCodeRun, dict, dict]:
    """Contoso's admin signed in to Tenure's app: the run, the token result and MSAL's account."""
    run = start_and_sign_in(sandbox, "Contoso", person_for(sandbox, ADMIN))
    result = run.app.acquire_token_by_auth_code_flow(run.flow, auth_response(run.outcome))
    assert "access_token" in result and "refresh_token" in result, result
    [account] = run.app.get_accounts(username=ADMIN)
    return run, result, account


def cached_refresh_tokens(app: msal.ClientApplication) -> list[str]:
    return [entry["secret"] for entry in app.token_cache.search(msal.TokenCache.CredentialType.REFRESH_TOKEN)]


def test_silent_refresh_returns_a_new_access_token_and_rotates_the_refresh_token(fresh_sandbox: SandboxProcess) -> None:
    run, first, account = signed_in_admin(fresh_sandbox)
    [refresh_before] = cached_refresh_tokens(run.app)
    # A second of sandbox time, so that a new token cannot be byte-identical by coincidence of timestamps.
    fresh_sandbox.advance_clock(5)
    refreshed = run.app.acquire_token_silent_with_error(GRAPH_DELEGATED_SCOPES, account, force_refresh=True)
    assert refreshed and "access_token" in refreshed, refreshed
    assert refreshed["token_source"] == "identity_provider"
    assert refreshed["access_token"] != first["access_token"]
    _, claims = decode_jwt(refreshed["access_token"])
    assert "User.ReadWrite.All" in claims["scp"].split(" ")
    [sent] = [body for body in run.http.token_requests() if body.get("grant_type") == "refresh_token"]
    assert sent["refresh_token"] == refresh_before
    [refresh_after] = cached_refresh_tokens(run.app)
    assert refresh_after != refresh_before, "every redemption returns a new refresh token, which MSAL stores"


def test_refresh_still_works_after_89_days_of_inactivity(fresh_sandbox: SandboxProcess) -> None:
    run, _, account = signed_in_admin(fresh_sandbox)
    fresh_sandbox.advance_clock(89 * DAY)
    refreshed = run.app.acquire_token_silent_with_error(GRAPH_DELEGATED_SCOPES, account, force_refresh=True)
    assert refreshed and "access_token" in refreshed, refreshed


def test_refresh_token_expires_after_90_days_of_inactivity_aadsts700082(fresh_sandbox: SandboxProcess) -> None:
    run, _, account = signed_in_admin(fresh_sandbox)
    fresh_sandbox.advance_clock(91 * DAY)
    refreshed = run.app.acquire_token_silent_with_error(GRAPH_DELEGATED_SCOPES, account, force_refresh=True)
    assert refreshed is not None and "access_token" not in refreshed, refreshed
    assert refreshed["error"] == "invalid_grant", refreshed
    assert refreshed["error_description"].startswith("AADSTS700082: "), refreshed
    assert 700082 in refreshed["error_codes"], refreshed


async def test_revoke_sign_in_sessions_invalidates_the_refresh_token_aadsts50173(fresh_sandbox: SandboxProcess) -> None:
    run, _, account = signed_in_admin(fresh_sandbox)
    fresh_sandbox.advance_clock(5)
    client = graph_client(
        fresh_sandbox.tenant("Contoso"),
        MsalAccountCredential(run.app, account),
        fresh_sandbox.ca_file,
        scopes=GRAPH_DELEGATED_SCOPES,
    )
    try:
        revoked = await client.me.revoke_sign_in_sessions.post()
    finally:
        await close_graph_client(client)
    assert revoked is not None and revoked.value is True
    fresh_sandbox.advance_clock(5)
    refreshed = run.app.acquire_token_silent_with_error(GRAPH_DELEGATED_SCOPES, account, force_refresh=True)
    assert refreshed is not None and "access_token" not in refreshed, refreshed
    assert refreshed["error"] == "invalid_grant", refreshed
    assert refreshed["error_description"].startswith("AADSTS50173: "), refreshed
