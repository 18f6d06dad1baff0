"""Users through `GraphServiceClient` (msgraph-sdk), app-only with Contoso's own app: create, read by id and by
UPN, `$filter`, `$select`, paging with `$top` (the SDK's `PageIterator` and following `@odata.nextLink` by hand)
and `$count` with `ConsistencyLevel: eventual`; update and delete; a GCC High tenant on its own Graph host."""

from __future__ import annotations

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.models.user import User
from msgraph.generated.users.count.count_request_builder import CountRequestBuilder
from msgraph.generated.users.users_request_builder import UsersRequestBuilder
from msgraph_core.tasks.page_iterator import PageIterator

from conftest import app_only_credential, close_graph_client
from credentials import graph_client
from graph_objects import new_user, odata_error, unique_tag
from sandbox_process import SandboxProcess

FABRIKAM_APP_ID = "a1b2c3d4-0000-4000-8000-00000000f001"

UsersQuery = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters


def users_config(**query: object) -> RequestConfiguration:
    return RequestConfiguration(query_parameters=UsersQuery(**query))


async def test_create_user_returns_the_new_user(contoso_graph) -> None:
    tag = unique_tag()
    created = await contoso_graph.users.post(new_user(tag))
    assert isinstance(created, User)
    assert created.id, "the created user has an object id"
    assert created.user_principal_name == f"{tag}-0@contoso.com"
    assert created.display_name == f"{tag} User 0"
    assert created.account_enabled is None or created.account_enabled is True
    assert created.password_profile is None, "the password is never echoed back"


async def test_get_user_by_id_and_by_user_principal_name(contoso_graph) -> None:
    tag = unique_tag()
    created = await contoso_graph.users.post(new_user(tag))
    by_id = await contoso_graph.users.by_user_id(created.id).get()
    assert by_id.id == created.id and by_id.user_principal_name == created.user_principal_name
    # The SDK percent-encodes the '@' of a UPN in the path (…/users/cf-x-0%40contoso.com).
    by_upn = await contoso_graph.users.by_user_id(created.user_principal_name).get()
    assert by_upn.id == created.id
    # UPN lookups are case-insensitive.
    by_upper = await contoso_graph.users.by_user_id(created.user_principal_name.upper()).get()
    assert by_upper.id == created.id


async def test_get_seeded_user_has_its_default_properties(contoso_graph) -> None:
    adele = await contoso_graph.users.by_user_id("adele.vance@contoso.com").get()
    assert adele.display_name == "Adele Vance"
    assert adele.given_name == "Adele" and adele.surname == "Vance"
    assert adele.job_title == "Retail Manager"
    assert adele.id == "0b1c2d3e-0000-4000-8000-000000000002"


async def test_filter_startswith_display_name(contoso_graph) -> None:
    tag = unique_tag()
    for number in range(3):
        await contoso_graph.users.post(new_user(tag, number))
    await contoso_graph.users.post(new_user(unique_tag(), 0))
    page = await contoso_graph.users.get(users_config(filter=f"startswith(displayName,'{tag} ')"))
    names = sorted(user.display_name for user in page.value)
    assert names == [f"{tag} User 0", f"{tag} User 1", f"{tag} User 2"]


async def test_filter_eq_user_principal_name(contoso_graph) -> None:
    page = await contoso_graph.users.get(users_config(filter="userPrincipalName eq 'alex.wilber@contoso.com'"))
    assert [user.display_name for user in page.value] == ["Alex Wilber"]


async def test_select_returns_only_the_selected_properties(contoso_graph) -> None:
    page = await contoso_graph.users.get(
        users_config(select=["id", "displayName"], filter="userPrincipalName eq 'adele.vance@contoso.com'")
    )
    [adele] = page.value
    assert adele.display_name == "Adele Vance" and adele.id
    assert adele.user_principal_name is None and adele.job_title is None


async def test_paging_with_top_and_the_page_iterator(contoso_graph) -> None:
    for number in range(3):
        await contoso_graph.users.post(new_user(unique_tag(), number))
    everyone = await contoso_graph.users.get(users_config(top=999))
    assert everyone.odata_next_link is None
    expected = sorted(user.id for user in everyone.value)
    assert len(expected) >= 7

    first = await contoso_graph.users.get(users_config(top=2))
    assert len(first.value) == 2
    assert first.odata_next_link, "a partial page links to the next one"
    assert "$skiptoken=" in first.odata_next_link or "%24skiptoken=" in first.odata_next_link
    seen: list[str] = []
    iterator = PageIterator(first, contoso_graph.request_adapter)
    await iterator.iterate(lambda user: seen.append(user.id) or True)
    assert sorted(seen) == expected
    assert len(seen) == len(set(seen)), "no user appears on two pages"


async def test_paging_by_following_next_links_by_hand(contoso_graph) -> None:
    page = await contoso_graph.users.get(users_config(top=3, select=["id", "userPrincipalName"]))
    pages = [page]
    while page.odata_next_link:
        assert len(pages) < 100, "paging does not end"
        page = await contoso_graph.users.with_url(page.odata_next_link).get()
        pages.append(page)
    assert len(pages) >= 2
    assert all(len(p.value) <= 3 for p in pages)
    # $select is carried by the skip token: later pages keep the projection.
    assert all(user.display_name is None and user.user_principal_name for p in pages for user in p.value)
    ids = [user.id for p in pages for user in p.value]
    assert len(ids) == len(set(ids))


async def test_count_with_consistency_level_eventual(contoso_graph) -> None:
    config = users_config(count=True, top=999)
    config.headers.add("ConsistencyLevel", "eventual")
    page = await contoso_graph.users.get(config)
    assert page.odata_count == len(page.value)

    count_config = RequestConfiguration(query_parameters=CountRequestBuilder.CountRequestBuilderGetQueryParameters())
    count_config.headers.add("ConsistencyLevel", "eventual")
    count = await contoso_graph.users.count.get(count_config)
    assert count == len(page.value)


async def test_count_true_without_consistency_level_is_ignored(contoso_graph) -> None:
    page = await contoso_graph.users.get(users_config(count=True))
    assert page.odata_count is None, "without the header $count=true is silently ignored"
    assert page.value


async def test_update_user_then_delete_it(contoso_graph) -> None:
    created = await contoso_graph.users.post(new_user(unique_tag()))
    patched = await contoso_graph.users.by_user_id(created.id).patch(
        User(job_title="Conformance Tester", department="Quality")
    )
    assert patched is None, "PATCH answers 204 No Content"
    fetched = await contoso_graph.users.by_user_id(created.id).get()
    assert fetched.job_title == "Conformance Tester"
    await contoso_graph.users.by_user_id(created.id).delete()
    error = await odata_error(contoso_graph.users.by_user_id(created.id).get())
    assert error.response_status_code == 404


async def test_gcc_high_graph_serves_its_own_tenant(sandbox: SandboxProcess) -> None:
    fabrikam = sandbox.tenant("Fabrikam")
    assert fabrikam["graph"].endswith("/graph.microsoft.us/v1.0"), fabrikam["graph"]
    client = graph_client(fabrikam, app_only_credential(sandbox, "Fabrikam", FABRIKAM_APP_ID), sandbox.ca_file)
    try:
        page = await client.users.get()
        admin = await client.users.by_user_id("admin@fabrikam.gov").get()
    finally:
        await close_graph_client(client)
    assert "admin@fabrikam.gov" in {user.user_principal_name for user in page.value}
    assert admin.display_name == "Fabrikam Admin"
    assert not any(user.user_principal_name.endswith("@contoso.com") for user in page.value)


async def test_search_needs_consistency_level_eventual(contoso_graph) -> None:
    config = users_config(search='"displayName:Adele"')
    config.headers.add("ConsistencyLevel", "eventual")
    page = await contoso_graph.users.get(config)
    assert "Adele Vance" in {user.display_name for user in page.value}

    error = await odata_error(contoso_graph.users.get(users_config(search='"displayName:Adele"')))
    assert error.response_status_code == 400
    assert error.error.code == "Request_UnsupportedQuery"
    assert error.error.message == (
        "Request with $search query parameter only works through MSGraph with a special request header: "
        "'ConsistencyLevel: eventual'"
    )


async def test_ends_with_is_an_advanced_query(contoso_graph) -> None:
    query = "endswith(userPrincipalName,'@contoso.com')"
    error = await odata_error(contoso_graph.users.get(users_config(filter=query)))
    assert error.response_status_code == 400
    assert error.error.code == "Request_UnsupportedQuery"
    assert error.error.message.startswith("Operator 'endsWith' is not supported because the required parameters")

    config = users_config(filter=query, count=True, top=999)
    config.headers.add("ConsistencyLevel", "eventual")
    page = await contoso_graph.users.get(config)
    assert page.value and all(user.user_principal_name.endswith("@contoso.com") for user in page.value)
    assert page.odata_count == len(page.value)
