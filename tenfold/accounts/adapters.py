"""How allauth behaves in Tenfold: no self sign-up, inactive users refused, a smooth first MFA set-up."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context
from allauth.mfa.models import Authenticator
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from tenfold.accounts.selectors import SECOND_FACTORS

# Pages that add a second factor or show the codes just generated; removing a factor always asks again.
FIRST_SETUP_URL_NAMES = ("mfa_activate_totp", "mfa_view_recovery_codes", "mfa_add_webauthn")


def _password_login_at(request: HttpRequest, user: Any) -> float | None:
    """When this session last logged in with the password, as a UNIX time."""
    records = [r for r in get_authentication_records(request, user) if r.get("method") == "password"]
    return float(records[-1]["at"]) if records else None


def in_first_mfa_setup(request: HttpRequest | None) -> bool:
    """Whether this request adds a user's first second factor (or shows its recovery codes) within the
    re-authentication timeout of a password login: the password was just typed, asking again adds nothing."""
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return False
    if request.path_info not in {reverse(name) for name in FIRST_SETUP_URL_NAMES}:
        return False
    login_at = _password_login_at(request, user)
    if login_at is None or time.time() - login_at >= account_settings.REAUTHENTICATION_TIMEOUT:
        return False
    older = Authenticator.objects.filter(user_id=user.pk, type__in=SECOND_FACTORS,
                                         created_at__lte=datetime.fromtimestamp(login_at, tz=UTC))
    return not older.exists()


class AccountAdapter(DefaultAccountAdapter):
    """Staff and portal users are created by administrators; nobody signs up alone."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Sign-up is closed: accounts are created under Users."""
        return False

    def pre_login(self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> HttpResponse | None:
        """Refuse a deactivated user even if a backend let them through."""
        if not user.is_active:
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            return self.respond_user_inactive(request, user)
        response: HttpResponse | None = super().pre_login(request, user, **kwargs)
        return response

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """As allauth, except for the first MFA set-up right after a password login."""
        required = bool(super().is_reauthentication_required(app=app, **kwargs))
        if required and app == "allauth.mfa" and in_first_mfa_setup(context.request):
            return False
        return required
