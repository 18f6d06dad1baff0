"""Every cmdlet of the Exchange Online admin API, round trip: a script calls it over REST and then sees the change
with the matching `Get-*` cmdlet (and groups in Microsoft Graph too). Contoso's app calls app-only; Tenure's
service account calls delegated; `New-Mailbox -Shared` runs as the Global Administrator (Organization
Management), since "Tenure Provisioning" lacks Mail Recipient Creation.

These tests change mailboxes and groups, and the administrator's consent to `Exchange.Manage` is tenant-wide,
so the module runs on a sandbox of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from exchange_admin import (
    SERVICE_ACCOUNT,
    ExchangeAdmin,
    admin_consents_for_organization,
    app_only_exchange,
    app_only_graph_token,
    delegated_exchange,
    generic_hashtable,
    unique_name,
)
from sandbox_process import SandboxProcess, describe, start_sandbox

ADELE = "adele.vance@contoso.com"
ALEX = "alex.wilber@contoso.com"
ADELE_ID = "0b1c2d3e-0000-4000-8000-000000000002"
ALEX_ID = "0b1c2d3e-0000-4000-8000-000000000003"

EXO_MINIMUM_PROPERTIES = {
    "ExternalDirectoryObjectId",
    "UserPrincipalName",
    "Alias",
    "DisplayName",
    "EmailAddresses",
    "PrimarySmtpAddress",
    "RecipientType",
    "RecipientTypeDetails",
    "Identity",
    "Id",
    "ExchangeVersion",
    "Name",
    "OrganizationId",
    "DistinguishedName",
    "Guid",
}
"""`Get-EXOMailbox`'s minimum property set (https://learn.microsoft.com/powershell/exchange/cmdlet-property-sets)."""

GraphGet = Callable[[str], Any]


@pytest.fixture(scope="module")
def exchange_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    process = start_sandbox(tmp_path_factory.mktemp("exchange-sandbox"))
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def admin_exo(exchange_sandbox: SandboxProcess) -> ExchangeAdmin:
    """The Global Administrator, after granting `Exchange.Manage` to Tenure's app for the organisation."""
    return admin_consents_for_organization(exchange_sandbox)


@pytest.fixture(scope="module")
def app_exo(exchange_sandbox: SandboxProcess) -> ExchangeAdmin:
    return app_only_exchange(exchange_sandbox)


@pytest.fixture(scope="module")
def service_exo(exchange_sandbox: SandboxProcess, admin_exo: ExchangeAdmin) -> ExchangeAdmin:
    """Tenure's service account (a member of "Tenure Provisioning"), signed in once the admin has consented."""
    return delegated_exchange(exchange_sandbox, SERVICE_ACCOUNT)


@pytest.fixture(scope="module")
def graph_get(exchange_sandbox: SandboxProcess, app_exo: ExchangeAdmin) -> GraphGet:
    """A raw Graph GET with an MSAL app-only Graph token: the JSON of a 200, or the status code otherwise."""
    token = app_only_graph_token(exchange_sandbox)
    base = exchange_sandbox.tenant("Contoso")["graph"]

    def get(path: str) -> Any:
        response = app_exo.http.get(f"{base}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        return response.json() if response.status_code == 200 else response.status_code

    return get


def one(exo: ExchangeAdmin, cmdlet: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """The single object a cmdlet outputs."""
    objects = exo.objects(cmdlet, parameters)
    assert len(objects) == 1, objects
    return objects[0]


def base_names(item: dict[str, Any]) -> set[str]:
    return {key.split("@", 1)[0] for key in item}


# --- mailboxes and recipients ---------------------------------------------------------------------------------


def test_get_mailbox_lists_licensed_users(app_exo: ExchangeAdmin) -> None:
    upns = {mailbox["UserPrincipalName"] for mailbox in app_exo.objects("Get-Mailbox")}
    assert {"admin@contoso.com", ADELE, ALEX} <= upns
    assert "megan.bowen@contoso.com" not in upns, "Megan has no Exchange licence, so no mailbox"
    assert SERVICE_ACCOUNT not in upns


def test_get_exo_mailbox_returns_the_minimum_property_set_unless_asked(app_exo: ExchangeAdmin) -> None:
    minimal = one(app_exo, "Get-EXOMailbox", {"Identity": ADELE})
    assert base_names(minimal) == EXO_MINIMUM_PROPERTIES, sorted(base_names(minimal) ^ EXO_MINIMUM_PROPERTIES)
    more = one(
        app_exo, "Get-EXOMailbox", {"Identity": ADELE, "Properties": ["HiddenFromAddressListsEnabled", "ExchangeGuid"]}
    )
    assert base_names(more) == EXO_MINIMUM_PROPERTIES | {"HiddenFromAddressListsEnabled", "ExchangeGuid"}
    assert more["ExchangeGuid"] == one(app_exo, "Get-Mailbox", {"Identity": ADELE})["ExchangeGuid"]


def test_get_recipient_covers_mailboxes_and_groups(app_exo: ExchangeAdmin) -> None:
    details = {item["Name"]: item["RecipientTypeDetails"] for item in app_exo.objects("Get-Recipient")}
    assert details["Retail Announcements"] == "MailUniversalDistributionGroup"
    assert details["Finance Approvers"] == "MailUniversalSecurityGroup"
    assert details["Marketing"] == "GroupMailbox"
    assert "All Staff" not in details, "a security group that is not mail-enabled is no recipient"
    mailboxes = app_exo.objects("Get-Recipient", {"RecipientTypeDetails": ["UserMailbox"]})
    assert mailboxes and all(item["RecipientTypeDetails"] == "UserMailbox" for item in mailboxes)


def test_set_mailbox_converts_to_shared_and_back(app_exo: ExchangeAdmin) -> None:
    app_exo.run("Set-Mailbox", {"Identity": ALEX, "Type": "Shared"})
    shared = one(app_exo, "Get-Mailbox", {"Identity": ALEX})
    assert (shared["RecipientTypeDetails"], shared["IsShared"]) == ("SharedMailbox", True)
    assert ALEX in {
        m["UserPrincipalName"] for m in app_exo.objects("Get-Mailbox", {"RecipientTypeDetails": "SharedMailbox"})
    }
    app_exo.run("Set-Mailbox", {"Identity": ALEX, "Type": "Regular"})
    assert one(app_exo, "Get-Mailbox", {"Identity": ALEX})["RecipientTypeDetails"] == "UserMailbox"


def test_set_mailbox_hides_from_address_lists(app_exo: ExchangeAdmin, service_exo: ExchangeAdmin) -> None:
    service_exo.run("Set-Mailbox", {"Identity": ADELE, "HiddenFromAddressListsEnabled": True})
    try:
        assert one(app_exo, "Get-Mailbox", {"Identity": ADELE})["HiddenFromAddressListsEnabled"] is True
        assert one(app_exo, "Get-Recipient", {"Identity": ADELE})["HiddenFromAddressListsEnabled"] is True
    finally:
        service_exo.run("Set-Mailbox", {"Identity": ADELE, "HiddenFromAddressListsEnabled": False})
    assert one(app_exo, "Get-Mailbox", {"Identity": ADELE})["HiddenFromAddressListsEnabled"] is False


def test_set_mailbox_that_changes_nothing_warns(app_exo: ExchangeAdmin) -> None:
    body = app_exo.run("Set-Mailbox", {"Identity": ADELE, "Type": "Regular"})
    assert body is not None, "a warning comes back in the body"
    name = one(app_exo, "Get-Mailbox", {"Identity": ADELE})["Name"]
    assert body["@adminapi.warnings"] == [
        f"The command completed successfully but no settings of '{name}' have been modified."
    ]


def test_set_mailbox_grant_send_on_behalf_with_a_hashtable(app_exo: ExchangeAdmin) -> None:
    alex_name = one(app_exo, "Get-Mailbox", {"Identity": ALEX})["Name"]
    app_exo.run("Set-Mailbox", {"Identity": ADELE, "GrantSendOnBehalfTo": generic_hashtable(add=[ALEX])})
    assert one(app_exo, "Get-Mailbox", {"Identity": ADELE})["GrantSendOnBehalfTo"] == [alex_name]
    app_exo.run("Set-Mailbox", {"Identity": ADELE, "GrantSendOnBehalfTo": generic_hashtable(remove=[ALEX])})
    assert one(app_exo, "Get-Mailbox", {"Identity": ADELE})["GrantSendOnBehalfTo"] == []


def test_new_shared_mailbox_as_organization_management(
    exchange_sandbox: SandboxProcess, admin_exo: ExchangeAdmin, app_exo: ExchangeAdmin, graph_get: GraphGet
) -> None:
    alias = unique_name("shared")
    created = one(
        admin_exo, "New-Mailbox", {"Shared": True, "Name": alias, "DisplayName": f"Shared {alias}", "Alias": alias}
    )
    address = f"{alias}@contoso.com"
    assert created["RecipientTypeDetails"] == "SharedMailbox"
    assert (created["Alias"], created["DisplayName"]) == (alias, f"Shared {alias}")
    assert created["PrimarySmtpAddress"].lower() == address
    found = one(app_exo, "Get-Mailbox", {"Identity": address})
    assert found["ExchangeGuid"] == created["ExchangeGuid"]
    # A shared mailbox is backed by a disabled user account, visible in the directory.
    user = graph_get(f"/users/{created['ExternalDirectoryObjectId']}?$select=accountEnabled,mail,displayName")
    assert isinstance(user, dict), user
    assert user["accountEnabled"] is False
    assert (user["mail"].lower(), user["displayName"]) == (address, f"Shared {alias}")


# --- distribution groups and members --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group_type", "details", "depart", "security"),
    [
        ("Distribution", "MailUniversalDistributionGroup", "Open", False),
        ("Security", "MailUniversalSecurityGroup", "Closed", True),
    ],
)
def test_new_distribution_group_defaults_and_graph_view(
    app_exo: ExchangeAdmin, graph_get: GraphGet, group_type: str, details: str, depart: str, security: bool
) -> None:
    name = unique_name(group_type.lower())
    created = one(app_exo, "New-DistributionGroup", {"Name": name, "Type": group_type})
    assert created["RecipientTypeDetails"] == details
    assert created["Name"] == created["DisplayName"] == name
    assert created["Alias"] == name, "the alias defaults to the name without spaces"
    assert created["PrimarySmtpAddress"].lower() == f"{name}@contoso.com"
    assert created["MemberJoinRestriction"] == "Closed"
    assert created["MemberDepartRestriction"] == depart
    assert created["RequireSenderAuthenticationEnabled"] is True
    fetched = one(app_exo, "Get-DistributionGroup", {"Identity": name})
    assert fetched["Guid"] == created["Guid"]
    group = graph_get(f"/groups/{created['ExternalDirectoryObjectId']}")
    assert isinstance(group, dict), group
    assert (group["displayName"], group["mailEnabled"], group["securityEnabled"]) == (name, True, security)
    assert group["mail"].lower() == f"{name}@contoso.com"
    assert group["groupTypes"] == []


def test_set_and_remove_distribution_group(app_exo: ExchangeAdmin, graph_get: GraphGet) -> None:
    name = unique_name("dl")
    created = one(app_exo, "New-DistributionGroup", {"Name": name})
    app_exo.run(
        "Set-DistributionGroup",
        {
            "Identity": name,
            "DisplayName": f"{name} renamed",
            "MemberJoinRestriction": "ApprovalRequired",
            "HiddenFromAddressListsEnabled": True,
            "BypassSecurityGroupManagerCheck": True,
        },
    )
    changed = one(app_exo, "Get-DistributionGroup", {"Identity": name})
    assert changed["DisplayName"] == f"{name} renamed"
    assert changed["MemberJoinRestriction"] == "ApprovalRequired"
    assert changed["HiddenFromAddressListsEnabled"] is True
    assert graph_get(f"/groups/{created['ExternalDirectoryObjectId']}")["displayName"] == f"{name} renamed"

    app_exo.run(
        "Remove-DistributionGroup", {"Identity": name, "BypassSecurityGroupManagerCheck": True, "Confirm": False}
    )
    missing = app_exo.fail("Get-DistributionGroup", {"Identity": name})
    assert missing.status == 404 and missing.exception_type.endswith("ManagementObjectNotFoundException")
    assert graph_get(f"/groups/{created['ExternalDirectoryObjectId']}") == 404


def test_add_and_remove_members_with_the_manager_check_bypassed(app_exo: ExchangeAdmin, graph_get: GraphGet) -> None:
    name = unique_name("sg")
    group_id = one(app_exo, "New-DistributionGroup", {"Name": name, "Type": "Security"})["ExternalDirectoryObjectId"]
    assert app_exo.objects("Get-DistributionGroupMember", {"Identity": name}) == []
    for member in (ADELE, ALEX):
        app_exo.run(
            "Add-DistributionGroupMember", {"Identity": name, "Member": member, "BypassSecurityGroupManagerCheck": True}
        )
    members = app_exo.objects("Get-DistributionGroupMember", {"Identity": name})
    assert {member["PrimarySmtpAddress"] for member in members} == {ADELE, ALEX}
    assert {member["id"] for member in graph_get(f"/groups/{group_id}/members")["value"]} == {ADELE_ID, ALEX_ID}

    app_exo.run(
        "Remove-DistributionGroupMember",
        {"Identity": name, "Member": ALEX, "BypassSecurityGroupManagerCheck": True, "Confirm": False},
    )
    members = app_exo.objects("Get-DistributionGroupMember", {"Identity": name})
    assert [member["PrimarySmtpAddress"] for member in members] == [ADELE]
    assert [member["id"] for member in graph_get(f"/groups/{group_id}/members")["value"]] == [ADELE_ID]


def test_members_at_creation(app_exo: ExchangeAdmin) -> None:
    name = unique_name("dl")
    app_exo.run("New-DistributionGroup", {"Name": name, "Members": [ADELE, ALEX]})
    members = app_exo.objects("Get-DistributionGroupMember", {"Identity": name})
    assert {member["PrimarySmtpAddress"] for member in members} == {ADELE, ALEX}


def test_the_delegated_creator_manages_its_group_without_bypass(
    service_exo: ExchangeAdmin, graph_get: GraphGet
) -> None:
    name = unique_name("owned")
    created = one(service_exo, "New-DistributionGroup", {"Name": name})
    # The creator owns the group (New-DistributionGroup -ManagedBy defaults to the caller), shown by its name.
    nickname = graph_get(f"/users/{SERVICE_ACCOUNT}?$select=mailNickname")["mailNickname"]
    assert created["ManagedBy"] == [nickname], created["ManagedBy"]
    service_exo.run("Add-DistributionGroupMember", {"Identity": name, "Member": ADELE})
    members = service_exo.objects("Get-DistributionGroupMember", {"Identity": name})
    assert [member["PrimarySmtpAddress"] for member in members] == [ADELE]
    service_exo.run("Remove-DistributionGroupMember", {"Identity": name, "Member": ADELE, "Confirm": False})
    assert service_exo.objects("Get-DistributionGroupMember", {"Identity": name}) == []


# --- mailbox and recipient permissions ------------------------------------------------------------------------


def test_full_access_without_automapping(exchange_sandbox: SandboxProcess, app_exo: ExchangeAdmin) -> None:
    granted = one(
        app_exo,
        "Add-MailboxPermission",
        {"Identity": ADELE, "User": ALEX, "AccessRights": ["FullAccess"], "AutoMapping": False},
    )
    assert (granted["User"], granted["AccessRights"], granted["Deny"]) == (ALEX, ["FullAccess"], False)
    assert granted["InheritanceType"] == "All"
    entries = app_exo.objects("Get-MailboxPermission", {"Identity": ADELE})
    assert any(entry["User"] == "NT AUTHORITY\\SELF" for entry in entries), entries
    assert [entry["AccessRights"] for entry in entries if entry["User"] == ALEX] == [["FullAccess"]]
    # AutoMapping has no Exchange read-back; check what the sandbox recorded.
    tenant = exchange_sandbox.tenant("Contoso")["id"]
    listing = exchange_sandbox.admin_request("GET", f"/tenants/{tenant}/exchange/mailboxes")
    assert listing.status_code == 200, describe(listing)
    [adele] = [mailbox for mailbox in listing.json() if mailbox["user_principal_name"] == ADELE]
    assert [grant["auto_mapping"] for grant in adele["full_access"] if grant["user"] == ALEX] == [False]

    app_exo.run(
        "Remove-MailboxPermission", {"Identity": ADELE, "User": ALEX, "AccessRights": ["FullAccess"], "Confirm": False}
    )
    entries = app_exo.objects("Get-MailboxPermission", {"Identity": ADELE})
    assert all(entry["User"] != ALEX for entry in entries), entries
    again = app_exo.run(
        "Remove-MailboxPermission", {"Identity": ADELE, "User": ALEX, "AccessRights": ["FullAccess"], "Confirm": False}
    )
    assert again and any("because the ACE doesn't exist on the object" in w for w in again["@adminapi.warnings"])


def test_send_as(app_exo: ExchangeAdmin) -> None:
    granted = one(
        app_exo,
        "Add-RecipientPermission",
        {"Identity": ADELE, "Trustee": ALEX, "AccessRights": ["SendAs"], "Confirm": False},
    )
    assert (granted["Trustee"], granted["AccessRights"], granted["AccessControlType"]) == (ALEX, ["SendAs"], "Allow")
    entries = app_exo.objects("Get-RecipientPermission", {"Identity": ADELE})
    assert {entry["Trustee"] for entry in entries} >= {"NT AUTHORITY\\SELF", ALEX}, entries
    assert app_exo.objects("Get-RecipientPermission", {"Identity": ADELE, "Trustee": ALEX})[0]["AccessRights"] == [
        "SendAs"
    ]
    app_exo.run(
        "Remove-RecipientPermission", {"Identity": ADELE, "Trustee": ALEX, "AccessRights": ["SendAs"], "Confirm": False}
    )
    assert all(entry["Trustee"] != ALEX for entry in app_exo.objects("Get-RecipientPermission", {"Identity": ADELE}))


# --- automatic replies ----------------------------------------------------------------------------------------


def test_scheduled_automatic_replies(app_exo: ExchangeAdmin, service_exo: ExchangeAdmin) -> None:
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=1)
    end = start + timedelta(days=14)
    service_exo.run(
        "Set-MailboxAutoReplyConfiguration",
        {
            "Identity": ALEX,
            "AutoReplyState": "Scheduled",
            "StartTime": start.isoformat(),
            "EndTime": end.isoformat(),
            "InternalMessage": "Alex has left; please write to Adele.",
            "ExternalMessage": "Alex no longer works here.",
            "ExternalAudience": "Known",
        },
    )
    settings = one(app_exo, "Get-MailboxAutoReplyConfiguration", {"Identity": ALEX})
    assert settings["AutoReplyState"] == "Scheduled"
    assert datetime.fromisoformat(settings["StartTime"]) == start
    assert datetime.fromisoformat(settings["EndTime"]) == end
    assert settings["InternalMessage"] == "Alex has left; please write to Adele."
    assert settings["ExternalMessage"] == "Alex no longer works here."
    assert settings["ExternalAudience"] == "Known"
    app_exo.run("Set-MailboxAutoReplyConfiguration", {"Identity": ALEX, "AutoReplyState": "Disabled"})
    assert one(app_exo, "Get-MailboxAutoReplyConfiguration", {"Identity": ALEX})["AutoReplyState"] == "Disabled"
