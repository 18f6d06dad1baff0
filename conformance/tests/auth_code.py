"""The authorization-code flow with PKCE as a web app runs it with MSAL: `initiate_auth_code_flow`, a person
signs in at the `auth_uri` (see `signin.py`), then `acquire_token_by_auth_code_flow` with the redirect's query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msal

from credentials import RecordingSession, confidential_app
from sandbox_process import SandboxProcess
from signin import Person, SignInOutcome, drive_sign_in

TENURE_APP_ID = "a1b2c3d4-0000-4000-8000-00000000a001"
"""Tenure's multi-tenant delegated app (registered in the Tenure Publisher tenant)."""

GRAPH_DELEGATED_SCOPES = [
    "https://graph.microsoft.com/User.ReadWrite.All",
    "https://graph.microsoft.com/Group.ReadWrite.All",
]
"""Admin-only delegated Graph permissions that Tenure's app asks for."""


@dataclass
class AuthCodeRun:
    """Everything one run of the flow produced."""

    app: msal.ConfidentialClientApplication
    http: RecordingSession
    flow: dict[str, Any]
    outcome: SignInOutcome


def tenure_app(
    sandbox: SandboxProcess, tenant_name: str
) -> tuple[msal.ConfidentialClientApplication, RecordingSession]:
    """Tenure's multi-tenant app, with its client secret, on the customer tenant's authority."""
    app = sandbox.app(TENURE_APP_ID)
    return confidential_app(sandbox.tenant(tenant_name), app["app_id"], app["secrets"][0], sandbox.ca_file)


def redirect_uri(sandbox: SandboxProcess) -> str:
    """A registered redirect URI of Tenure's app (the https one when there is one)."""
    uris = sandbox.app(TENURE_APP_ID)["redirect_uris"]
    return next((uri for uri in uris if uri.startswith("https://")), uris[0])


def start_and_sign_in(
    sandbox: SandboxProcess,
    tenant_name: str,
    person: Person,
    scopes: list[str] = GRAPH_DELEGATED_SCOPES,
    app: tuple[msal.ConfidentialClientApplication, RecordingSession] | None = None,
    redirect: str | None = None,
    **flow_options: Any,
) -> AuthCodeRun:
    """Initiates the flow (`flow_options` go to `initiate_auth_code_flow`, e.g. `prompt`) and lets `person` sign
    in; the outcome holds the redirect (or the last page)."""
    msal_app, http = app or tenure_app(sandbox, tenant_name)
    uri = redirect or redirect_uri(sandbox)
    flow = msal_app.initiate_auth_code_flow(scopes=scopes, redirect_uri=uri, **flow_options)
    assert "auth_uri" in flow, flow
    with sandbox.session() as browser:
        outcome = drive_sign_in(browser, flow["auth_uri"], uri, person)
    return AuthCodeRun(msal_app, http, flow, outcome)


def person_for(sandbox: SandboxProcess, upn: str, **choices: Any) -> Person:
    """A seeded user of the JSON line as the person at the browser."""
    user = sandbox.user(upn)
    return Person(username=user["upn"], password=user["password"], **choices)
