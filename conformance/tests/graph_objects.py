"""Builders for the Graph objects the tests create, with names unique to one test so that tests sharing the
session's sandbox never collide, and a helper to run an SDK call that must fail."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable

import pytest
from msgraph.generated.models.group import Group
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.password_profile import PasswordProfile
from msgraph.generated.models.user import User

INITIAL_PASSWORD = "xWwvJ]6NMw+bWH-d"
"""A password that meets Entra's complexity rules (the one in Microsoft's create-user example)."""


def unique_tag(prefix: str = "cf") -> str:
    """A short tag like `cf-1a2b3c4d` to make names unique to one test."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def new_user(tag: str, number: int = 0, domain: str = "contoso.com", display_name: str | None = None) -> User:
    """The body of `POST /users` with the five required properties."""
    nickname = f"{tag}-{number}"
    return User(
        account_enabled=True,
        display_name=display_name or f"{tag} User {number}",
        mail_nickname=nickname,
        user_principal_name=f"{nickname}@{domain}",
        password_profile=PasswordProfile(force_change_password_next_sign_in=True, password=INITIAL_PASSWORD),
    )


def new_security_group(tag: str) -> Group:
    """The body of `POST /groups` for a (non-mail-enabled) security group."""
    return Group(
        display_name=f"{tag} Security",
        mail_enabled=False,
        mail_nickname=f"{tag}-security",
        security_enabled=True,
        group_types=[],
    )


async def odata_error(call: Awaitable[object]) -> ODataError:
    """Awaits an SDK call that must fail and returns the `ODataError` the SDK raised from the error body."""
    with pytest.raises(ODataError) as raised:
        await call
    return raised.value
