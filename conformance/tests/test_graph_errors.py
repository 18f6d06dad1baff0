"""Microsoft-shaped Graph errors as the SDK surfaces them: `ODataError` with the status code, `error.code`,
`error.message`, `details` and `innerError` read from the body (reference §3.6)."""

from __future__ import annotations

import uuid

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.users.count.count_request_builder import CountRequestBuilder
from msgraph.generated.users.users_request_builder import UsersRequestBuilder

from auth_code import TENURE_APP_ID
from conftest import app_only_credential, close_graph_client
from credentials import graph_client
from graph_objects import new_user, odata_error, unique_tag
from sandbox_process import SandboxProcess

FABRIKAM_APP_ID = "a1b2c3d4-0000-4000-8000-00000000f001"


async def test_duplicate_user_principal_name_is_request_bad_request_object_conflict(contoso_graph) -> None:
    tag = unique_tag()
    await contoso_graph.users.post(new_user(tag))
    error = await odata_error(contoso_graph.users.post(new_user(tag)))
    assert error.response_status_code == 400
    assert error.error.code == "Request_BadRequest"
    assert error.error.message == "Another object with the same value for property userPrincipalName already exists."
    assert error.error.details, "the conflict is detailed"
    conflict = error.error.details[0]
    assert conflict.code == "ObjectConflict"
    assert conflict.target == "userPrincipalName"
    assert error.error.inner_error is not None and error.error.inner_error.request_id


async def test_missing_user_is_request_resource_not_found_404(contoso_graph) -> None:
    missing = str(uuid.uuid4())
    error = await odata_error(contoso_graph.users.by_user_id(missing).get())
    assert error.response_status_code == 404
    assert error.error.code == "Request_ResourceNotFound"
    assert error.error.message == (
        f"Resource '{missing}' does not exist or one of its queried reference-property objects are not present."
    )
    inner = error.error.inner_error
    assert inner is not None and inner.request_id and inner.date is not None
    assert inner.client_request_id, "Graph echoes the client-request-id the SDK sent"


async def test_missing_user_by_upn_is_404_too(contoso_graph) -> None:
    error = await odata_error(contoso_graph.users.by_user_id("nobody-here@contoso.com").get())
    assert error.response_status_code == 404
    assert error.error.code == "Request_ResourceNotFound"


async def test_app_without_application_permissions_gets_authorization_request_denied(sandbox: SandboxProcess) -> None:
    # Tenure's multi-tenant app in its own home tenant: a token is issued, but no application permission is
    # granted there, so it has no `roles` and Graph refuses to list users.
    credential = app_only_credential(sandbox, "Tenure Publisher", TENURE_APP_ID)
    client = graph_client(sandbox.tenant("Tenure Publisher"), credential, sandbox.ca_file)
    try:
        error = await odata_error(client.users.get())
    finally:
        await close_graph_client(client)
    assert error.response_status_code == 403
    assert error.error.code == "Authorization_RequestDenied"
    assert error.error.message == "Insufficient privileges to complete the operation."


async def test_count_segment_without_consistency_level_is_refused(contoso_graph) -> None:
    config = RequestConfiguration(query_parameters=CountRequestBuilder.CountRequestBuilderGetQueryParameters())
    error = await odata_error(contoso_graph.users.count.get(config))
    assert error.response_status_code == 400
    assert error.error.code == "Request_BadRequest"
    assert error.error.message == "$count is not currently supported."


async def test_top_above_999_is_refused(contoso_graph) -> None:
    config = RequestConfiguration(query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(top=1000))
    error = await odata_error(contoso_graph.users.get(config))
    assert error.response_status_code == 400
    assert error.error.message == "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."


async def test_token_of_another_cloud_is_refused_with_401(sandbox: SandboxProcess) -> None:
    # A GCC High token (aud https://graph.microsoft.us) sent to worldwide Graph: tokens of one cloud are not
    # accepted in another (reference §2).
    fabrikam = sandbox.tenant("Fabrikam")
    credential = app_only_credential(sandbox, "Fabrikam", FABRIKAM_APP_ID)
    misdirected = dict(fabrikam, graph=sandbox.tenant("Contoso")["graph"])
    client = graph_client(misdirected, credential, sandbox.ca_file, scopes=["https://graph.microsoft.us/.default"])
    try:
        error = await odata_error(client.users.get())
    finally:
        await close_graph_client(client)
    assert error.response_status_code == 401
    assert error.error.code == "InvalidAuthenticationToken"
