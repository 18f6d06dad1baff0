"""A customer's own client of the Exchange Online admin API (the REST service behind ExchangeOnlineManagement v3),
as scripts like CIPP's `New-ExoRequest` or ExoHelper's `Invoke-ExoCommand` call it: tokens from MSAL, one
`POST .../adminapi/beta/{tenant}/InvokeCommand` per cmdlet with the module's headers, `@odata.nextLink` followed
by posting the same body again, and errors read from `error.details[0].message` split on `|` (reference §4).

Tokens: app-only with Contoso's own app (`acquire_token_for_client(["https://outlook.office365.com/.default"])`,
`Exchange.ManageAsApp`), or delegated with Tenure's multi-tenant app through the authorization-code flow and
scope `https://outlook.office365.com/Exchange.Manage` (which needs an administrator's consent first).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from auth_code import person_for, start_and_sign_in
from conftest import CONTOSO_APP_ID
from credentials import RecordingSession, access_token_or_raise, confidential_app, decode_jwt
from sandbox_process import SandboxProcess, describe
from signin import auth_response

CONTOSO = "Contoso"

EXCHANGE_RESOURCE = "https://outlook.office365.com"
APP_ONLY_SCOPES = [f"{EXCHANGE_RESOURCE}/.default"]
DELEGATED_SCOPES = [f"{EXCHANGE_RESOURCE}/Exchange.Manage"]

SYSTEM_MAILBOX = "SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}"
"""The arbitration mailbox app-only callers anchor on (`X-AnchorMailbox: APP:SystemMailbox{…}@{tenant}`)."""

MODULE_VERSION = "3.7.1"
"""The ExchangeOnlineManagement version the client claims (`X-ClientModuleVersion`, `EXOModuleFile?Version=`)."""

DEFAULT_PAGE_SIZE = 1000
"""The module's `ConnectionContext.PageSize` default, sent as `Prefer: odata.maxpagesize=1000`."""

ADMIN = "admin@contoso.com"
SERVICE_ACCOUNT = "exchange.svc@contoso.com"
PROVISIONING_ROLE_GROUP = "Tenure Provisioning"
DISTRIBUTION_GROUPS = "Distribution Groups"
SECURITY_GROUP_CREATION = "Security Group Creation and Membership"
MAIL_RECIPIENTS = "Mail Recipients"
PROVISIONING_ROLES = [DISTRIBUTION_GROUPS, SECURITY_GROUP_CREATION, MAIL_RECIPIENTS]
PROVISIONING_MEMBERS = [SERVICE_ACCOUNT, f"app:{CONTOSO_APP_ID}"]


@dataclass
class ExoError:
    """An error answer, read the way ExoHelper and CIPP read it."""

    status: int
    code: str
    message: str
    error_id: str | None
    """`details[0].message` before the first `|` (e.g. `Ex6F9304`); `None` without details."""
    exception_type: str | None
    """The .NET exception type, the middle part of `details[0].message`."""
    detail: str | None
    """The cmdlet's message, the rest of `details[0].message`."""
    target: str | None
    header_exception_type: str | None
    """The `X-ExceptionType` response header."""
    body: dict[str, Any]


def parse_error(response: requests.Response) -> ExoError:
    """The error of a failed call; fails the test when the body is not Exchange's `{"error":{…}}`."""
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"the error body is not JSON:{describe(response)}") from None
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict), f"no 'error' object:{describe(response)}"
    details = error.get("details") or []
    error_id = exception_type = detail = target = None
    if details:
        parts = details[0]["message"].split("|", 2)
        assert len(parts) == 3, f"details[0].message is not 'ErrId|ExceptionType|Message':{describe(response)}"
        error_id, exception_type, detail = parts
        target = details[0].get("target")
    return ExoError(
        status=response.status_code,
        code=error.get("code"),
        message=error.get("message"),
        error_id=error_id,
        exception_type=exception_type,
        detail=detail,
        target=target,
        header_exception_type=response.headers.get("X-ExceptionType"),
        body=body,
    )


@dataclass
class ExchangeAdmin:
    """One "connection" to a tenant's admin API: a token source, an anchor mailbox and a `connection-id`."""

    sandbox: SandboxProcess
    invoke_url: str
    """`https://…/adminapi/beta/{tenant}/InvokeCommand` (from the sandbox's JSON line)."""
    token: Callable[[], str]
    anchor_mailbox: str
    http: RecordingSession
    connection_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def headers(self, cmdlet: str, page_size: int | None = None) -> dict[str, str]:
        """The headers the module's `Execute-Command` and `Populate-Headers` put on every call (reference §4.1).

        `X-ResponseFormat` is `json`, as the public REST clients send it (the module itself asks for `clixml`
        and parses that; a script reads JSON)."""
        return {
            "Accept": "application/json",
            "Accept-Charset": "UTF-8",
            "Content-Type": "application/json",
            "X-CmdletName": cmdlet,
            "client-request-id": str(uuid.uuid4()),
            "WarningAction": "Continue",
            "Prefer": f"odata.maxpagesize={page_size or DEFAULT_PAGE_SIZE}",
            "Authorization": f"Bearer {self.token()}",
            "X-AnchorMailbox": self.anchor_mailbox,
            "connection-id": self.connection_id,
            "X-ResponseFormat": "json",
            "X-SerializationLevel": "Partial",
            "X-ClientModuleVersion": MODULE_VERSION,
            "X-ClientApplication": "ExoManagementModule",
        }

    def url(self, tenant_in_url: str | None = None, select: list[str] | None = None) -> str:
        """The InvokeCommand URL, with another tenant segment (a domain) and/or `$select` when given."""
        url = self.invoke_url
        if tenant_in_url is not None:
            head, _, _ = url.rpartition("/adminapi/beta/")
            url = f"{head}/adminapi/beta/{tenant_in_url}/InvokeCommand"
        if select:
            url = f"{url}?$select={','.join(select)}"
        return url

    def invoke(
        self,
        cmdlet: str,
        parameters: dict[str, Any] | None = None,
        page_size: int | None = None,
        *,
        url: str | None = None,
        select: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """`POST InvokeCommand` with `{"CmdletInput":{"CmdletName":…,"Parameters":{…}}}` as compact UTF-8 JSON;
        `headers` overrides or (with value `None`) removes module headers."""
        sent = self.headers(cmdlet, page_size)
        for name, value in (headers or {}).items():
            sent.pop(name, None)
            if value is not None:
                sent[name] = value
        return self.http.post(
            url or self.url(select=select),
            data=cmdlet_body(cmdlet, parameters).encode("utf-8"),
            headers=sent,
            timeout=30,
        )

    def run(self, cmdlet: str, parameters: dict[str, Any] | None = None, **options: Any) -> dict[str, Any] | None:
        """A call that must succeed: the JSON body of a 200, or `None` for a 204."""
        response = self.invoke(cmdlet, parameters, **options)
        assert response.status_code in (200, 204), describe(response)
        return response.json() if response.status_code == 200 else None

    def objects(self, cmdlet: str, parameters: dict[str, Any] | None = None, **options: Any) -> list[dict[str, Any]]:
        """The `value` of a call that must answer 200."""
        response = self.invoke(cmdlet, parameters, **options)
        assert response.status_code == 200, describe(response)
        return response.json()["value"]

    def fail(self, cmdlet: str, parameters: dict[str, Any] | None = None, **options: Any) -> ExoError:
        """A call that must fail, read as an `ExoError`."""
        response = self.invoke(cmdlet, parameters, **options)
        assert response.status_code >= 400, f"expected an error:{describe(response)}"
        return parse_error(response)

    def invoke_all(
        self, cmdlet: str, parameters: dict[str, Any] | None = None, page_size: int | None = None, **options: Any
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Every object of a listing, following `@odata.nextLink` by posting the same body to it (as the module
        and CIPP do); returns the objects and the page bodies."""
        pages: list[dict[str, Any]] = []
        response = self.invoke(cmdlet, parameters, page_size, **options)
        while True:
            assert response.status_code == 200, describe(response)
            page = response.json()
            pages.append(page)
            next_link = page.get("@odata.nextLink")
            if not next_link:
                break
            assert len(pages) < 1000, "the next links never end"
            response = self.invoke(cmdlet, parameters, page_size, url=next_link)
        return [item for page in pages for item in page["value"]], pages

    def module_file(self, headers: dict[str, str] | None = None) -> requests.Response:
        """`GET {https}/adminapi/v1.0/{tenant}/EXOModuleFile?Version=3.7.1` with `CommandName: *`, as the module
        asks which cmdlets the session exports."""
        head, _, rest = self.invoke_url.rpartition("/adminapi/beta/")
        tenant = rest.split("/", 1)[0]
        sent = {
            "Accept": "application/json",
            "Authorization": f"Bearer {self.token()}",
            "CommandName": "*",
            "X-AnchorMailbox": self.anchor_mailbox,
            "connection-id": self.connection_id,
            "X-ClientApplication": "ExoManagementModule",
            **(headers or {}),
        }
        return self.http.get(
            f"{head}/adminapi/v1.0/{tenant}/EXOModuleFile", params={"Version": MODULE_VERSION}, headers=sent, timeout=30
        )

    def exported_cmdlets(self) -> set[str]:
        """The cmdlet names `EXOModuleFile` lists for the caller."""
        response = self.module_file()
        assert response.status_code == 200, describe(response)
        return {name.strip() for name in response.json()["value"]["exportedCmdlets"].split(",") if name.strip()}


def cmdlet_body(cmdlet: str, parameters: dict[str, Any] | None) -> str:
    """The request body as the module serialises it: compact JSON."""
    return json.dumps({"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters or {}}}, separators=(",", ":"))


def generic_hashtable(add: list[str] | None = None, remove: list[str] | None = None) -> dict[str, Any]:
    """A multi-valued change (`@{Add=…; Remove=…}`) as the module sends a hashtable parameter."""
    table: dict[str, Any] = {"@odata.type": "#Exchange.GenericHashTable"}
    if add is not None:
        table["Add"] = add
    if remove is not None:
        table["Remove"] = remove
    return table


def app_only_token_source(sandbox: SandboxProcess, tenant_name: str = CONTOSO, app_id: str = CONTOSO_APP_ID):
    """A callable returning an app-only Exchange token (MSAL's client-credentials grant with the app's secret;
    MSAL serves it from its cache until it expires)."""
    app = sandbox.app(app_id)
    msal_app, _ = confidential_app(sandbox.tenant(tenant_name), app["app_id"], app["secrets"][0], sandbox.ca_file)

    def token() -> str:
        return access_token_or_raise(msal_app.acquire_token_for_client(APP_ONLY_SCOPES)).token

    return token


def app_only_graph_token(sandbox: SandboxProcess, tenant_name: str = CONTOSO, app_id: str = CONTOSO_APP_ID) -> str:
    """An app-only Microsoft Graph token of the same app (the wrong audience for Exchange)."""
    app = sandbox.app(app_id)
    msal_app, _ = confidential_app(sandbox.tenant(tenant_name), app["app_id"], app["secrets"][0], sandbox.ca_file)
    return access_token_or_raise(msal_app.acquire_token_for_client(["https://graph.microsoft.com/.default"])).token


def app_only_exchange(
    sandbox: SandboxProcess, tenant_name: str = CONTOSO, app_id: str = CONTOSO_APP_ID
) -> ExchangeAdmin:
    """An app-only connection, anchored on the tenant's system mailbox as CIPP and ExoHelper do."""
    tenant = sandbox.tenant(tenant_name)
    return ExchangeAdmin(
        sandbox=sandbox,
        invoke_url=tenant["exchange"],
        token=app_only_token_source(sandbox, tenant_name, app_id),
        anchor_mailbox=f"APP:{SYSTEM_MAILBOX}@{tenant['id']}",
        http=RecordingSession(sandbox.ca_file),
    )


def delegated_exchange(
    sandbox: SandboxProcess, upn: str, consent_for_organization: bool = False, tenant_name: str = CONTOSO
) -> ExchangeAdmin:
    """A delegated connection: `upn` signs in to Tenure's app asking for `Exchange.Manage`, the app redeems the
    code, and later calls use MSAL's silent flow for that account. Anchored on `UPN:{upn}` from the token."""
    person = person_for(sandbox, upn, consent_for_organization=consent_for_organization)
    run = start_and_sign_in(sandbox, tenant_name, person, scopes=DELEGATED_SCOPES)
    result = run.app.acquire_token_by_auth_code_flow(run.flow, auth_response(run.outcome))
    assert "access_token" in result, f"{result}\n{run.outcome.transcript()}"
    [account] = run.app.get_accounts(username=upn)
    _, claims = decode_jwt(result["access_token"])

    def token() -> str:
        silent = run.app.acquire_token_silent_with_error(DELEGATED_SCOPES, account)
        return access_token_or_raise(silent).token

    return ExchangeAdmin(
        sandbox=sandbox,
        invoke_url=sandbox.tenant(tenant_name)["exchange"],
        token=token,
        anchor_mailbox=f"UPN:{claims.get('upn') or upn}",
        http=RecordingSession(sandbox.ca_file),
    )


def admin_consents_for_organization(sandbox: SandboxProcess) -> ExchangeAdmin:
    """Contoso's Global Administrator signs in to Tenure's app and grants `Exchange.Manage` for the whole
    organisation (what a fresh tenant needs before any other user can get an Exchange token); returns the
    admin's own delegated connection (Organization Management)."""
    return delegated_exchange(sandbox, ADMIN, consent_for_organization=True)


def put_role_group(sandbox: SandboxProcess, name: str, roles: list[str], members: list[str]) -> dict[str, Any]:
    """Replaces a role group through the sandbox's admin API (stage-setting, not a Microsoft surface)."""
    tenant = sandbox.tenant(CONTOSO)["id"]
    response = sandbox.admin_request(
        "PUT", f"/tenants/{tenant}/exchange/role-groups/{name}", json={"roles": roles, "members": members}
    )
    assert response.status_code in (200, 201), describe(response)
    return response.json()


def unique_name(prefix: str = "exo") -> str:
    """A short name unique to one test (letters, digits and hyphens: a valid alias too)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
