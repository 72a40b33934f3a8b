"""API shapes of runbooks, client documentation, the vault and search."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from tenfold.core.api import InputSchema
from tenfold.knowledge.markdown import MAX_MARKDOWN_LENGTH
from tenfold.knowledge.models import NetworkKind, RunbookKind

ID = Field(default=None, ge=1, le=2**63 - 1)


class StepOut(Schema):
    position: int = Field(examples=[1])
    text: str = Field(examples=["Join the computer to the domain and move it to the Workstations OU"])
    required: bool


class StepIn(InputSchema):
    text: str = Field(min_length=1, max_length=500,
                      examples=["Enable disk encryption and store the recovery key in the vault"])
    required: bool = True


class RunbookOut(Schema):
    id: int
    title: str = Field(examples=["Workstation setup"])
    slug: str = Field(examples=["workstation-setup"])
    kind: RunbookKind
    category_id: int | None
    client_id: int | None = Field(description="None: a runbook of the whole MSP.")
    body_markdown: str
    current_version: int = Field(examples=[3])
    archived: bool
    shared_with_client: bool = Field(description="The client's portal administrators read it in the portal.")
    created_at: datetime
    updated_at: datetime


class RunbookDetailOut(RunbookOut):
    steps: list[StepOut]


class RunbookIn(InputSchema):
    title: str = Field(min_length=1, max_length=200, examples=["Printer deployment"])
    kind: RunbookKind = RunbookKind.TASK
    category_id: int | None = ID
    client_id: int | None = Field(default=None, ge=1, le=2**63 - 1,
                                  description="Empty for a runbook of the whole MSP.")
    body_markdown: str = Field(default="", max_length=MAX_MARKDOWN_LENGTH,
                               examples=["## Before you start\n\nCheck the printer's IP reservation."])
    shared_with_client: bool = Field(
        default=False, strict=True,
        description="Share with the client's portal administrators (client runbooks only).")
    steps: list[StepIn] = Field(default_factory=list, max_length=100)
    summary: str = Field(default="", max_length=300, examples=["First version"])


class RunbookPatch(InputSchema):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    kind: RunbookKind | None = None
    category_id: int | None = ID
    client_id: int | None = ID
    body_markdown: str | None = Field(default=None, max_length=MAX_MARKDOWN_LENGTH)
    shared_with_client: bool | None = Field(default=None, strict=True)
    steps: list[StepIn] | None = Field(default=None, max_length=100,
                                       description="The whole new list of steps; omit to keep them.")
    summary: str = Field(default="", max_length=300, examples=["Added the disk encryption step"])


class ArchiveIn(InputSchema):
    archived: bool = Field(examples=[True])


class VersionOut(Schema):
    number: int = Field(examples=[2])
    title: str
    body_markdown: str
    steps: list[StepOut]
    summary: str
    author_id: int | None
    created_at: datetime


class VersionSummaryOut(Schema):
    number: int
    title: str
    summary: str
    author_id: int | None
    created_at: datetime


class DiffLineOut(Schema):
    kind: str = Field(examples=["add"], description="add, del, hunk or ctx")
    text: str = Field(examples=["+[required] Enable disk encryption"])


class NetworkItemOut(Schema):
    id: int
    kind: NetworkKind
    name: str = Field(examples=["Office LAN"])
    site_id: int | None
    address: str = Field(examples=["10.0.10.0/24"])
    vlan_id: int | None = Field(examples=[10])
    provider: str
    notes: str


class NetworkItemIn(InputSchema):
    kind: NetworkKind
    name: str = Field(min_length=1, max_length=120, examples=["Office LAN"])
    site_id: int | None = ID
    address: str = Field(default="", max_length=64, examples=["10.0.10.0/24"])
    vlan_id: int | None = Field(default=None, ge=1, le=4094, examples=[10])
    provider: str = Field(default="", max_length=120)
    notes: str = Field(default="", max_length=500)


class KeyApplicationOut(Schema):
    id: int
    name: str = Field(examples=["Compta Plus"])
    vendor: str
    url: str
    support_contact: str
    notes: str


class KeyApplicationIn(InputSchema):
    name: str = Field(min_length=1, max_length=120, examples=["Compta Plus"])
    vendor: str = Field(default="", max_length=120)
    url: str = Field(default="", max_length=500)
    support_contact: str = Field(default="", max_length=200)
    notes: str = Field(default="", max_length=500)


class ClientDocOut(Schema):
    client_id: int
    overview_markdown: str
    shared_with_client: bool = Field(description="The client's portal administrators read the overview in the portal.")
    last_reviewed_at: datetime | None
    reviewed_by_id: int | None
    network: list[NetworkItemOut]
    applications: list[KeyApplicationOut]


class OverviewIn(InputSchema):
    overview_markdown: str = Field(max_length=MAX_MARKDOWN_LENGTH,
                                   examples=["## Environment\n\n25 workstations, one file server, hosted e-mail."])
    shared_with_client: bool | None = Field(
        default=None, strict=True, examples=[True],
        description="Share the overview with the client's portal administrators; omit to leave it as it is.")


class CredentialOut(Schema):
    id: int
    client_id: int | None
    name: str = Field(examples=["Firewall admin"])
    username: str = Field(examples=["admin"])
    url: str = Field(examples=["https://192.0.2.1:8443"])
    notes: str
    has_totp: bool
    created_at: datetime
    updated_at: datetime


class CredentialIn(InputSchema):
    client_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    name: str = Field(min_length=1, max_length=200, examples=["Firewall admin"])
    username: str = Field(default="", max_length=200, examples=["admin"])
    url: str = Field(default="", max_length=500, examples=["https://192.0.2.1:8443"])
    notes: str = Field(default="", max_length=5000)
    secret: str = Field(min_length=1, max_length=10_000, examples=["correct-horse-battery-staple"])
    totp_seed: str | None = Field(default=None, max_length=200, examples=["JBSWY3DPEHPK3PXP"])


class RevealOut(Schema):
    secret: str = Field(examples=["correct-horse-battery-staple"])
    totp_code: str | None = Field(examples=["492039"])
    totp_seconds_left: int | None = Field(examples=[17])


class RevealRecordOut(Schema):
    user_id: int | None
    at: datetime
    channel: str = Field(examples=["ui"])


class SearchHitOut(Schema):
    kind: str = Field(examples=["runbook"])
    title: str = Field(examples=["Workstation setup"])
    url: str = Field(examples=["/knowledge/runbooks/3/"])
    snippet: str
    updated_at: datetime | None
