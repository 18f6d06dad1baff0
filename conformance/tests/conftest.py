"""Fixtures of the conformance suite: the sandbox process (one for the session, fresh ones for tests that move
its clock or its consent state) and Microsoft's clients pointed at it.

Every client here talks to the sandbox only, over HTTPS with the sandbox's CA, and ignores the machine's
proxy and CA-bundle variables (`trust_env=False`); MSAL runs with `instance_discovery=False` so it never asks
login.microsoftonline.com about the sandbox host.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from credentials import CAE_CAPABILITIES, MsalAppOnlyCredential, confidential_app, graph_client
from sandbox_process import SandboxProcess, start_sandbox

CONTOSO_APP_ID = "a1b2c3d4-0000-4000-8000-00000000c001"
"""Contoso's customer-owned app registration (app-only, consented in Contoso)."""


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """One `tenure sandbox` for the whole session (tests that move the clock use `fresh_sandbox`)."""
    process = start_sandbox(tmp_path_factory.mktemp("sandbox"))
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def fresh_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """A sandbox of this test's own, for tests that advance the clock or change consent state."""
    process = start_sandbox(tmp_path_factory.mktemp("fresh-sandbox"))
    try:
        yield process
    finally:
        process.stop()


def app_only_credential(sandbox: SandboxProcess, tenant_name: str, app_id: str) -> MsalAppOnlyCredential:
    """An MSAL-backed credential for an app with its first seeded secret, declaring CAE like azure-identity."""
    app = sandbox.app(app_id)
    msal_app, _ = confidential_app(
        sandbox.tenant(tenant_name),
        app["app_id"],
        app["secrets"][0],
        sandbox.ca_file,
        client_capabilities=CAE_CAPABILITIES,
    )
    return MsalAppOnlyCredential(msal_app)


async def close_graph_client(client: Any) -> None:
    """Closes the httpx client under a `GraphServiceClient`."""
    await client.request_adapter._http_client.aclose()


@pytest.fixture
async def contoso_graph(sandbox: SandboxProcess) -> AsyncIterator[Any]:
    """A `GraphServiceClient` for Contoso with Contoso's own app (app-only `User.ReadWrite.All` etc.)."""
    credential = app_only_credential(sandbox, "Contoso", CONTOSO_APP_ID)
    client = graph_client(sandbox.tenant("Contoso"), credential, sandbox.ca_file)
    try:
        yield client
    finally:
        await close_graph_client(client)
