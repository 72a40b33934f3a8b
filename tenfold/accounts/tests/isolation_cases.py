"""Isolation cases of the accounts pages and API (see tenfold/core/isolation.py).

Users are MSP-level records (client_owned=False): only owners and administrators manage them. Refused
calls are checked for "nothing changed" through the staff profiles, the tokens (UI only: the suite's
API calls create their own tokens) and the audit and outbox counts that every service write moves.
"""

from __future__ import annotations

from typing import Any

from tenfold.accounts.models import ApiToken, StaffProfile, User
from tenfold.accounts.testing import make_api_token, make_staff
from tenfold.core.isolation import Case, World, register

MODELS = (StaffProfile,)


def subject(world: World) -> User:
    """A technician whom the user pages act on."""
    if "subject" not in world.extra:
        world.extra["subject"] = make_staff("technician", email="isolation.subject@msp.test")
    user: User = world.extra["subject"]
    return user


def subject_token(world: World) -> ApiToken:
    """A token of the subject, for the administrators' revoke button."""
    if "subject_token" not in world.extra:
        make_api_token(subject(world), name="subject token")
        world.extra["subject_token"] = ApiToken.objects.get(user=subject(world), name="subject token")
    token: ApiToken = world.extra["subject_token"]
    return token


def own_token(world: World) -> ApiToken:
    """A token of the technician the "own" cases act as."""
    if "own_token" not in world.extra:
        make_api_token(world.users["technician"], name="own token")
        world.extra["own_token"] = ApiToken.objects.get(user=world.users["technician"], name="own token")
    token: ApiToken = world.extra["own_token"]
    return token


def edit_body(world: World) -> dict[str, Any]:
    user = subject(world)
    return {
        "email": user.email,
        "first_name": "Edited",
        "last_name": "Subject",
        "role": "technician",
        "language": "",
        "is_active": "on",
        "hourly_cost_rate": "41.00",
        "default_bill_rate": "91.00",
    }


register(
    Case("ui:accounts:profile", "own"),
    Case(
        "ui:accounts:token_create",
        "own",
        method="POST",
        body=lambda w: {"name": "isolation", "access": "read_only"},
    ),
    Case("ui:accounts:token_revoke", "own", method="POST", params=lambda w: {"pk": own_token(w).pk}),
    Case("ui:accounts:user_list", "list", "users", client_owned=False),
    Case(
        "ui:accounts:user_create",
        "create",
        "users",
        "add",
        method="POST",
        client_owned=False,
        models=MODELS,
        body=lambda w: {
            "email": "isolation.new@msp.test",
            "role": "technician",
            "first_name": "New",
            "last_name": "Hire",
            "language": "",
        },
    ),
    Case(
        "ui:accounts:user_detail",
        "object",
        "users",
        client_owned=False,
        params=lambda w: {"pk": subject(w).pk},
    ),
    Case(
        "ui:accounts:user_edit",
        "object",
        "users",
        "change",
        method="POST",
        client_owned=False,
        models=MODELS,
        params=lambda w: {"pk": subject(w).pk},
        body=edit_body,
    ),
    Case(
        "ui:accounts:user_deactivate",
        "object",
        "users",
        "change",
        method="POST",
        client_owned=False,
        models=MODELS,
        params=lambda w: {"pk": subject(w).pk},
    ),
    Case(
        "ui:accounts:user_password",
        "object",
        "users",
        "change",
        method="POST",
        client_owned=False,
        models=MODELS,
        params=lambda w: {"pk": subject(w).pk},
        body=lambda w: {"password1": "isolation passphrase 1", "password2": "isolation passphrase 1"},
    ),
    Case(
        "ui:accounts:user_token_revoke",
        "object",
        "users",
        "change",
        method="POST",
        client_owned=False,
        models=(ApiToken,),
        params=lambda w: {"pk": subject(w).pk, "token_pk": subject_token(w).pk},
    ),
    Case("api:GET /api/v1/me", "own"),
    Case("api:GET /api/v1/tokens", "own"),
    Case("api:POST /api/v1/tokens", "own", body=lambda w: {"name": "isolation", "read_only": True}),
    Case("api:DELETE /api/v1/tokens/{token_id}", "own", params=lambda w: {"token_id": own_token(w).pk}),
    Case("api:GET /api/v1/users", "list", "users", client_owned=False),
    Case(
        "api:GET /api/v1/users/{user_id}",
        "object",
        "users",
        client_owned=False,
        params=lambda w: {"user_id": subject(w).pk},
    ),
    Case(
        "api:POST /api/v1/users",
        "create",
        "users",
        "add",
        client_owned=False,
        models=MODELS,
        body=lambda w: {"email": "isolation.api@msp.test", "role": "technician"},
    ),
    Case(
        "api:PATCH /api/v1/users/{user_id}",
        "object",
        "users",
        "change",
        client_owned=False,
        models=MODELS,
        params=lambda w: {"user_id": subject(w).pk},
        body=lambda w: {"first_name": "Patched", "hourly_cost_rate": "44.00"},
    ),
)
