"""Authentication of API requests: personal Bearer tokens and the browser session."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja.security import APIKeyCookie, HttpBearer

from tenfold.accounts import tokens
from tenfold.accounts.models import ApiToken, User
from tenfold.accounts.selectors import needs_mfa_setup
from tenfold.core.context import current_origin, set_origin
from tenfold.core.errors import PermissionDenied, TenfoldError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LAST_USED_PRECISION = timedelta(minutes=1)
FAILURE_WINDOW_SECONDS = 60
_DUMMY_HASH = tokens.hash_token("tf_00000000_" + "0" * 43)


class TooManyAttemptsError(TenfoldError):
    """Too many failed token attempts from one address; the answer carries Retry-After."""

    code = "rate_limited"
    status = 429
    default_message = _("Too many failed authentication attempts: wait before trying again.")

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


def mfa_required_error() -> PermissionDenied:
    """The refusal for a staff user who has not set up two-factor authentication."""
    return PermissionDenied(
        _("Two-factor authentication is mandatory for staff accounts: set it up in the web interface first."),
        code="mfa_required")


def failures_per_minute() -> int:
    """How many failed token attempts one address may make per minute."""
    return int(getattr(settings, "TENFOLD_API_TOKEN_FAILURES_PER_MINUTE", 30))


def _failure_key(ip: str, window: int) -> str:
    return f"tenfold:api-token-failures:{ip}:{window}"


def _window() -> tuple[int, int]:
    """The current one-minute window and the whole seconds left in it."""
    now = time.time()
    window = int(now // FAILURE_WINDOW_SECONDS)
    left = max(1, math.ceil((window + 1) * FAILURE_WINDOW_SECONDS - now))
    return window, left


def _client_ip(request: HttpRequest) -> str:
    return current_origin().ip or request.META.get("REMOTE_ADDR", "") or "unknown"


def _refuse_if_limited(ip: str) -> None:
    window, left = _window()
    if (cache.get(_failure_key(ip, window)) or 0) >= failures_per_minute():
        raise TooManyAttemptsError(retry_after=left)


def _count_failure(ip: str) -> None:
    window, _left = _window()
    key = _failure_key(ip, window)
    cache.add(key, 0, timeout=FAILURE_WINDOW_SECONDS * 2)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=FAILURE_WINDOW_SECONDS * 2)


def find_token(presented: str) -> ApiToken | None:
    """The usable token matching the presented string, or None (unknown, wrong secret, revoked, expired,
    or its user deactivated)."""
    prefix = tokens.prefix_of(presented)
    found = (ApiToken.objects.select_related("user").filter(prefix=prefix).first()
             if prefix is not None else None)
    # Compare even when nothing was found, so the answer takes the same time.
    if not tokens.matches(presented, found.token_hash if found is not None else _DUMMY_HASH) or found is None:
        return None
    if not found.is_usable or not found.user.is_active:
        return None
    return found


def _touch(api_token: ApiToken) -> None:
    """Record the use, at most once a minute, without a read-modify-write."""
    now = timezone.now()
    ApiToken.objects.filter(pk=api_token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)).update(last_used_at=now)


class ApiKeyAuth(HttpBearer):
    """`Authorization: Bearer tf_<prefix>_<secret>`: a personal API token."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        """The token's user; None for a bad token (401); 403 for a read-only token used to write."""
        ip = _client_ip(request)
        _refuse_if_limited(ip)
        api_token = find_token(token.strip())
        if api_token is None:
            _count_failure(ip)
            return None
        user = api_token.user
        if needs_mfa_setup(user):
            raise mfa_required_error()
        if api_token.read_only and request.method not in SAFE_METHODS:
            raise PermissionDenied(_("This API token is read-only: use a read-write token to make changes."),
                                   code="read_only_token")
        _touch(api_token)
        set_origin(replace(current_origin(), token_id=api_token.pk))
        request.api_token = api_token  # type: ignore[attr-defined]
        return user


class SessionAuth(APIKeyCookie):
    """The browser session (for the interactive docs and HTMX); CSRF is checked for unsafe methods."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None  # anonymous: answer 401, not a CSRF failure
        key: str | None = super()._get_key(request)
        return key

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        """The signed-in user, if any; staff without MFA are refused."""
        user = getattr(request, "user", None)
        if key is None or user is None or not user.is_authenticated or not user.is_active:
            return None
        if needs_mfa_setup(user):
            raise mfa_required_error()
        return user
