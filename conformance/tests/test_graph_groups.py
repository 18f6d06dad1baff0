"""Groups and membership through `GraphServiceClient`: create a security group and a Microsoft 365 group, add
members with `members/$ref`, list them, refuse a duplicate member, remove a member (reference §3.2)."""

from __future__ import annotations

from msgraph.generated.models.group import Group
from msgraph.generated.models.reference_create import ReferenceCreate
from msgraph.generated.models.user import User

from graph_objects import new_security_group, new_user, odata_error, unique_tag
from sandbox_process import SandboxProcess


async def member_ids(client, group_id: str) -> set[str]:
    page = await client.groups.by_group_id(group_id).members.get()
    ids = set()
    while True:
        ids.update(member.id for member in page.value)
        if not page.odata_next_link:
            return ids
        page = await client.groups.by_group_id(group_id).members.with_url(page.odata_next_link).get()


async def test_create_security_group(contoso_graph) -> None:
    tag = unique_tag()
    group = await contoso_graph.groups.post(new_security_group(tag))
    assert isinstance(group, Group) and group.id
    assert group.display_name == f"{tag} Security"
    assert group.security_enabled is True and group.mail_enabled is False
    assert group.group_types == []
    fetched = await contoso_graph.groups.by_group_id(group.id).get()
    assert fetched.mail_nickname == f"{tag}-security"


async def test_create_microsoft_365_group(contoso_graph) -> None:
    tag = unique_tag()
    group = await contoso_graph.groups.post(
        Group(
            display_name=f"{tag} Team",
            mail_enabled=True,
            mail_nickname=f"{tag}-team",
            security_enabled=False,
            group_types=["Unified"],
        )
    )
    assert group.group_types == ["Unified"]
    assert group.mail and group.mail.lower().startswith(f"{tag}-team@"), group.mail


async def test_add_list_and_remove_members(sandbox: SandboxProcess, contoso_graph) -> None:
    tag = unique_tag()
    group = await contoso_graph.groups.post(new_security_group(tag))
    first = await contoso_graph.users.post(new_user(tag, 1))
    second = await contoso_graph.users.post(new_user(tag, 2))
    members = contoso_graph.groups.by_group_id(group.id).members
    graph_base = sandbox.tenant("Contoso")["graph"]

    # A script with only its base URL changed builds @odata.id on that base...
    await members.ref.post(ReferenceCreate(odata_id=f"{graph_base}/directoryObjects/{first.id}"))
    # ...and many scripts keep Microsoft's documented literal form.
    await members.ref.post(ReferenceCreate(odata_id=f"https://graph.microsoft.com/v1.0/directoryObjects/{second.id}"))
    assert await member_ids(contoso_graph, group.id) == {first.id, second.id}

    page = await members.get()
    assert all(isinstance(member, User) for member in page.value), "members carry @odata.type #microsoft.graph.user"

    await members.by_directory_object_id(first.id).ref.delete()
    assert await member_ids(contoso_graph, group.id) == {second.id}
    # Removing the membership leaves the user itself in place.
    assert (await contoso_graph.users.by_user_id(first.id).get()).id == first.id


async def test_adding_an_existing_member_is_request_bad_request(sandbox: SandboxProcess, contoso_graph) -> None:
    tag = unique_tag()
    group = await contoso_graph.groups.post(new_security_group(tag))
    user = await contoso_graph.users.post(new_user(tag))
    reference = ReferenceCreate(odata_id=f"{sandbox.tenant('Contoso')['graph']}/directoryObjects/{user.id}")
    await contoso_graph.groups.by_group_id(group.id).members.ref.post(reference)
    error = await odata_error(contoso_graph.groups.by_group_id(group.id).members.ref.post(reference))
    assert error.response_status_code == 400
    assert error.error.code == "Request_BadRequest"
    assert error.error.message == (
        "One or more added object references already exist for the following modified properties: 'members'."
    )


async def test_adding_a_missing_object_is_404(sandbox: SandboxProcess, contoso_graph) -> None:
    group = await contoso_graph.groups.post(new_security_group(unique_tag()))
    missing = "00000000-0000-4000-8000-00000000dead"
    reference = ReferenceCreate(odata_id=f"{sandbox.tenant('Contoso')['graph']}/directoryObjects/{missing}")
    error = await odata_error(contoso_graph.groups.by_group_id(group.id).members.ref.post(reference))
    assert error.response_status_code == 404
    assert error.error.code == "Request_ResourceNotFound"


async def test_seeded_group_lists_its_members(contoso_graph) -> None:
    ids = await member_ids(contoso_graph, "0c1d2e3f-0000-4000-8000-000000000001")
    assert {
        "0b1c2d3e-0000-4000-8000-000000000002",
        "0b1c2d3e-0000-4000-8000-000000000003",
        "0b1c2d3e-0000-4000-8000-000000000004",
    } <= ids
