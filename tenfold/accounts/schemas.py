"""API bodies of users and personal tokens."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

from tenfold.accounts.selectors import has_mfa
from tenfold.core.api import InputSchema
from tenfold.core.roles import Role

RoleName = Role  # the role values, e.g. "technician"


class StaffProfileOut(Schema):
    """What a staff member costs and is billed at."""

    job_title: str = Field(examples=["Senior technician"])
    phone: str = Field(examples=["+33 1 23 45 67 89"])
    hourly_cost_rate: Decimal = Field(examples=["38.50"])
    default_bill_rate: Decimal = Field(examples=["95.00"])


class UserOut(Schema):
    """A staff or portal user."""

    id: int = Field(examples=[7])
    email: str = Field(examples=["alice@msp.example"])
    first_name: str = Field(examples=["Alice"])
    last_name: str = Field(examples=["Martin"])
    role: RoleName = Field(examples=["technician"])
    is_active: bool = Field(examples=[True])
    is_portal: bool = Field(examples=[False])
    language: str = Field(description="Empty: the browser's language.", examples=["fr"])
    restrict_to_clients: bool = Field(examples=[False])
    assigned_client_ids: list[int] = Field(description="Clients a restricted staff user may see.",
                                           examples=[[3, 12]])
    client_id: int | None = Field(description="A portal user's client.", examples=[None])
    contact_id: int | None = Field(description="The client's contact a portal user stands for.",
                                   examples=[None])
    mfa_enabled: bool = Field(description="Whether TOTP or a security key is set up.", examples=[True])
    staff_profile: StaffProfileOut | None = None
    date_joined: datetime
    last_login: datetime | None = None

    @staticmethod
    def resolve_assigned_client_ids(obj: Any) -> list[int]:
        return sorted(c.pk for c in obj.assigned_clients.all()) if obj.restrict_to_clients else []

    @staticmethod
    def resolve_mfa_enabled(obj: Any) -> bool:
        return has_mfa(obj)

    @staticmethod
    def resolve_staff_profile(obj: Any) -> Any:
        return getattr(obj, "staff_profile", None) if not obj.is_portal else None


class UserCreateIn(InputSchema):
    """A new user: staff (with optional client restriction and rates) or portal (with a client)."""

    email: str = Field(max_length=254, examples=["bob@msp.example"])
    role: RoleName = Field(examples=["technician"])
    first_name: str = Field("", max_length=100, examples=["Bob"])
    last_name: str = Field("", max_length=100, examples=["Durand"])
    language: str = Field("", max_length=8, examples=["fr"])
    password: str | None = Field(None, min_length=1, max_length=128,
                                 description="Initial password; omit to let the user reset one.")
    client_id: int | None = Field(None, description="Required for portal roles.", examples=[None])
    contact_id: int | None = Field(None, description="A contact of that client (portal roles).",
                                   examples=[None])
    restrict_to_clients: bool = False
    assigned_client_ids: list[int] = Field(default_factory=list, max_length=1000, examples=[[]])
    job_title: str = Field("", max_length=120)
    phone: str = Field("", max_length=40)
    hourly_cost_rate: Decimal | None = Field(None, ge=0, max_digits=10, decimal_places=2, examples=["38.50"])
    default_bill_rate: Decimal | None = Field(None, ge=0, max_digits=10, decimal_places=2, examples=["95.00"])


class UserPatchIn(InputSchema):
    """The fields to change; those left out stay as they are."""

    email: str | None = Field(None, max_length=254)
    role: RoleName | None = Field(None, examples=["service_manager"])
    first_name: str | None = Field(None, max_length=100)
    last_name: str | None = Field(None, max_length=100)
    language: str | None = Field(None, max_length=8, examples=["en"])
    is_active: bool | None = Field(None, examples=[False])
    restrict_to_clients: bool | None = None
    assigned_client_ids: list[int] | None = Field(None, max_length=1000)
    contact_id: int | None = None
    job_title: str | None = Field(None, max_length=120)
    phone: str | None = Field(None, max_length=40)
    hourly_cost_rate: Decimal | None = Field(None, ge=0, max_digits=10, decimal_places=2)
    default_bill_rate: Decimal | None = Field(None, ge=0, max_digits=10, decimal_places=2)


class TokenOut(Schema):
    """A personal API token (never the secret)."""

    id: int = Field(examples=[4])
    name: str = Field(examples=["nightly export"])
    prefix: str = Field(description="The public start of the token: tf_<prefix>_…", examples=["9f2c4a1b"])
    read_only: bool = Field(examples=[True])
    state: str = Field(description="active, expired or revoked", examples=["active"])
    created_at: datetime
    last_used_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


class TokenCreatedOut(TokenOut):
    """A new token, with its secret: shown in this answer only."""

    token: str = Field(description="The whole token; store it now, it is never shown again.",
                       examples=["tf_9f2c4a1b_Wm9sYS1pcy1ub3QtYS1yZWFsLXRva2VuLWF0LWFsbA"])


class TokenCreateIn(InputSchema):
    """A new personal token."""

    name: str = Field(min_length=1, max_length=100, examples=["nightly export"])
    read_only: bool = Field(True, description="A read-only token may only use GET.")
    expires_at: datetime | None = Field(None, description="Omit for a token that does not expire.",
                                        examples=["2030-01-31T00:00:00Z"])
