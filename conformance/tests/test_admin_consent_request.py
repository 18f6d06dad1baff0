"""The admin consent workflow: a user who may not consent to admin-only permissions asks an administrator for
approval, and once it is granted the same sign-in completes.

Adele (no admin role) signs in to Tenure's app asking for `User.ReadWrite.All`, which only an administrator can
grant. Microsoft shows "Approval required" with a justification box; the request then waits for an admin. The
sandbox lists pending requests at `/_sandbox/consent-requests` (its stand-in for the Entra admin center).
Runs on a sandbox of its own, since approving grants tenant-wide consent.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from kiota_abstractions.api_error import APIError
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.password_profile import PasswordProfile
from msgraph.generated.models.user import User

from auth_code import GRAPH_DELEGATED_SCOPES, TENURE_APP_ID, AuthCodeRun, person_for, start_and_sign_in
from conftest import close_graph_client
from credentials import MsalAccountCredential, decode_jwt, graph_client
from sandbox_process import SandboxProcess, describe, start_sandbox
from signin import auth_response

ADELE = "adele.vance@contoso.com"


@dataclass
class ConsentStory:
    """What happened, step by step."""

    sandbox: SandboxProcess
    justification: str
    before: AuthCodeRun
    pending: list[dict[str, Any]]
    request: dict[str, Any]
    approval_status: int
    approval_detail: str
    after: AuthCodeRun
    after_result: dict[str, Any] | None


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsentStory]:
    sandbox = start_sandbox(tmp_path_factory.mktemp("consent-sandbox"))
    try:
        justification = f"Tenure syncs HR to our directory; ticket {uuid.uuid4().hex[:8]}"
        adele = person_for(sandbox, ADELE, justification=justification)
        before = start_and_sign_in(sandbox, "Contoso", adele)
        pending = sandbox.consent_requests()
        mine = [entry for entry in pending if justification in json.dumps(entry)]
        assert mine, f"no consent request carries the justification; list: {pending}\n{before.outcome.transcript()}"
        request = mine[0]
        approval = sandbox.admin_request("POST", f"/consent-requests/{request['id']}/approve")
        after = start_and_sign_in(sandbox, "Contoso", adele)
        after_result = None
        if after.outcome.redirect and "code" in after.outcome.query:
            after_result = after.app.acquire_token_by_auth_code_flow(after.flow, after.outcome.query)
        yield ConsentStory(
            sandbox,
            justification,
            before,
            pending,
            request,
            approval.status_code,
            describe(approval),
            after,
            after_result,
        )
    finally:
        sandbox.stop()


def test_non_admin_sees_approval_required_and_gets_no_code(story: ConsentStory) -> None:
    outcome = story.before.outcome
    assert "code" not in outcome.query, f"Adele must not get a code before approval:\n{outcome.transcript()}"
    assert any("approval" in page.lower() for page in outcome.pages), outcome.transcript()


def test_request_is_pending_with_justification_app_and_requester(story: ConsentStory) -> None:
    text = json.dumps(story.request)
    assert TENURE_APP_ID in text, story.request
    assert ADELE in text.lower() or "0b1c2d3e-0000-4000-8000-000000000002" in text, story.request
    assert "pending" in text.lower(), story.request
    assert "User.ReadWrite.All" in text, "the admin sees which permissions are asked for"


def test_approval_is_accepted(story: ConsentStory) -> None:
    assert story.approval_status == 204, story.approval_detail
    remaining = [entry for entry in story.sandbox.consent_requests() if entry.get("id") == story.request["id"]]
    assert all("pending" not in json.dumps(entry).lower() for entry in remaining), remaining


def test_after_approval_the_same_sign_in_completes_with_a_code(story: ConsentStory) -> None:
    response = auth_response(story.after.outcome)
    assert response.get("code"), f"no code after approval:\n{story.after.outcome.transcript()}"
    assert story.after_result and "access_token" in story.after_result, story.after_result
    _, claims = decode_jwt(story.after_result["access_token"])
    assert "User.ReadWrite.All" in claims["scp"].split(" ")
    assert claims["tid"] == story.sandbox.tenant("Contoso")["id"]
    [account] = story.after.app.get_accounts(username=ADELE)
    assert account["home_account_id"] == f"{claims['oid']}.{claims['tid']}"


async def test_non_admin_delegated_token_cannot_create_users(story: ConsentStory) -> None:
    # The app holds delegated User.ReadWrite.All, but a delegated call has only the rights of the signed-in
    # user too, and Adele has no admin role: 403 Authorization_RequestDenied.
    assert story.after_result and "access_token" in story.after_result, story.after_result
    [account] = story.after.app.get_accounts(username=ADELE)
    credential = MsalAccountCredential(story.after.app, account)
    client = graph_client(
        story.sandbox.tenant("Contoso"), credential, story.sandbox.ca_file, scopes=GRAPH_DELEGATED_SCOPES
    )
    user = User(
        account_enabled=True,
        display_name="Should Not Exist",
        mail_nickname="should-not-exist",
        user_principal_name=f"should-not-exist-{uuid.uuid4().hex[:6]}@contoso.com",
        password_profile=PasswordProfile(force_change_password_next_sign_in=True, password="xWwvJ]6NMw+bWH-d"),
    )
    try:
        with pytest.raises(APIError) as raised:
            await client.users.post(user)
    finally:
        await close_graph_client(client)
    error = raised.value
    assert isinstance(error, ODataError), repr(error)
    assert error.response_status_code == 403
    assert error.error.code == "Authorization_RequestDenied"
    assert error.error.message == "Insufficient privileges to complete the operation."
