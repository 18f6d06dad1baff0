"""The glue a customer writes to use MSAL and msgraph-sdk against the sandbox: an MSAL application pointed at a
sandbox authority, `TokenCredential`s backed by MSAL (in place of azure-identity), a Graph client over an
`httpx.AsyncClient` that trusts the sandbox CA, and a JWT decoder for looking at the issued tokens.

What msgraph-sdk 1.65 / kiota-authentication-azure 1.16 require of a credential: a `get_token(*scopes,
claims=None, enable_cae=..., **kwargs)` method returning `azure.core.credentials.AccessToken` (sync or
awaitable; Kiota awaits the result when it is awaitable). Kiota always passes `enable_cae=True`, and
`claims` (decoded from a 401 challenge) when a resource asks for more. Like azure-identity, the credential
declares the `CP1` client capability for CAE, which makes MSAL send a `claims` parameter to the token
endpoint on every request; the sandbox must accept it.
"""

from __future__ import annotations

import base64
import json
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import msal
import requests
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.graph_request_adapter import options as graph_default_options
from msgraph_core import GraphClientFactory

SANDBOX_HOST = "127.0.0.1"
"""The host of every sandbox URL; listed (bare) in the token provider's allowed hosts."""

CAE_CAPABILITIES = ["CP1"]
"""What azure-identity declares to MSAL when `enable_cae=True`."""


class RecordingSession(requests.Session):
    """A `requests.Session` for MSAL's `http_client` that keeps every request it sends (method, URL, form
    body), so tests can check what MSAL put on the wire (assertion headers, `claims`, `client_info`)."""

    def __init__(self, ca_file: str) -> None:
        super().__init__()
        self.verify = ca_file
        self.trust_env = False
        self.sent: list[dict[str, Any]] = []

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        refuse_non_sandbox_host(url)
        self.sent.append({"method": method, "url": url, "data": kwargs.get("data"), "headers": kwargs.get("headers")})
        return super().request(method, url, *args, **kwargs)

    def token_requests(self) -> list[dict[str, Any]]:
        """The form bodies of every POST to a token endpoint."""
        return [
            dict(entry["data"] or {})
            for entry in self.sent
            if entry["method"].upper() == "POST" and "/token" in entry["url"]
        ]


def refuse_non_sandbox_host(url: str) -> None:
    """Fails the test before any request leaves loopback: the suite must never contact Microsoft."""
    host = urlsplit(str(url)).hostname
    if host != SANDBOX_HOST:
        raise AssertionError(f"a client tried to reach {host} ({url}); only the sandbox at {SANDBOX_HOST} is allowed")


async def _refuse_non_sandbox_request(request: httpx.Request) -> None:
    refuse_non_sandbox_host(str(request.url))


def confidential_app(
    tenant: dict[str, Any],
    client_id: str,
    client_credential: Any,
    ca_file: str,
    **kwargs: Any,
) -> tuple[msal.ConfidentialClientApplication, RecordingSession]:
    """An MSAL confidential client on the tenant's sandbox authority.

    `instance_discovery=False` keeps MSAL from asking login.microsoftonline.com about the unknown host (reference
    §1.8); the session trusts only the sandbox CA.
    """
    session = RecordingSession(ca_file)
    app = msal.ConfidentialClientApplication(
        client_id,
        client_credential=client_credential,
        authority=tenant["authority"],
        http_client=session,
        instance_discovery=False,
        **kwargs,
    )
    return app, session


class MsalAppOnlyCredential:
    """A `TokenCredential` that gets app-only tokens with MSAL's client-credentials grant."""

    def __init__(self, app: msal.ConfidentialClientApplication) -> None:
        self.app = app
        self.calls: list[dict[str, Any]] = []

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        self.calls.append({"scopes": list(scopes), "claims": claims, "enable_cae": enable_cae})
        result = self.app.acquire_token_for_client(list(scopes), claims_challenge=claims)
        return access_token_or_raise(result)

    def close(self) -> None:
        pass


class MsalAccountCredential:
    """A `TokenCredential` for a signed-in user: MSAL's silent flow for one cached account (delegated tokens)."""

    def __init__(self, app: msal.ClientApplication, account: dict[str, Any]) -> None:
        self.app = app
        self.account = account

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        result = self.app.acquire_token_silent_with_error(list(scopes), self.account, claims_challenge=claims)
        if result is None:
            raise ClientAuthenticationError(message="MSAL found no token or refresh token for the account")
        return access_token_or_raise(result)

    def close(self) -> None:
        pass


def access_token_or_raise(result: dict[str, Any] | None) -> AccessToken:
    """MSAL's result dict as an `AccessToken`, or `ClientAuthenticationError` carrying MSAL's error."""
    if not result or "access_token" not in result:
        result = result or {}
        raise ClientAuthenticationError(
            message=f"{result.get('error')}: {result.get('error_description')} (codes {result.get('error_codes')})"
        )
    return AccessToken(result["access_token"], int(time.time()) + int(result.get("expires_in", 3599)))


def graph_resource(tenant: dict[str, Any]) -> str:
    """The Graph resource URI of the tenant's cloud, from the path of its sandbox Graph URL."""
    # Global Graph is served at https://127.0.0.1:PORT/v1.0; other clouds at /<graph host>/v1.0.
    path = tenant["graph"].split("://", 1)[1].split("/", 1)[1]
    first = path.split("/", 1)[0]
    host = first if first not in ("v1.0", "beta") else "graph.microsoft.com"
    return f"https://{host}"


def graph_client(
    tenant: dict[str, Any], credential: Any, ca_file: str, scopes: list[str] | None = None
) -> GraphServiceClient:
    """A `GraphServiceClient` for the tenant, as a customer would build one for a non-default endpoint.

    The httpx client is created the way Kiota's default factory does (HTTP/2, same timeouts) but trusting only
    the sandbox CA and ignoring proxy/CA variables; the Graph middleware (retry, redirect, telemetry) is loaded
    on it with msgraph-sdk's own default options. The adapter's `base_url` (not httpx's) points at the sandbox.
    `scopes` defaults to the cloud's Graph `/.default` (app-only); delegated callers pass the scopes they hold.
    """
    ssl_context = ssl.create_default_context(cafile=ca_file)
    http = httpx.AsyncClient(
        verify=ssl_context,
        trust_env=False,
        http2=True,
        timeout=httpx.Timeout(100, connect=30),
        event_hooks={"request": [_refuse_non_sandbox_request]},
    )
    http = GraphClientFactory.create_with_default_middleware(client=http, options=graph_default_options)
    auth = AzureIdentityAuthenticationProvider(
        credential,
        scopes=scopes or [f"{graph_resource(tenant)}/.default"],
        allowed_hosts=[SANDBOX_HOST],
    )
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = tenant["graph"]
    return GraphServiceClient(request_adapter=adapter)


def decode_jwt(token: str | bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (header, claims) of a JWT, without verifying it."""
    if isinstance(token, bytes):
        token = token.decode("ascii")
    parts = token.split(".")
    assert len(parts) == 3, f"not a JWS compact serialisation: {len(parts)} parts"
    return json.loads(b64url_decode(parts[0])), json.loads(b64url_decode(parts[1]))


def b64url_decode(text: str) -> bytes:
    """Base64url with or without padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
