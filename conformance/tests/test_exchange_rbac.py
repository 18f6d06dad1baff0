"""Exchange RBAC as Tenure meets it (reference §4.3, §4.5): the "Tenure Provisioning" role group needs three
management roles — Distribution Groups, Security Group Creation and Membership, Mail Recipients — and a role group
missing any one of them is refused exactly what that role grants, for the app-only connection and the delegated
service account alike. A user with no Exchange role may not run even `Get-Mailbox`.

Each test that changes the role group or consent runs on a sandbox of its own; the role group is replaced through
the sandbox's admin API, as an Exchange admin would with `Update-RoleGroupMember`/`Remove-ManagementRoleAssignment`.
"""

from __future__ import annotations

import pytest

from exchange_admin import (
    DISTRIBUTION_GROUPS,
    MAIL_RECIPIENTS,
    PROVISIONING_MEMBERS,
    PROVISIONING_ROLE_GROUP,
    PROVISIONING_ROLES,
    SECURITY_GROUP_CREATION,
    SERVICE_ACCOUNT,
    ExchangeAdmin,
    ExoError,
    admin_consents_for_organization,
    app_only_exchange,
    delegated_exchange,
    put_role_group,
    unique_name,
)
from sandbox_process import SandboxProcess

ADELE = "adele.vance@contoso.com"
SEEDED_DISTRIBUTION_LIST = "Retail Announcements"
TASK_EXCEPTION = "Microsoft.Exchange.Configuration.Tasks.TaskException"


def provisioning_without(sandbox: SandboxProcess, missing: str) -> None:
    """Replaces the role group's roles with the product's three minus `missing`, keeping both members."""
    roles = [role for role in PROVISIONING_ROLES if role != missing]
    group = put_role_group(sandbox, PROVISIONING_ROLE_GROUP, roles, PROVISIONING_MEMBERS)
    assert sorted(group["roles"]) == sorted(roles), group


def connect(sandbox: SandboxProcess, principal: str) -> ExchangeAdmin:
    """Contoso's app (app-only), or the service account after the admin's organisation-wide consent."""
    if principal == "app-only":
        return app_only_exchange(sandbox)
    admin_consents_for_organization(sandbox)
    return delegated_exchange(sandbox, SERVICE_ACCOUNT)


def assert_not_allowed(error: ExoError, cmdlet: str) -> None:
    """The REST service's RBAC denial: 401 with no cmdlet details (reference §4.5, docs/sandbox.md)."""
    assert (error.status, error.code) == (401, "Unauthorized"), error.body
    assert error.message == f"User is not allowed to call {cmdlet}", error.body
    assert error.exception_type is None, "the cmdlet never ran"


PRINCIPALS = pytest.mark.parametrize("principal", ["app-only", "delegated"])


@PRINCIPALS
def test_without_mail_recipients_mailboxes_cannot_be_changed(fresh_sandbox: SandboxProcess, principal: str) -> None:
    provisioning_without(fresh_sandbox, MAIL_RECIPIENTS)
    exo = connect(fresh_sandbox, principal)
    assert_not_allowed(
        exo.fail("Set-Mailbox", {"Identity": ADELE, "HiddenFromAddressListsEnabled": True}), "Set-Mailbox"
    )
    assert_not_allowed(
        exo.fail("Add-MailboxPermission", {"Identity": ADELE, "User": SERVICE_ACCOUNT, "AccessRights": ["FullAccess"]}),
        "Add-MailboxPermission",
    )
    exported = exo.exported_cmdlets()
    assert "Set-Mailbox" not in exported and "Add-RecipientPermission" not in exported, exported
    # Reading stays possible through the group roles, and the mailbox was not touched.
    [mailbox] = exo.objects("Get-Mailbox", {"Identity": ADELE})
    assert mailbox["HiddenFromAddressListsEnabled"] is False


@PRINCIPALS
def test_without_security_group_creation_the_bypass_switch_is_hidden(
    fresh_sandbox: SandboxProcess, principal: str
) -> None:
    provisioning_without(fresh_sandbox, SECURITY_GROUP_CREATION)
    exo = connect(fresh_sandbox, principal)
    error = exo.fail(
        "Add-DistributionGroupMember",
        {"Identity": SEEDED_DISTRIBUTION_LIST, "Member": ADELE, "BypassSecurityGroupManagerCheck": True},
    )
    assert (error.status, error.exception_type) == (400, "System.Management.Automation.ParameterBindingException")
    assert error.detail == "A parameter cannot be found that matches parameter name 'BypassSecurityGroupManagerCheck'."
    assert error.target == "BypassSecurityGroupManagerCheck"


@PRINCIPALS
def test_without_security_group_creation_no_security_group(fresh_sandbox: SandboxProcess, principal: str) -> None:
    provisioning_without(fresh_sandbox, SECURITY_GROUP_CREATION)
    exo = connect(fresh_sandbox, principal)
    name = unique_name("sg")
    error = exo.fail("New-DistributionGroup", {"Name": name, "Type": "Security"})
    assert (error.status, error.exception_type) == (400, TASK_EXCEPTION), error.body
    assert f'"{SECURITY_GROUP_CREATION}"' in error.detail, error.detail
    assert exo.fail("Get-DistributionGroup", {"Identity": name}).status == 404, "nothing was created"
    # Distribution lists remain the Distribution Groups role's.
    created = exo.objects("New-DistributionGroup", {"Name": unique_name("dl"), "Type": "Distribution"})
    assert created[0]["RecipientTypeDetails"] == "MailUniversalDistributionGroup"


@PRINCIPALS
def test_without_distribution_groups_no_distribution_list(fresh_sandbox: SandboxProcess, principal: str) -> None:
    provisioning_without(fresh_sandbox, DISTRIBUTION_GROUPS)
    exo = connect(fresh_sandbox, principal)
    name = unique_name("dl")
    error = exo.fail("New-DistributionGroup", {"Name": name, "Type": "Distribution"})
    assert (error.status, error.exception_type) == (400, TASK_EXCEPTION), error.body
    assert f'"{DISTRIBUTION_GROUPS}"' in error.detail, error.detail
    assert exo.fail("Get-DistributionGroup", {"Identity": name}).status == 404, "nothing was created"
    # Mail-enabled security groups remain the Security Group Creation and Membership role's.
    created = exo.objects("New-DistributionGroup", {"Name": unique_name("sg"), "Type": "Security"})
    assert created[0]["RecipientTypeDetails"] == "MailUniversalSecurityGroup"


def test_the_provisioning_role_group_cannot_create_mailboxes(sandbox: SandboxProcess) -> None:
    # New-Mailbox needs Mail Recipient Creation, which "Tenure Provisioning" does not hold (as seeded).
    exo = app_only_exchange(sandbox)
    assert_not_allowed(exo.fail("New-Mailbox", {"Shared": True, "Name": unique_name("shared")}), "New-Mailbox")


def test_a_user_without_exchange_roles_cannot_read_mailboxes(fresh_sandbox: SandboxProcess) -> None:
    # Adele can get an Exchange token only after an administrator consented for the organisation.
    admin_consents_for_organization(fresh_sandbox)
    adele = delegated_exchange(fresh_sandbox, ADELE)
    assert_not_allowed(adele.fail("Get-Mailbox", {"Identity": ADELE}), "Get-Mailbox")
