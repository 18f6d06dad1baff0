"""Delta queries on users through the SDK: `users.delta.get()`, then `with_url` on every `@odata.nextLink` until
an `@odata.deltaLink`, and the deltaLink later for the changes since (reference §3.4)."""

from __future__ import annotations

from typing import Any

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.models.user import User
from msgraph.generated.users.delta.delta_request_builder import DeltaRequestBuilder

from graph_objects import new_user, unique_tag
from sandbox_process import SandboxProcess

DeltaQuery = DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters


async def drain(client, response) -> tuple[list[User], str, int]:
    """Follows nextLinks to the end of a round: (items, deltaLink, number of pages)."""
    items = list(response.value or [])
    pages = 1
    while response.odata_next_link:
        assert pages < 1000, "delta paging does not end"
        assert not response.odata_delta_link, "a page carries a nextLink or a deltaLink, not both"
        response = await client.users.delta.with_url(response.odata_next_link).get()
        items.extend(response.value or [])
        pages += 1
    assert response.odata_delta_link, "the last page of a round carries the deltaLink"
    return items, response.odata_delta_link, pages


def removed(user: User) -> Any:
    return (user.additional_data or {}).get("@removed")


async def test_initial_round_returns_every_user_and_ends_with_a_delta_link(contoso_graph) -> None:
    config = RequestConfiguration(query_parameters=DeltaQuery(select=["displayName", "jobTitle"]))
    items, delta_link, _ = await drain(contoso_graph, await contoso_graph.users.delta.get(config))
    by_id = {user.id: user for user in items}
    adele = by_id["0b1c2d3e-0000-4000-8000-000000000002"]
    assert adele.display_name == "Adele Vance" and adele.job_title == "Retail Manager"
    assert all(user.user_principal_name is None for user in items), "$select is kept across the round"
    assert "$deltatoken=" in delta_link or "%24deltatoken=" in delta_link
    assert not any(removed(user) for user in items), "an initial round lists no removals"


async def test_delta_link_returns_created_updated_and_deleted_users(contoso_graph) -> None:
    _, delta_link, _ = await drain(contoso_graph, await contoso_graph.users.delta.get())
    tag = unique_tag()
    created = await contoso_graph.users.post(new_user(tag, 1))
    updated = await contoso_graph.users.post(new_user(tag, 2))
    deleted = await contoso_graph.users.post(new_user(tag, 3))
    # Take a fresh deltaLink after the setup, so the round below sees exactly the changes made after it.
    _, delta_link, _ = await drain(contoso_graph, await contoso_graph.users.delta.with_url(delta_link).get())

    newcomer = await contoso_graph.users.post(new_user(tag, 4))
    await contoso_graph.users.by_user_id(updated.id).patch(User(job_title="Delta Tester"))
    await contoso_graph.users.by_user_id(deleted.id).delete()

    items, next_delta_link, _ = await drain(contoso_graph, await contoso_graph.users.delta.with_url(delta_link).get())
    by_id: dict[str, list[User]] = {}
    for user in items:
        by_id.setdefault(user.id, []).append(user)
    assert newcomer.id in by_id, "a user created since the last round appears"
    assert any(u.user_principal_name == newcomer.user_principal_name for u in by_id[newcomer.id])
    assert updated.id in by_id and any(u.job_title == "Delta Tester" for u in by_id[updated.id])
    assert deleted.id in by_id and any(removed(u) == {"reason": "changed"} for u in by_id[deleted.id]), (
        "a soft-deleted user appears with @removed reason 'changed'"
    )
    assert created.id not in by_id, "an unchanged user does not appear"

    quiet, _, _ = await drain(contoso_graph, await contoso_graph.users.delta.with_url(next_delta_link).get())
    assert not {newcomer.id, updated.id, deleted.id} & {user.id for user in quiet}, "nothing changed since"


async def test_delta_token_latest_returns_only_a_delta_link(sandbox: SandboxProcess, contoso_graph) -> None:
    url = f"{sandbox.tenant('Contoso')['graph']}/users/delta?$deltatoken=latest"
    response = await contoso_graph.users.delta.with_url(url).get()
    assert not response.value
    assert response.odata_next_link is None
    assert response.odata_delta_link
    newcomer = await contoso_graph.users.post(new_user(unique_tag()))
    items, _, _ = await drain(contoso_graph, await contoso_graph.users.delta.with_url(response.odata_delta_link).get())
    assert {user.id for user in items} == {newcomer.id}
