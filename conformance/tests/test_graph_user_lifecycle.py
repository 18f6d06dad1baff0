"""The rest of a user's life as Tenure drives it, through the SDK: manager, password reset, soft delete and
restore (reference §3.1.2–3.1.4, §6)."""

from __future__ import annotations

from msgraph.generated.models.password_profile import PasswordProfile
from msgraph.generated.models.reference_update import ReferenceUpdate
from msgraph.generated.models.user import User

from conftest import app_only_credential, close_graph_client
from credentials import graph_client
from graph_objects import new_user, odata_error, unique_tag
from sandbox_process import SandboxProcess

ADELE_ID = "0b1c2d3e-0000-4000-8000-000000000002"
ALEX_ID = "0b1c2d3e-0000-4000-8000-000000000003"
TAILSPIN_APP_ID = "a1b2c3d4-0000-4000-8000-00000000d001"


async def test_seeded_manager_is_returned_as_a_user(contoso_graph) -> None:
    manager = await contoso_graph.users.by_user_id(ALEX_ID).manager.get()
    assert isinstance(manager, User), "the manager carries @odata.type #microsoft.graph.user"
    assert manager.id == ADELE_ID
    assert manager.display_name == "Adele Vance"


async def test_set_and_remove_manager(sandbox: SandboxProcess, contoso_graph) -> None:
    user = await contoso_graph.users.post(new_user(unique_tag()))
    graph_base = sandbox.tenant("Contoso")["graph"]
    manager = contoso_graph.users.by_user_id(user.id).manager
    await manager.ref.put(ReferenceUpdate(odata_id=f"{graph_base}/users/{ADELE_ID}"))
    assert (await manager.get()).id == ADELE_ID
    await manager.ref.delete()
    error = await odata_error(manager.get())
    assert error.response_status_code == 404
    assert error.error.code == "Request_ResourceNotFound"


async def test_app_with_user_administrator_role_resets_a_password(contoso_graph) -> None:
    # Contoso's app holds User.ReadWrite.All and its service principal the User Administrator role.
    user = await contoso_graph.users.post(new_user(unique_tag()))
    reset = User(password_profile=PasswordProfile(force_change_password_next_sign_in=True, password="N3w!Passw0rd-x"))
    assert await contoso_graph.users.by_user_id(user.id).patch(reset) is None


async def test_app_without_a_directory_role_cannot_reset_a_password(sandbox: SandboxProcess) -> None:
    # Tailspin's app (China cloud) holds User.ReadWrite.All but no Entra role: app-only password writes are
    # refused (reference §3.1.2).
    tailspin = sandbox.tenant("Tailspin")
    client = graph_client(tailspin, app_only_credential(sandbox, "Tailspin", TAILSPIN_APP_ID), sandbox.ca_file)
    try:
        domain = tailspin["domains"][0]
        user = await client.users.post(new_user(unique_tag(), domain=domain))
        reset = User(password_profile=PasswordProfile(force_change_password_next_sign_in=True, password="N3w!Pass-x"))
        error = await odata_error(client.users.by_user_id(user.id).patch(reset))
    finally:
        await close_graph_client(client)
    assert error.response_status_code == 403
    assert error.error.code == "Authorization_RequestDenied"
    assert error.error.message == "Insufficient privileges to complete the operation."


async def test_deleted_user_can_be_restored(contoso_graph) -> None:
    user = await contoso_graph.users.post(new_user(unique_tag()))
    await contoso_graph.users.by_user_id(user.id).delete()
    assert (await odata_error(contoso_graph.users.by_user_id(user.id).get())).response_status_code == 404
    restored = await contoso_graph.directory.deleted_items.by_directory_object_id(user.id).restore.post()
    assert isinstance(restored, User) and restored.id == user.id
    assert (await contoso_graph.users.by_user_id(user.id).get()).user_principal_name == user.user_principal_name
