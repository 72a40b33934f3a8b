"""REST endpoints of the email channel's status and of survey results."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema

from tenfold.core.api import ERRORS, actor_of
from tenfold.core.errors import PermissionDenied
from tenfold.core.roles import require
from tenfold.servicedesk import surveys

email_router = Router(tags=["email"])
surveys_router = Router(tags=["surveys"])


class MailboxStatusOut(Schema):
    support_address: str
    imap_configured: bool
    imap_host: str
    imap_port: int
    imap_security: str
    imap_user: str
    imap_folder: str
    smtp_receive_host: str
    smtp_receive_port: int
    unknown_senders: str
    max_attachment_bytes: int
    last_poll_at: datetime | None
    last_success_at: datetime | None
    last_error: str
    received_total: int
    triage_waiting: int


class RollupOut(Schema):
    key: str
    label: str
    surveys: int
    answered: int
    response_rate: float | None
    professionalism: float | None
    accuracy: float | None
    speed: float | None
    overall: float | None


class SurveyResultsOut(Schema):
    group: str
    start: date | None
    end: date | None
    total: RollupOut
    rows: list[RollupOut]


class ResultsParams(Schema):
    group: Literal["technician", "client", "month"] = "technician"
    start: date | None = None
    end: date | None = None


@email_router.get("/status", response={200: MailboxStatusOut, **ERRORS}, summary="Email channel status")
def email_status(request: HttpRequest) -> Any:
    """The support mailbox's settings (never the password), last poll and error, and the triage count."""
    from tenfold.servicedesk.email_views import mailbox_status

    actor = actor_of(request)
    require(actor, "settings", "view")
    if actor.is_portal:
        raise PermissionDenied()
    return mailbox_status()


@surveys_router.get("/results", response={200: SurveyResultsOut, **ERRORS}, summary="Survey results")
def survey_results(request: HttpRequest, params: Query[ResultsParams]) -> Any:
    """Surveys opened in the period (closing date) per technician, client or month: counts, response rate
    (answered / sent, %) and average scores (1–5), over the clients the caller sees."""
    total, rows = surveys.survey_rollup(actor_of(request), group=params.group, start=params.start, end=params.end)
    return {"group": params.group, "start": params.start, "end": params.end, "total": total.as_dict(),
            "rows": [row.as_dict() for row in rows]}
