"""The authorization-code flow with PKCE, as Tenure's multi-tenant web app runs it with MSAL: Contoso's Global
Administrator signs in through the sign-in and consent pages, and the app redeems the code."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from auth_code import GRAPH_DELEGATED_SCOPES, TENURE_APP_ID, AuthCodeRun, person_for, start_and_sign_in
from conftest import close_graph_client
from credentials import MsalAccountCredential, decode_jwt, graph_client
from sandbox_process import SandboxProcess, describe
from signin import auth_response


@pytest.fixture(scope="module")
def admin_run(sandbox: SandboxProcess) -> tuple[AuthCodeRun, dict]:
    """Contoso's admin signs in to Tenure's app (accepting consent) and the app redeems the code."""
    run = start_and_sign_in(sandbox, "Contoso", person_for(sandbox, "admin@contoso.com"))
    result = run.app.acquire_token_by_auth_code_flow(run.flow, auth_response(run.outcome))
    return run, result


def test_authorize_request_carries_pkce_s256_nonce_and_oidc_scopes(admin_run) -> None:
    run, _ = admin_run
    query = {key: values[0] for key, values in parse_qs(urlsplit(run.flow["auth_uri"]).query).items()}
    assert query["code_challenge_method"] == "S256"
    assert query["response_type"] == "code"
    assert set(query["scope"].split()) >= {"openid", "profile", "offline_access"}
    assert query["nonce"] == hashlib.sha256(run.flow["nonce"].encode()).hexdigest()


def test_sign_in_redirects_back_with_code_and_state(admin_run) -> None:
    run, _ = admin_run
    response = auth_response(run.outcome)
    assert response.get("code"), f"no code in the redirect:\n{run.outcome.transcript()}"
    assert response["state"] == run.flow["state"]
    assert "error" not in response, response


def test_code_redemption_returns_delegated_graph_token(sandbox: SandboxProcess, admin_run) -> None:
    run, result = admin_run
    assert "access_token" in result, result
    assert result["token_type"] == "Bearer"
    tid = sandbox.tenant("Contoso")["id"]
    _, claims = decode_jwt(result["access_token"])
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["iss"] == f"https://sts.windows.net/{tid}/"
    assert claims["tid"] == tid
    assert claims["appid"] == TENURE_APP_ID
    assert claims["idtyp"] == "user"
    scopes = claims["scp"].split(" ")
    assert "User.ReadWrite.All" in scopes and "Group.ReadWrite.All" in scopes, claims["scp"]
    assert "roles" not in claims or not claims["roles"], "a delegated token carries scp, not application roles"
    assert claims.get("upn") == "admin@contoso.com" or claims.get("unique_name") == "admin@contoso.com", claims
    # The code was redeemed with the PKCE verifier and the app's secret.
    [sent] = run.http.token_requests()
    assert sent["grant_type"] == "authorization_code"
    assert sent["code_verifier"] == run.flow["code_verifier"]
    assert str(sent["client_info"]) == "1"


def test_id_token_echoes_the_nonce_and_verifies_against_the_jwks(sandbox: SandboxProcess, admin_run) -> None:
    run, result = admin_run
    assert "id_token" in result, result
    # MSAL itself compared this nonce with the hash of its own (it raises otherwise); check it explicitly too.
    assert result["id_token_claims"]["nonce"] == hashlib.sha256(run.flow["nonce"].encode()).hexdigest()
    authority = sandbox.tenant("Contoso")["authority"]
    with sandbox.session() as http:
        discovery_response = http.get(f"{authority}/v2.0/.well-known/openid-configuration", timeout=30)
        assert discovery_response.status_code == 200, describe(discovery_response)
        discovery = discovery_response.json()
        jwks_response = http.get(discovery["jwks_uri"], timeout=30)
        assert jwks_response.status_code == 200, describe(jwks_response)
    keys = jwt.PyJWKSet.from_dict(jwks_response.json())
    kid = jwt.get_unverified_header(result["id_token"])["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    claims = jwt.decode(
        result["id_token"], key.key, algorithms=["RS256"], audience=TENURE_APP_ID, issuer=discovery["issuer"]
    )
    tid = sandbox.tenant("Contoso")["id"]
    assert claims["tid"] == tid
    assert tid in discovery["issuer"]
    assert claims["preferred_username"] == "admin@contoso.com"
    assert claims["ver"] == "2.0"


def test_refresh_token_and_account_from_client_info(sandbox: SandboxProcess, admin_run) -> None:
    run, result = admin_run
    assert result.get("refresh_token"), "offline_access was requested, so a refresh token is returned"
    _, claims = decode_jwt(result["access_token"])
    [account] = run.app.get_accounts(username="admin@contoso.com")
    assert account["home_account_id"] == f"{claims['oid']}.{claims['tid']}"
    assert account["local_account_id"] == claims["oid"]
    assert account["realm"] == claims["tid"]


def test_authorization_code_cannot_be_redeemed_twice(admin_run) -> None:
    run, _ = admin_run
    again = run.app.acquire_token_by_auth_code_flow(dict(run.flow), auth_response(run.outcome))
    assert "access_token" not in again, again
    assert again["error"] == "invalid_grant", again
    assert again["error_description"].startswith("AADSTS54005: "), again


async def test_delegated_token_reads_me_through_graph(sandbox: SandboxProcess, admin_run) -> None:
    run, result = admin_run
    [account] = run.app.get_accounts(username="admin@contoso.com")
    credential = MsalAccountCredential(run.app, account)
    client = graph_client(sandbox.tenant("Contoso"), credential, sandbox.ca_file, scopes=GRAPH_DELEGATED_SCOPES)
    try:
        me = await client.me.get()
    finally:
        await close_graph_client(client)
    _, claims = decode_jwt(result["access_token"])
    assert me.id == claims["oid"]
    assert me.user_principal_name == "admin@contoso.com"
    assert me.display_name == "Contoso Admin"


def test_wrong_pkce_verifier_is_invalid_grant(sandbox: SandboxProcess) -> None:
    run = start_and_sign_in(sandbox, "Contoso", person_for(sandbox, "admin@contoso.com"))
    flow = dict(run.flow, code_verifier="x" * 43)
    result = run.app.acquire_token_by_auth_code_flow(flow, auth_response(run.outcome))
    assert "access_token" not in result, result
    assert result["error"] == "invalid_grant", result
    assert result["error_description"].startswith("AADSTS501481: "), result


def test_declining_consent_redirects_with_access_denied(sandbox: SandboxProcess) -> None:
    # prompt=consent shows the consent page even when consent was given before.
    person = person_for(sandbox, "admin@contoso.com", accept_consent=False)
    run = start_and_sign_in(sandbox, "Contoso", person, prompt="consent")
    response = auth_response(run.outcome)
    assert "code" not in response, response
    assert response["error"] == "access_denied", response
    assert response["error_description"].startswith("AADSTS65004"), response
    assert response["state"] == run.flow["state"]


def test_unregistered_redirect_uri_is_never_redirected_to(sandbox: SandboxProcess) -> None:
    # The identity platform shows an error page (AADSTS50011) instead of sending anything to an address the
    # app did not register.
    stranger = "https://attacker.example/callback"
    run = start_and_sign_in(sandbox, "Contoso", person_for(sandbox, "admin@contoso.com"), redirect=stranger)
    assert run.outcome.redirect is None, run.outcome.transcript()
    assert any("AADSTS50011" in page for page in run.outcome.pages), run.outcome.transcript()
