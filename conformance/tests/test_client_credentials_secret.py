"""MSAL's client-credentials grant with a client secret, as a customer's app-only script uses it."""

from __future__ import annotations

import json
import uuid

import pytest

from conftest import CONTOSO_APP_ID
from credentials import CAE_CAPABILITIES, confidential_app, decode_jwt
from sandbox_process import SandboxProcess

FABRIKAM_APP_ID = "a1b2c3d4-0000-4000-8000-00000000f001"


def contoso_app(sandbox: SandboxProcess, secret: str | None = None, **kwargs):
    app = sandbox.app(CONTOSO_APP_ID)
    return confidential_app(
        sandbox.tenant("Contoso"), app["app_id"], secret or app["secrets"][0], sandbox.ca_file, **kwargs
    )


def test_secret_gets_a_v1_graph_token_with_application_roles(sandbox: SandboxProcess) -> None:
    app, http = contoso_app(sandbox)
    result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    assert "access_token" in result, result
    assert result["token_type"] == "Bearer"
    assert "refresh_token" not in result
    tid = sandbox.tenant("Contoso")["id"]
    header, claims = decode_jwt(result["access_token"])
    assert header["alg"] == "RS256" and header.get("kid"), header
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["iss"] == f"https://sts.windows.net/{tid}/"
    assert claims["tid"] == tid
    assert claims["appid"] == CONTOSO_APP_ID
    assert claims["appidacr"] == "1", "a client secret authenticates with appidacr 1"
    assert claims["idtyp"] == "app"
    assert claims["ver"] == "1.0"
    assert "User.ReadWrite.All" in claims["roles"], claims
    assert "scp" not in claims
    assert claims["oid"] == claims["sub"], "an app-only token's sub is the service principal's object id"
    assert claims["exp"] > claims["iat"]
    # MSAL sent the secret in the body (never HTTP Basic) and asked for client_info.
    [sent] = http.token_requests()
    assert sent["grant_type"] == "client_credentials"
    assert sent["scope"] == "https://graph.microsoft.com/.default"


def test_wrong_secret_is_invalid_client_aadsts7000215(sandbox: SandboxProcess) -> None:
    app, _ = contoso_app(sandbox, secret="not-the-secret-value")
    result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    assert "access_token" not in result, result
    assert result["error"] == "invalid_client", result
    assert result["error_description"].startswith("AADSTS7000215: "), result
    assert 7000215 in result["error_codes"], result
    for key in ("timestamp", "trace_id", "correlation_id"):
        assert result.get(key), f"Microsoft's error body carries {key}: {result}"
    assert "Trace ID: " in result["error_description"] and "Correlation ID: " in result["error_description"]


def test_cae_client_capability_sends_claims_and_is_accepted(sandbox: SandboxProcess) -> None:
    # What azure-identity (and so msgraph-sdk, which always enables CAE) makes MSAL send.
    app, http = contoso_app(sandbox, client_capabilities=CAE_CAPABILITIES)
    result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
    assert "access_token" in result, result
    [sent] = http.token_requests()
    assert json.loads(sent["claims"]) == {"access_token": {"xms_cc": {"values": ["CP1"]}}}


def test_claims_challenge_is_passed_through_and_accepted(sandbox: SandboxProcess) -> None:
    # A resource's 401 claims challenge, replayed by the client on the token request (Kiota does this).
    app, http = contoso_app(sandbox, client_capabilities=CAE_CAPABILITIES)
    challenge = json.dumps({"access_token": {"nbf": {"essential": True, "value": "1700000000"}}})
    result = app.acquire_token_for_client(["https://graph.microsoft.com/.default"], claims_challenge=challenge)
    assert "access_token" in result, result
    [sent] = http.token_requests()
    merged = json.loads(sent["claims"])
    assert merged["access_token"]["nbf"]["value"] == "1700000000"
    assert merged["access_token"]["xms_cc"] == {"values": ["CP1"]}


def test_gcc_high_tenant_gets_a_token_for_graph_microsoft_us(sandbox: SandboxProcess) -> None:
    fabrikam = sandbox.tenant("Fabrikam")
    assert fabrikam["cloud"] == "UsGovHigh"
    assert "/login.microsoftonline.us/" in fabrikam["authority"], fabrikam["authority"]
    app = sandbox.app(FABRIKAM_APP_ID)
    msal_app, _ = confidential_app(fabrikam, app["app_id"], app["secrets"][0], sandbox.ca_file)
    result = msal_app.acquire_token_for_client(["https://graph.microsoft.us/.default"])
    assert "access_token" in result, result
    _, claims = decode_jwt(result["access_token"])
    assert claims["aud"] == "https://graph.microsoft.us"
    assert claims["tid"] == fabrikam["id"]
    assert claims["appid"] == FABRIKAM_APP_ID
    assert "User.ReadWrite.All" in claims["roles"], claims


def test_client_credentials_scope_must_be_a_default_scope(sandbox: SandboxProcess) -> None:
    app, _ = contoso_app(sandbox)
    result = app.acquire_token_for_client(["https://graph.microsoft.com/User.Read.All"])
    assert "access_token" not in result, result
    assert result["error"] == "invalid_scope", result
    assert result["error_description"].startswith("AADSTS"), result


def test_unknown_tenant_fails_msal_authority_discovery(sandbox: SandboxProcess) -> None:
    contoso = sandbox.tenant("Contoso")
    unknown = dict(contoso, authority=contoso["authority"].replace(contoso["id"], str(uuid.uuid4())))
    with pytest.raises(ValueError, match="Unable to get authority configuration"):
        confidential_app(unknown, CONTOSO_APP_ID, "irrelevant", sandbox.ca_file)
