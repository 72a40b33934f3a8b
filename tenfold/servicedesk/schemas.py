"""API shapes of tickets, timeline entries, checklists, time entries, queues and ticket templates."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ninja import Schema
from pydantic import Field

from tenfold.contracts.models import Priority
from tenfold.core.api import InputSchema
from tenfold.servicedesk.models import (
    ApprovalStatus,
    Coverage,
    EntryKind,
    RecurrenceUnit,
    TicketSource,
    TicketStatus,
    TicketType,
    WorkType,
)


class TicketOut(Schema):
    id: int
    number: str = Field(examples=["T-000123"])
    client_id: int
    contact_id: int | None
    device_ids: list[int]
    title: str = Field(examples=["Printer on the first floor does not print"])
    description: str
    priority: Priority
    type: TicketType
    status: TicketStatus
    queue_id: int | None
    assignee_id: int | None
    watcher_ids: list[int]
    tags: list[str] = Field(examples=[["printer", "vip"]])
    due_at: datetime | None
    source: TicketSource
    contract_id: int | None
    alert_id: int | None
    template_id: int | None
    merged_into_id: int | None
    resolution: str
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_responded_at: datetime | None
    resolved_at: datetime | None
    paused_seconds: int
    paused_at: datetime | None
    sla_state: str = Field(examples=["ok"])
    sla_first_response_met: bool | None
    sla_resolution_met: bool | None
    opportunity_flagged: bool
    opportunity_note: str
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_device_ids(obj: object) -> list[int]:
        return [d.pk for d in obj.devices.all()]  # type: ignore[attr-defined]

    @staticmethod
    def resolve_watcher_ids(obj: object) -> list[int]:
        return [u.pk for u in obj.watchers.all()]  # type: ignore[attr-defined]

    @staticmethod
    def resolve_tags(obj: object) -> list[str]:
        return obj.tag_list()  # type: ignore[attr-defined]

    @staticmethod
    def resolve_sla_state(obj: object) -> str:
        from tenfold.servicedesk.sla import state

        return state(obj)  # type: ignore[arg-type]


class TicketIn(InputSchema):
    client_id: int = Field(examples=[12], ge=1, le=2**63 - 1)
    title: str | None = Field(default=None, min_length=1, max_length=200, examples=["VPN does not connect"])
    description: str = Field(default="", max_length=100_000, examples=["Since this morning, error 809."])
    priority: Priority | None = None
    type: TicketType | None = None
    queue_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    assignee_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    contact_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    device_ids: list[int] = Field(default_factory=list, max_length=100)
    tags: list[str] = Field(default_factory=list, max_length=20, examples=[["vpn"]])
    due_at: datetime | None = None
    contract_id: int | None = Field(default=None, ge=1, le=2**63 - 1,
                                    description="Leave out to pick the contract in force automatically.")
    template_id: int | None = Field(default=None, ge=1, le=2**63 - 1,
                                    description="Fill the ticket from a template and copy its runbook checklist.")


class TicketPatch(InputSchema):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=100_000)
    priority: Priority | None = None
    type: TicketType | None = None
    queue_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    assignee_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    contact_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    device_ids: list[int] | None = Field(default=None, max_length=100)
    tags: list[str] | None = Field(default=None, max_length=20)
    due_at: datetime | None = None
    contract_id: int | None = Field(default=None, ge=1, le=2**63 - 1)


class EntryOut(Schema):
    id: int
    ticket_id: int
    kind: EntryKind
    author_id: int | None
    author_contact_id: int | None
    body: str
    visible_to_client: bool
    alert_id: int | None
    data: dict[str, object]
    created_at: datetime


class EntryIn(InputSchema):
    body: str = Field(min_length=1, max_length=100_000, examples=["I restarted the spooler; please try again."])
    public: bool = Field(default=False, description="True: a reply the client sees; false: an internal note.")


class StatusIn(InputSchema):
    status: TicketStatus = Field(examples=["resolved"])
    resolution: str = Field(default="", max_length=20_000, examples=["Replaced the toner cartridge."])


class AssignIn(InputSchema):
    assignee_id: int | None = Field(examples=[7], ge=1, le=2**63 - 1)


class MergeIn(InputSchema):
    target_id: int = Field(examples=[120], description="The ticket this duplicate is merged into.", ge=1, le=2**63 - 1)


class OpportunityIn(InputSchema):
    note: str = Field(min_length=1, max_length=2000, examples=["Their firewall is out of support: quote a new one."])


class BulkIn(InputSchema):
    ticket_ids: list[int] = Field(min_length=1, max_length=500, examples=[[101, 102]])
    assignee_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    unassign: bool = False
    status: TicketStatus | None = None
    priority: Priority | None = None


class BulkOut(Schema):
    updated: int


class ChecklistItemOut(Schema):
    id: int
    ticket_id: int
    position: int
    text: str
    required: bool
    done_by_id: int | None
    done_at: datetime | None


class ChecklistTickIn(InputSchema):
    done: bool = True


class TimeEntryOut(Schema):
    id: int
    client_id: int
    ticket_id: int | None
    project_id: int | None
    contract_id: int | None
    user_id: int
    started_at: datetime
    ended_at: datetime | None
    is_running: bool
    actual_minutes: int
    billable_minutes: int
    billable: bool
    coverage: Coverage
    work_type: WorkType
    rate: Decimal
    cost_rate: Decimal
    notes: str
    approval_status: ApprovalStatus
    approved_by_id: int | None
    approved_at: datetime | None
    rejection_reason: str


class TimeEntryIn(InputSchema):
    ticket_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    project_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    actual_minutes: int = Field(ge=1, le=1440, examples=[25])
    started_at: datetime | None = None
    billable: bool = True
    coverage: Coverage | None = None
    work_type: WorkType = WorkType.REMOTE
    notes: str = Field(default="", max_length=5000)


class TimeEntryPatch(InputSchema):
    actual_minutes: int | None = Field(default=None, ge=1, le=1440)
    started_at: datetime | None = None
    billable: bool | None = None
    coverage: Coverage | None = None
    work_type: WorkType | None = None
    notes: str | None = Field(default=None, max_length=5000)


class TimerIn(InputSchema):
    work_type: WorkType = WorkType.REMOTE


class TimerStopIn(InputSchema):
    notes: str = Field(default="", max_length=5000)


class RejectIn(InputSchema):
    reason: str = Field(min_length=1, max_length=300, examples=["Covered by the managed-services contract."])


class QueueOut(Schema):
    id: int
    name: str = Field(examples=["Service desk"])
    description: str
    is_default: bool
    is_active: bool


class QueueIn(InputSchema):
    name: str = Field(min_length=1, max_length=100, examples=["Onboarding"])
    description: str = Field(default="", max_length=300)
    is_default: bool = False
    is_active: bool = True


class QueuePatch(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=300)
    is_default: bool | None = None
    is_active: bool | None = None


class TemplateOut(Schema):
    id: int
    name: str = Field(examples=["New workstation"])
    title: str
    description: str
    type: TicketType
    priority: Priority
    queue_id: int | None
    runbook_id: int | None
    is_active: bool


class TemplateIn(InputSchema):
    name: str = Field(min_length=1, max_length=200, examples=["New workstation"])
    title: str = Field(min_length=1, max_length=200, examples=["Set up a workstation"])
    description: str = Field(default="", max_length=100_000)
    type: TicketType = TicketType.REQUEST
    priority: Priority = Priority.P3
    queue_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    runbook_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    is_active: bool = True


class TemplatePatch(InputSchema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=100_000)
    type: TicketType | None = None
    priority: Priority | None = None
    queue_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    runbook_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    is_active: bool | None = None


class RecurringOut(Schema):
    id: int
    client_id: int
    template_id: int
    contact_id: int | None
    assignee_id: int | None
    unit: RecurrenceUnit = Field(examples=["weeks"])
    interval: int = Field(examples=[2])
    cron: str = Field(examples=[""])
    next_run_at: datetime
    last_run_at: datetime | None
    is_active: bool


class RecurringIn(InputSchema):
    client_id: int = Field(examples=[12], ge=1, le=2**63 - 1)
    template_id: int = Field(examples=[3], ge=1, le=2**63 - 1)
    contact_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    assignee_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    unit: RecurrenceUnit = Field(default=RecurrenceUnit.MONTHS, examples=["weeks"])
    interval: int = Field(default=1, ge=1, le=365, examples=[2], description="Every N days, weeks or months.")
    cron: str = Field(default="", max_length=100, examples=["0 8 * * 1"],
                      description="With unit `cron`: minute hour day month weekday.")
    next_run_at: datetime = Field(examples=["2026-06-01T08:00:00+02:00"], description="When the next ticket opens.")
    is_active: bool = True


class RecurringPatch(InputSchema):
    template_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    contact_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    assignee_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    unit: RecurrenceUnit | None = None
    interval: int | None = Field(default=None, ge=1, le=365)
    cron: str | None = Field(default=None, max_length=100)
    next_run_at: datetime | None = None
    is_active: bool | None = None
