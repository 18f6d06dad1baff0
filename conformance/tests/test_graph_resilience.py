"""What a customer's script must survive, seen through the SDK: throttling (429 with `Retry-After`, honoured by
Kiota's retry handler) and eventual consistency (a new user briefly invisible; reference §3.7, §3.8).

Runs on a sandbox of its own: it sets the sandbox's knobs (`PUT /_sandbox/knobs`) and moves its clock.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_http.middleware.options import RetryHandlerOption

from conftest import CONTOSO_APP_ID, app_only_credential, close_graph_client
from credentials import graph_client
from graph_objects import new_user, odata_error, unique_tag
from sandbox_process import SandboxProcess, describe, start_sandbox

ADELE_ID = "0b1c2d3e-0000-4000-8000-000000000002"


@pytest.fixture(scope="module")
def knob_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    process = start_sandbox(tmp_path_factory.mktemp("knob-sandbox"))
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def set_knobs(knob_sandbox: SandboxProcess) -> Iterator[Any]:
    """Sets knobs for one test and puts the previous ones back afterwards."""
    original = knob_sandbox.admin_request("GET", "/knobs").json()

    def apply(**changes: Any) -> None:
        response = knob_sandbox.admin_request("PUT", "/knobs", json={**original, **changes})
        assert response.status_code == 204, describe(response)

    yield apply
    response = knob_sandbox.admin_request("PUT", "/knobs", json=original)
    assert response.status_code == 204, describe(response)


@pytest.fixture
async def graph(knob_sandbox: SandboxProcess) -> AsyncIterator[Any]:
    credential = app_only_credential(knob_sandbox, "Contoso", CONTOSO_APP_ID)
    client = graph_client(knob_sandbox.tenant("Contoso"), credential, knob_sandbox.ca_file)
    try:
        yield client
    finally:
        await close_graph_client(client)


def throttle_once(path: str) -> dict[str, Any]:
    return {"method": "GET", "path_prefix": path, "nth": 1, "throttle": True, "retry_after_seconds": 1}


async def test_throttled_request_answers_429_with_retry_after(set_knobs, graph) -> None:
    set_knobs(fault_plan=[throttle_once(f"/v1.0/users/{ADELE_ID}")])
    no_retry = RequestConfiguration(options=[RetryHandlerOption(max_retries=0)])
    error = await odata_error(graph.users.by_user_id(ADELE_ID).get(no_retry))
    assert error.response_status_code == 429
    headers = {key.lower(): value for key, value in (error.response_headers or {}).items()}
    assert headers.get("retry-after") in ("1", ["1"], {"1"}), error.response_headers


async def test_sdk_retry_handler_honours_retry_after_and_succeeds(set_knobs, graph) -> None:
    set_knobs(fault_plan=[throttle_once(f"/v1.0/users/{ADELE_ID}")])
    started = time.monotonic()
    adele = await graph.users.by_user_id(ADELE_ID).get()
    assert adele.display_name == "Adele Vance"
    assert time.monotonic() - started >= 1.0, "Kiota waited the Retry-After before retrying"


async def test_new_user_is_invisible_until_replicated(knob_sandbox: SandboxProcess, set_knobs, graph) -> None:
    set_knobs(replication_delay_ms=30_000)
    created = await graph.users.post(new_user(unique_tag()))
    assert created.id, "the creating response returns the object"
    error = await odata_error(graph.users.by_user_id(created.id).get())
    assert error.response_status_code == 404
    assert error.error.code == "Request_ResourceNotFound"
    knob_sandbox.advance_clock(31)
    assert (await graph.users.by_user_id(created.id).get()).id == created.id
