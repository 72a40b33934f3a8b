"""API of accounts: who am I, my tokens, and user management (owners and administrators)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from tenfold.accounts import selectors, services
from tenfold.accounts.models import User
from tenfold.accounts.schemas import (
    TokenCreatedOut,
    TokenCreateIn,
    TokenOut,
    UserCreateIn,
    UserOut,
    UserPatchIn,
)
from tenfold.core.api import ERRORS, Page, actor_of, ordering_param, paginate
from tenfold.core.roles import Role

router = Router(tags=["accounts"])

USER_ORDERING = {"email": "email", "last_name": "last_name", "first_name": "first_name", "role": "role",
                 "date_joined": "date_joined", "last_login": "last_login"}


class UserFilters(Schema):
    """Search and filters of the user list."""

    q: str | None = Field(None, max_length=200, description="Words found in the name or e-mail.")
    role: Role | None = None
    is_active: bool | None = None
    ordering: str | None = Field(None, description="email, last_name, first_name, role, date_joined or "
                                 "last_login; prefix with - for descending.", examples=["last_name"])
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int | None = Field(None, ge=1, le=500)


class PageParams(Schema):
    """Page number and size."""

    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int | None = Field(None, ge=1, le=500)


def _user(user_id: int, request: HttpRequest) -> User:
    return selectors.access_user(actor_of(request), user_id)


def _with_relations(user: User) -> User:
    queryset = User.objects.select_related("staff_profile").prefetch_related("assigned_clients")
    return selectors.with_mfa_flag(queryset).get(pk=user.pk)


@router.get("/me", response={200: UserOut, **ERRORS}, summary="The user behind this request")
def me(request: HttpRequest) -> Any:
    """Who you are: the token's owner, or the signed-in user."""
    return _with_relations(actor_of(request))


@router.get("/tokens", response={200: Page[TokenOut], **ERRORS}, summary="Your API tokens")
def list_tokens(request: HttpRequest, params: Query[PageParams]) -> Any:
    """Your personal tokens, newest first (never their secrets)."""
    return paginate(selectors.tokens_of(actor_of(request)), params.page, params.page_size)


@router.post("/tokens", response={201: TokenCreatedOut, **ERRORS}, summary="Create an API token")
def create_token(request: HttpRequest, payload: TokenCreateIn) -> Any:
    """Create a personal token. The `token` field of this answer is the only time the secret is shown."""
    token, plain = services.token_create(actor=actor_of(request), name=payload.name,
                                         read_only=payload.read_only, expires_at=payload.expires_at)
    body = TokenOut.model_validate(token, from_attributes=True).model_dump()
    return Status(201, {**body, "token": plain})


@router.delete("/tokens/{token_id}", response={204: None, **ERRORS}, summary="Revoke one of your API tokens")
def revoke_token(request: HttpRequest, token_id: int) -> Any:
    """Revoke a token of yours; it stops working at once. Revoking twice is harmless."""
    actor = actor_of(request)
    services.token_revoke(actor=actor, token=selectors.access_own_token(actor, token_id))
    return Status(204, None)


@router.get("/users", response={200: Page[UserOut], **ERRORS}, summary="List users")
def list_users(request: HttpRequest, filters: Query[UserFilters]) -> Any:
    """Every staff and portal user (owners and administrators only)."""
    queryset = selectors.users_visible(actor_of(request)).prefetch_related("assigned_clients")
    if filters.q:
        for word in filters.q.split()[:8]:
            queryset = queryset.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word)
                                       | Q(email__icontains=word))
    if filters.role is not None:
        queryset = queryset.filter(role=filters.role)
    if filters.is_active is not None:
        queryset = queryset.filter(is_active=filters.is_active)
    queryset = queryset.order_by(*ordering_param(filters.ordering, USER_ORDERING, "last_name"))
    return paginate(queryset, filters.page, filters.page_size)


@router.get("/users/{user_id}", response={200: UserOut, **ERRORS}, summary="Get a user")
def get_user(request: HttpRequest, user_id: int) -> Any:
    """One user (owners and administrators only)."""
    return _with_relations(_user(user_id, request))


@router.post("/users", response={201: UserOut, **ERRORS}, summary="Create a user")
def create_user(request: HttpRequest, payload: UserCreateIn) -> Any:
    """Create a staff user or a portal user of one client. Only an owner can create an owner."""
    user = services.user_create(actor=actor_of(request), **payload.model_dump())
    return Status(201, _with_relations(user))


@router.patch("/users/{user_id}", response={200: UserOut, **ERRORS}, summary="Change a user")
def update_user(request: HttpRequest, user_id: int, payload: UserPatchIn) -> Any:
    """Change the given fields. The last active owner cannot be demoted nor deactivated (409)."""
    user = _user(user_id, request)
    # An explicit null means "leave as is", except for the contact where it means "no contact".
    changes = {k: v for k, v in payload.model_dump(exclude_unset=True).items()
               if v is not None or k == "contact_id"}
    user = services.user_update(actor=actor_of(request), user=user, **changes)
    return _with_relations(user)
