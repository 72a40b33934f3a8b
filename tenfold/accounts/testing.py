"""Test helpers other apps' tests use: staff and portal users (with real MFA), API tokens, TOTP codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import secrets
import struct
import time
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP

from tenfold.accounts.models import ApiToken, StaffProfile, User
from tenfold.accounts.tokens import hash_token, new_token
from tenfold.core.roles import PORTAL_ROLES, STAFF_ROLES, Role

PASSWORD = "correct horse battery staple 42"
_sequence = itertools.count(1)


def totp_code(secret: str, *, at: float | None = None, period: int = 30, digits: int = 6) -> str:
    """The RFC 6238 code (HMAC-SHA1) of a base32 secret at a time (now by default)."""
    key = base64.b32decode(secret.replace(" ", "").upper(), casefold=True)
    counter = int((time.time() if at is None else at) // period)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def fresh_totp_code(secret: str, *, period: int = 30) -> str:
    """A code that stays valid for the next few seconds: waits out the last 3 s of a step, so a code typed
    into a browser is not checked by the server after its step ended."""
    left = period - time.time() % period
    if left < 3:
        time.sleep(left + 0.2)
    return totp_code(secret, period=period)


def browser_log_in(page: Any, base_url: str, user: User, password: str = PASSWORD) -> None:
    """Sign a user with TOTP in through the real login and MFA pages of a Playwright page."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.fill("input[name=code]", fresh_totp_code(user.totp_secret))  # type: ignore[attr-defined]
    page.click("button[type=submit]")
    expect(page.locator("[data-testid=user-menu]")).to_be_visible()


def enroll_totp(user: User, secret: str | None = None) -> str:
    """Give a user a real TOTP authenticator and recovery codes; returns the secret."""
    secret = secret or base64.b32encode(secrets.token_bytes(20)).decode()
    Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    user.totp_secret = secret  # type: ignore[attr-defined]
    return secret


def make_staff(role: str = Role.TECHNICIAN, *, clients: Iterable[Any] | None = None, restricted: bool = False,
               mfa: bool = True, email: str | None = None, password: str = PASSWORD, language: str = "",
               **fields: Any) -> User:
    """A staff user with a staff profile; `mfa=True` enrolls a real TOTP authenticator (secret in
    `user.totp_secret`); `restricted=True` limits them to `clients`."""
    if role not in STAFF_ROLES:
        raise ValueError(f"{role} is not a staff role")
    n = next(_sequence)
    user = User.objects.create_user(email or f"{role}-{n}@msp.test", password, role=role,
                                    first_name=fields.pop("first_name", role.replace("_", " ").title()),
                                    last_name=fields.pop("last_name", f"Staff{n}"), language=language,
                                    restrict_to_clients=restricted, **fields)
    StaffProfile.objects.create(user=user, hourly_cost_rate=Decimal("40.00"),
                                default_bill_rate=Decimal("90.00"))
    if clients:
        user.assigned_clients.set(list(clients))
    if mfa:
        enroll_totp(user)
    user.forget_scope()
    return user


def make_portal_user(client: Any, role: str = Role.PORTAL_USER, *, contact: Any = None, mfa: bool = False,
                     email: str | None = None, password: str = PASSWORD, **fields: Any) -> User:
    """A client-portal user of one client (MFA optional for them)."""
    if role not in PORTAL_ROLES:
        raise ValueError(f"{role} is not a portal role")
    n = next(_sequence)
    user = User.objects.create_user(email or f"portal-{n}@client.test", password, role=role, client=client,
                                    contact=contact, first_name=fields.pop("first_name", "Portal"),
                                    last_name=fields.pop("last_name", f"User{n}"), **fields)
    if mfa:
        enroll_totp(user)
    return user


def make_api_token(user: User, *, read_only: bool = False, name: str = "test token", **fields: Any) -> str:
    """Create an API token for the user and return the plain token (for `Authorization: Bearer`)."""
    plain, prefix = new_token()
    ApiToken.objects.create(user=user, name=name, prefix=prefix, token_hash=hash_token(plain),
                            read_only=read_only, **fields)
    return plain


def bearer(token: str) -> dict[str, str]:
    """The header kwargs for Django's test client: `client.get(url, **bearer(token))`."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
