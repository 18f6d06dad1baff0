"""The Exchange Online admin API as a REST endpoint (reference §4.1-4.2): the answer's shape and headers, the
tenant in the URL, paging by `@odata.nextLink`, `$select`, `EXOModuleFile`, and every kind of error, read the
way ExoHelper and CIPP read them. All calls use Contoso's app-only token on the session's sandbox and change
nothing that other tests rely on."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from exchange_admin import (
    MODULE_VERSION,
    ExchangeAdmin,
    app_only_exchange,
    app_only_graph_token,
    parse_error,
    unique_name,
)
from sandbox_process import SandboxProcess, describe

ADELE = "adele.vance@contoso.com"
ALEX = "alex.wilber@contoso.com"
SEEDED_SECURITY_GROUP = "Finance Approvers"
"""A seeded mail-enabled security group; Adele is its only member."""
SEEDED_DISTRIBUTION_LIST = "Retail Announcements"

NOT_FOUND = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException"
PARAMETER_BINDING = "System.Management.Automation.ParameterBindingException"


@pytest.fixture(scope="module")
def exo(sandbox: SandboxProcess) -> ExchangeAdmin:
    return app_only_exchange(sandbox)


def base_names(item: dict) -> set[str]:
    """An object's property names without their `@data.type`/`@odata.type` annotations."""
    return {key.split("@", 1)[0] for key in item}


def assert_cmdlet_error(error, status: int, code: str, exception_type: str) -> None:
    """The envelope of an error raised by a cmdlet (the captured 404 of reference §4.2)."""
    assert (error.status, error.code) == (status, code), error.body
    assert error.message == "Error executing cmdlet", error.body
    assert re.fullmatch(r"Ex[0-9A-F]{6}", error.error_id or ""), error.body
    assert error.exception_type == exception_type, error.body
    assert error.header_exception_type == exception_type, "X-ExceptionType names the same exception"
    assert error.body["error"]["details"][0]["code"] == "Client", error.body
    inner = error.body["error"]["innererror"]
    assert inner["type"] == "Microsoft.Exchange.Admin.OData.Core.ODataServiceException", inner
    assert inner["internalexception"]["type"].endswith("DirectInvokeCmdletExecutionException"), inner
    assert error.body["error"]["@adminapi.warnings"] == [], error.body


# --- success ------------------------------------------------------------------------------------------------


def test_answer_carries_odata_headers_annotations_and_rate_limits(exo: ExchangeAdmin) -> None:
    response = exo.invoke("Get-Mailbox", {"Identity": ADELE})
    assert response.status_code == 200, describe(response)
    content_type = response.headers["Content-Type"]
    assert content_type.startswith("application/json"), content_type
    assert "odata.metadata=minimal" in content_type, content_type
    assert response.headers["OData-Version"] == "4.0"
    assert int(response.headers["Rate-Limit-Limit"]) > 0
    assert 0 <= int(response.headers["Rate-Limit-Remaining"]) < int(response.headers["Rate-Limit-Limit"])
    datetime.fromisoformat(response.headers["Rate-Limit-Reset"].replace("Z", "+00:00"))
    sent = exo.http.sent[-1]["headers"]
    assert response.headers["client-request-id"] == sent["client-request-id"]

    body = response.json()
    assert body["@odata.context"].endswith("/$metadata#Collection(Exchange.GenericHashTable)"), body
    assert body["adminapi.warnings@odata.type"] == "#Collection(String)"
    assert body["@adminapi.warnings"] == []
    assert "@odata.nextLink" not in body
    [mailbox] = body["value"]
    assert mailbox["UserPrincipalName"] == ADELE
    assert mailbox["RecipientTypeDetails"] == "UserMailbox"
    assert mailbox["ExchangeGuid@data.type"] == "System.Guid"
    assert mailbox["ExchangeGuid@odata.type"] == "#Guid"
    assert mailbox["EmailAddresses@odata.type"] == "#Collection(String)"
    assert f"SMTP:{ADELE}" in mailbox["EmailAddresses"]
    assert mailbox["WhenMailboxCreated@data.type"] == "System.DateTime"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00", mailbox["WhenMailboxCreated"]), mailbox


def test_the_client_sends_the_module_headers(exo: ExchangeAdmin) -> None:
    exo.run("Get-Mailbox", {"Identity": ADELE})
    request = exo.http.sent[-1]
    headers = request["headers"]
    assert headers["X-CmdletName"] == "Get-Mailbox"
    assert headers["Prefer"] == "odata.maxpagesize=1000"
    assert headers["X-AnchorMailbox"].startswith("APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@")
    assert headers["X-ClientApplication"] == "ExoManagementModule"
    assert headers["X-ClientModuleVersion"] == MODULE_VERSION
    assert (
        request["data"]
        == b'{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"Identity":"adele.vance@contoso.com"}}}'
    )


def test_each_call_spends_the_rate_limit(exo: ExchangeAdmin) -> None:
    first = exo.invoke("Get-Mailbox", {"Identity": ADELE})
    second = exo.invoke("Get-Mailbox", {"Identity": ADELE})
    assert int(second.headers["Rate-Limit-Remaining"]) < int(first.headers["Rate-Limit-Remaining"])


def test_cmdlet_names_are_case_insensitive(exo: ExchangeAdmin) -> None:
    # The intercepted module request sent "get-mailbox" (reference §4.1).
    [mailbox] = exo.objects("get-mailbox", {"Identity": ADELE})
    assert mailbox["UserPrincipalName"] == ADELE


@pytest.mark.parametrize("tenant_in_url", ["id", "contoso.onmicrosoft.com", "contoso.com"])
def test_tenant_by_guid_or_domain(sandbox: SandboxProcess, exo: ExchangeAdmin, tenant_in_url: str) -> None:
    tenant = sandbox.tenant("Contoso")
    segment = tenant["id"] if tenant_in_url == "id" else tenant_in_url
    [mailbox] = exo.objects("Get-Mailbox", {"Identity": ADELE}, url=exo.url(tenant_in_url=segment))
    assert mailbox["ExternalDirectoryObjectId"] == "0b1c2d3e-0000-4000-8000-000000000002"


def test_another_tenant_in_the_url_is_401(sandbox: SandboxProcess, exo: ExchangeAdmin) -> None:
    other = sandbox.tenant("Tenure Publisher")["id"]
    response = exo.invoke("Get-Mailbox", {"Identity": ADELE}, url=exo.url(tenant_in_url=other))
    assert response.status_code == 401, describe(response)


# --- paging and $select ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("cmdlet", ["Get-Mailbox", "Get-Recipient"])
def test_paging_one_object_per_page_returns_every_object_once(exo: ExchangeAdmin, cmdlet: str) -> None:
    everything = exo.objects(cmdlet)
    assert len(everything) >= 3, everything
    paged, pages = exo.invoke_all(cmdlet, page_size=1)
    assert [len(page["value"]) for page in pages] == [1] * len(everything)
    assert all("@odata.nextLink" in page for page in pages[:-1]) and "@odata.nextLink" not in pages[-1]
    ids = [item["Guid"] for item in paged]
    assert len(set(ids)) == len(ids), "an object came twice"
    assert set(ids) == {item["Guid"] for item in everything}
    # Every next link was followed with the same body, as the module does.
    bodies = {entry["data"] for entry in exo.http.sent[-len(pages) :]}
    assert len(bodies) == 1, bodies


def test_next_links_stay_on_the_tenant_and_endpoint(exo: ExchangeAdmin) -> None:
    response = exo.invoke("Get-Mailbox", page_size=1)
    assert response.status_code == 200, describe(response)
    link = response.json()["@odata.nextLink"]
    assert link.startswith(exo.invoke_url), link


def test_select_keeps_only_the_named_properties(exo: ExchangeAdmin) -> None:
    [mailbox] = exo.objects("Get-Mailbox", {"Identity": ADELE}, select=["Alias", "ExchangeGuid"])
    assert base_names(mailbox) == {"Alias", "ExchangeGuid"}, mailbox
    assert mailbox["ExchangeGuid@data.type"] == "System.Guid", "a selected property keeps its annotations"


def test_select_applies_to_every_page(exo: ExchangeAdmin) -> None:
    paged, pages = exo.invoke_all("Get-Mailbox", page_size=1, select=["PrimarySmtpAddress"])
    assert len(pages) >= 3
    assert all(base_names(item) == {"PrimarySmtpAddress"} for item in paged), paged


# --- EXOModuleFile --------------------------------------------------------------------------------------------


def test_module_file_lists_the_cmdlets_of_the_callers_roles(exo: ExchangeAdmin) -> None:
    response = exo.module_file()
    assert response.status_code == 200, describe(response)
    exported = {name for name in response.json()["value"]["exportedCmdlets"].split(",")}
    # "Tenure Provisioning": Distribution Groups, Security Group Creation and Membership, Mail Recipients.
    assert {
        "Get-Mailbox",
        "Get-EXOMailbox",
        "Get-Recipient",
        "Set-Mailbox",
        "New-DistributionGroup",
        "Set-DistributionGroup",
        "Remove-DistributionGroup",
        "Add-DistributionGroupMember",
        "Remove-DistributionGroupMember",
        "Add-MailboxPermission",
        "Add-RecipientPermission",
        "Set-MailboxAutoReplyConfiguration",
    } <= exported, exported
    assert "New-Mailbox" not in exported, "creating mailboxes needs Mail Recipient Creation"


def test_module_file_without_a_token_is_401(exo: ExchangeAdmin) -> None:
    response = exo.module_file(headers={"Authorization": ""})
    assert response.status_code == 401, describe(response)


# --- errors: tokens -------------------------------------------------------------------------------------------


def assert_token_refused(response) -> None:
    assert response.status_code == 401, describe(response)
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer"), describe(response)
    error = parse_error(response)
    assert error.exception_type is None, "a token error comes before any cmdlet runs"


def test_missing_token_is_401(exo: ExchangeAdmin) -> None:
    assert_token_refused(exo.invoke("Get-Mailbox", headers={"Authorization": None}))


def test_invalid_token_is_401(exo: ExchangeAdmin) -> None:
    assert_token_refused(exo.invoke("Get-Mailbox", headers={"Authorization": "Bearer not.a.token"}))


def test_graph_token_is_the_wrong_audience(sandbox: SandboxProcess, exo: ExchangeAdmin) -> None:
    graph_token = app_only_graph_token(sandbox)
    assert_token_refused(exo.invoke("Get-Mailbox", headers={"Authorization": f"Bearer {graph_token}"}))


# --- errors: binding ------------------------------------------------------------------------------------------


def test_unknown_cmdlet(exo: ExchangeAdmin) -> None:
    error = exo.fail("Get-Mailboxx")
    assert_cmdlet_error(error, 400, "BadRequest", "System.Management.Automation.CommandNotFoundException")
    assert error.detail.startswith("The term 'Get-Mailboxx' is not recognized as"), error.detail


def test_unknown_parameter(exo: ExchangeAdmin) -> None:
    error = exo.fail("Get-Mailbox", {"Identity": ADELE, "Colour": "red"})
    assert_cmdlet_error(error, 400, "BadRequest", PARAMETER_BINDING)
    assert error.detail == "A parameter cannot be found that matches parameter name 'Colour'."
    assert error.target == "Colour"


def test_value_of_the_wrong_type(exo: ExchangeAdmin) -> None:
    error = exo.fail("Set-Mailbox", {"Identity": ADELE, "HiddenFromAddressListsEnabled": "yes"})
    assert_cmdlet_error(
        error, 400, "BadRequest", "System.Management.Automation.ParameterBindingArgumentTransformationException"
    )
    # PowerShell's own text for a string bound to a Boolean parameter (Exchange cmdlets show it too).
    assert error.detail == (
        "Cannot process argument transformation on parameter 'HiddenFromAddressListsEnabled'. Cannot convert value "
        '"System.String" to type "System.Boolean". Boolean parameters accept only Boolean values and numbers, '
        "such as $True, $False, 1 or 0."
    )
    assert error.target == "HiddenFromAddressListsEnabled"


def test_value_outside_the_enumeration(exo: ExchangeAdmin) -> None:
    error = exo.fail("Set-Mailbox", {"Identity": ADELE, "Type": "Room2"})
    assert (error.status, error.code) == (400, "BadRequest"), error.body
    assert error.exception_type.startswith("System.Management.Automation.ParameterBinding"), error.exception_type
    assert error.target == "Type"
    # PowerShell names the enumeration type (Set-Mailbox -Type is a ConvertibleMailboxSubType) and lists its names.
    assert re.search(
        r'Cannot convert value "Room2" to type "[\w.]*ConvertibleMailboxSubType"\. Error: ', error.detail
    ), error.detail
    assert "Unable to match the identifier name Room2 to a valid enumerator name." in error.detail
    assert "Regular" in error.detail and "Shared" in error.detail


def test_missing_mandatory_parameter(exo: ExchangeAdmin) -> None:
    error = exo.fail("Set-Mailbox", {"Type": "Shared"})
    assert_cmdlet_error(error, 400, "BadRequest", PARAMETER_BINDING)
    assert error.detail == "Cannot process command because of one or more missing mandatory parameters: Identity."


def test_malformed_body_is_400_without_details(exo: ExchangeAdmin) -> None:
    for body in (b'{"CmdletInput":', b'{"Cmdlet":{"Name":"Get-Mailbox"}}', b'{"CmdletInput":{"Parameters":{}}}'):
        response = exo.http.post(exo.url(), data=body, headers=exo.headers("Get-Mailbox"), timeout=30)
        assert response.status_code == 400, describe(response)
        error = parse_error(response)
        assert error.exception_type is None and error.message, error.body


# --- errors: the cmdlets' own -----------------------------------------------------------------------------------


def test_identity_not_found(exo: ExchangeAdmin) -> None:
    error = exo.fail("Get-Mailbox", {"Identity": "nobody@contoso.com"})
    assert_cmdlet_error(error, 404, "NotFound", NOT_FOUND)
    assert re.fullmatch(
        r"The operation couldn't be performed because object 'nobody@contoso\.com' couldn't be found on '[^']+'\.",
        error.detail,
    ), error.detail


def test_adding_a_member_already_there(exo: ExchangeAdmin) -> None:
    error = exo.fail(
        "Add-DistributionGroupMember",
        {"Identity": SEEDED_SECURITY_GROUP, "Member": ADELE, "BypassSecurityGroupManagerCheck": True},
    )
    assert_cmdlet_error(error, 400, "BadRequest", "Microsoft.Exchange.Management.Tasks.MemberAlreadyExistsException")
    assert "is already a member of the group" in error.detail and SEEDED_SECURITY_GROUP in error.detail


def test_removing_a_recipient_that_is_not_a_member(exo: ExchangeAdmin) -> None:
    error = exo.fail(
        "Remove-DistributionGroupMember",
        {"Identity": SEEDED_SECURITY_GROUP, "Member": ALEX, "BypassSecurityGroupManagerCheck": True, "Confirm": False},
    )
    assert_cmdlet_error(error, 400, "BadRequest", "Microsoft.Exchange.Management.Tasks.MemberNotFoundException")
    assert "isn't a member of the group" in error.detail and SEEDED_SECURITY_GROUP in error.detail


def test_duplicate_group_name(exo: ExchangeAdmin) -> None:
    error = exo.fail("New-DistributionGroup", {"Name": SEEDED_DISTRIBUTION_LIST, "Alias": unique_name()})
    assert_cmdlet_error(error, 400, "BadRequest", "Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException")
    assert error.detail == f'The name "{SEEDED_DISTRIBUTION_LIST}" is already being used. Please try another name.'


@pytest.mark.parametrize(
    ("parameters", "address"),
    [
        ({"Alias": "adele.vance"}, ADELE),
        ({"PrimarySmtpAddress": ALEX}, ALEX),
    ],
    ids=["alias", "address"],
)
def test_duplicate_alias_or_address(exo: ExchangeAdmin, parameters: dict, address: str) -> None:
    error = exo.fail("New-DistributionGroup", {"Name": unique_name(), **parameters})
    assert_cmdlet_error(error, 400, "BadRequest", "Microsoft.Exchange.Data.Directory.ProxyAddressExistsException")
    assert error.detail.startswith(f'The proxy address "SMTP:{address}" is already being used'), error.detail


def test_membership_change_without_manager_check_bypass(exo: ExchangeAdmin) -> None:
    # An app is never in ManagedBy: without the switch it is not a manager of the group.
    error = exo.fail("Add-DistributionGroupMember", {"Identity": SEEDED_DISTRIBUTION_LIST, "Member": ALEX})
    assert_cmdlet_error(
        error, 400, "BadRequest", "Microsoft.Exchange.Configuration.Tasks.OperationRequiresGroupManagerException"
    )
    assert error.detail == (
        "You don't have sufficient permissions. This operation can only be performed by a manager of the group."
    )
    members = exo.objects("Get-DistributionGroupMember", {"Identity": SEEDED_DISTRIBUTION_LIST})
    assert ALEX not in {member["PrimarySmtpAddress"] for member in members}, "the refused change left no trace"
