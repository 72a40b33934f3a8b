"""Reads of users and API tokens; every read of users checks the actor's right first."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.db.models import Exists, OuterRef, QuerySet

from tenfold.accounts.models import ApiToken, User
from tenfold.core.errors import NotFound
from tenfold.core.roles import STAFF_ROLES, require

# Recovery codes alone are a fallback, not a second factor: TOTP or a security key must exist.
SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def has_mfa(user: Any) -> bool:
    """Whether the user has an active TOTP or WebAuthn authenticator."""
    if user is None or not getattr(user, "pk", None):
        return False
    annotated = getattr(user, "has_second_factor", None)
    if annotated is not None:
        return bool(annotated)
    return Authenticator.objects.filter(user_id=user.pk, type__in=SECOND_FACTORS).exists()


def needs_mfa_setup(user: Any) -> bool:
    """Whether this user is staff without a second factor (and may only set one up)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "role", None) not in STAFF_ROLES:
        return False
    cached = getattr(user, "_tenfold_has_mfa", None)
    if cached is None:
        cached = has_mfa(user)
        user._tenfold_has_mfa = cached
    return not cached


def with_mfa_flag(queryset: QuerySet[User]) -> QuerySet[User]:
    """Annotate `has_second_factor` on each user in one query (no query per row)."""
    factors = Authenticator.objects.filter(user_id=OuterRef("pk"), type__in=SECOND_FACTORS)
    return queryset.annotate(has_second_factor=Exists(factors))


def users_visible(actor: Any) -> QuerySet[User]:
    """Every user, for owners and administrators; PermissionDenied (403) for anyone else."""
    require(actor, "users", "view")
    return with_mfa_flag(User.objects.select_related("client", "staff_profile"))


def access_user(actor: Any, user_id: Any) -> User:
    """One user by id for someone who may manage users; NotFound when it does not exist."""
    queryset = users_visible(actor)
    try:
        pk = int(user_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    if pk <= 0 or pk > 2**63 - 1:
        raise NotFound()
    user = queryset.filter(pk=pk).first()
    if user is None:
        raise NotFound()
    return user


def tokens_of(user: Any) -> QuerySet[ApiToken]:
    """A user's API tokens, newest first."""
    return ApiToken.objects.filter(user_id=user.pk).order_by("-created_at", "-pk")


def access_own_token(actor: Any, token_id: Any) -> ApiToken:
    """One of the actor's own tokens; NotFound for a token of someone else or none at all."""
    try:
        pk = int(token_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    if pk <= 0 or pk > 2**63 - 1:
        raise NotFound()
    token = tokens_of(actor).filter(pk=pk).first()
    if token is None:
        raise NotFound()
    return token


def active_owner_count() -> int:
    """How many active owners there are."""
    return User.objects.filter(role="owner", is_active=True).count()
