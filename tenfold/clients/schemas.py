"""API shapes of clients, sites and contacts."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import EmailStr, Field

from tenfold.clients.models import ClientStatus
from tenfold.core.api import InputSchema


class ClientOut(Schema):
    id: int
    name: str = Field(examples=["Boulangerie Martin SARL"])
    status: ClientStatus
    account_manager_id: int | None
    website: str
    phone: str
    notes: str
    created_at: datetime
    updated_at: datetime


class ClientIn(InputSchema):
    name: str = Field(min_length=1, max_length=200, examples=["Boulangerie Martin SARL"])
    status: ClientStatus = ClientStatus.PROSPECT
    account_manager_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    website: str = Field(default="", max_length=200, examples=["https://boulangerie-martin.example"])
    phone: str = Field(default="", max_length=40, examples=["+33 1 23 45 67 89"])
    notes: str = Field(default="", max_length=20000)


class ClientPatch(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: ClientStatus | None = None
    account_manager_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    website: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    notes: str | None = Field(default=None, max_length=20000)


class SiteOut(Schema):
    id: int
    client_id: int
    name: str = Field(examples=["Head office"])
    address: str
    postal_code: str
    city: str
    country: str
    time_zone: str = Field(examples=["Europe/Paris"])
    created_at: datetime


class SiteIn(InputSchema):
    name: str = Field(min_length=1, max_length=200, examples=["Head office"])
    address: str = Field(default="", max_length=300)
    postal_code: str = Field(default="", max_length=20)
    city: str = Field(default="", max_length=120)
    country: str = Field(default="FR", pattern=r"^([A-Za-z]{2})?$")
    time_zone: str = Field(default="Europe/Paris", max_length=64)


class SitePatch(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    postal_code: str | None = Field(default=None, max_length=20)
    city: str | None = Field(default=None, max_length=120)
    country: str | None = Field(default=None, pattern=r"^([A-Za-z]{2})?$")
    time_zone: str | None = Field(default=None, max_length=64)


class ContactOut(Schema):
    id: int
    client_id: int
    site_id: int | None
    first_name: str
    last_name: str
    email: str
    phone: str
    job_title: str
    is_decision_maker: bool
    is_billing_contact: bool
    created_at: datetime


class ContactIn(InputSchema):
    first_name: str = Field(min_length=1, max_length=100, examples=["Claire"])
    last_name: str = Field(min_length=1, max_length=100, examples=["Martin"])
    email: EmailStr | None = Field(default=None, examples=["claire.martin@boulangerie-martin.example"])
    phone: str = Field(default="", max_length=40)
    job_title: str = Field(default="", max_length=120, examples=["Managing director"])
    site_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    is_decision_maker: bool = False
    is_billing_contact: bool = False


class ContactPatch(InputSchema):
    first_name: str | None = Field(default=None, min_length=1, max_length=100)
    last_name: str | None = Field(default=None, min_length=1, max_length=100)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=40)
    job_title: str | None = Field(default=None, max_length=120)
    site_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    is_decision_maker: bool | None = None
    is_billing_contact: bool | None = None
