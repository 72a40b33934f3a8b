"""Satisfaction surveys: when a ticket closes, its contact gets a one-click link (signed, expiring, no login)
to rate professionalism, accuracy and speed from 1 to 5, with an optional comment; one answer per ticket,
also answerable in the portal. Results roll up per technician, client and period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core import signing
from django.db import transaction
from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tenfold.core import audit, events
from tenfold.core.errors import NotFound, PermissionDenied, ValidationError
from tenfold.core.roles import require
from tenfold.servicedesk import mailconfig
from tenfold.servicedesk.models import Ticket, TicketStatus
from tenfold.servicedesk.models_surveys import SurveyResponse

SALT = "tenfold.servicedesk.survey"
SCORES = ("professionalism", "accuracy", "speed")


def make_token(survey: SurveyResponse) -> str:
    """The signed token of a survey link (its id; expiry is the survey's own `expires_at`)."""
    return signing.dumps({"s": survey.pk, "t": survey.ticket_id}, salt=SALT, compress=True)


def survey_for_token(token: str) -> SurveyResponse:
    """The survey a link names, or NotFound (forged, altered, or of a deleted ticket)."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise NotFound() from None
    survey = SurveyResponse.objects.select_related("ticket", "client", "contact", "technician").filter(
        pk=int(data.get("s") or 0), ticket_id=int(data.get("t") or 0)).first()
    if survey is None:
        raise NotFound()
    return survey


def survey_url(survey: SurveyResponse) -> str:
    from tenfold.servicedesk.email_outbound import base_url

    return base_url() + reverse("survey:answer", args=[make_token(survey)])


def open_survey(ticket: Ticket) -> SurveyResponse:
    """The ticket's survey, created on its first close (one per ticket, even if it closes again)."""
    survey, _created = SurveyResponse.objects.get_or_create(ticket=ticket, defaults={
        "client_id": ticket.client_id, "contact_id": ticket.contact_id, "technician_id": ticket.assignee_id,
        "expires_at": timezone.now() + timedelta(days=mailconfig.survey_days())})
    return survey


def on_ticket_closed(event: Any) -> None:
    """A `ticket.closed` handler: open the survey and mail its link to the contact (once)."""
    from tenfold.servicedesk.email_outbound import _contact_body, _language, send_ticket_mail

    ticket = Ticket.objects.select_related("contact", "assignee").filter(
        pk=int((event.payload or {}).get("ticket_id") or 0)).first()
    if ticket is None or ticket.status != TicketStatus.CLOSED or ticket.contact is None:
        return
    survey = open_survey(ticket)
    if survey.sent_at is not None or survey.is_answered or not ticket.contact.email:
        return
    with translation.override(_language()):
        subject = _("[%(number)s] How did we do?") % {"number": ticket.number}
        text = _("Hello %(name)s,\n\nTicket %(number)s is closed. Would you rate how we handled it? Three "
                 "questions, one click, no login:\n\n%(url)s\n\nThis link is valid until %(date)s.") % {
            "name": ticket.contact.first_name, "number": ticket.number, "url": survey_url(survey),
            "date": survey.expires_at.date().isoformat()}
        send_ticket_mail(ticket=ticket, kind="survey", to=[ticket.contact.email], subject=subject,
                         body=_contact_body(ticket, text), automatic=True)
    SurveyResponse.objects.filter(pk=survey.pk).update(sent_at=timezone.now())


def _score(value: Any, field: str) -> int:
    try:
        score = int(value)
    except (TypeError, ValueError):
        raise ValidationError(_("Choose a score from 1 to 5."), field=field) from None
    if not 1 <= score <= 5:
        raise ValidationError(_("Choose a score from 1 to 5."), field=field)
    return score


def is_expired(survey: SurveyResponse) -> bool:
    return survey.expires_at < timezone.now()


@transaction.atomic
def survey_answer(*, survey: SurveyResponse, data: dict[str, Any], user: Any = None) -> SurveyResponse:
    """Record the answer (by the link's holder, or `user` in the portal): once, before it expires."""
    survey = SurveyResponse.objects.select_for_update().get(pk=survey.pk)
    if survey.is_answered:
        raise ValidationError(_("This survey has already been answered. Thank you!"))
    if is_expired(survey):
        raise ValidationError(_("This survey has expired."))
    scores = {field: _score(data.get(field), field) for field in SCORES}
    comment = str(data.get("comment") or "").strip()
    if len(comment) > 5000:
        raise ValidationError(_("This text is too long."), field="comment")
    for field, value in scores.items():
        setattr(survey, field, value)
    survey.comment = comment
    survey.answered_at = timezone.now()
    survey.answered_by_user = user if user is not None and getattr(user, "is_authenticated", False) else None
    survey.save()
    audit.record(user if survey.answered_by_user else None, "survey.answered", survey,
                 changes={**scores, "ticket": survey.ticket_id},
                 actor_kind=None if survey.answered_by_user else "system")
    events.emit("survey.answered", client_id=survey.client_id, payload={
        "survey_id": survey.pk, "ticket_id": survey.ticket_id, "technician_id": survey.technician_id, **scores})
    return survey


# --- Reads ---------------------------------------------------------------------------------------------


def _require_results(actor: Any) -> None:
    require(actor, "scorecards", "view")
    if getattr(actor, "is_portal", False):
        raise PermissionDenied()


def surveys_visible(actor: Any) -> QuerySet[SurveyResponse]:
    """Surveys of the clients the actor sees (staff who may read scorecards)."""
    _require_results(actor)
    return SurveyResponse.objects.visible_to(actor)


def portal_survey(actor: Any, ticket: Ticket) -> SurveyResponse | None:
    """The survey of a ticket the portal user sees (the ticket was fetched with access checks)."""
    return SurveyResponse.objects.visible_to(actor).filter(ticket=ticket).first()


@dataclass(frozen=True)
class Rollup:
    key: str
    label: str
    sent: int
    answered: int
    professionalism: float | None
    accuracy: float | None
    speed: float | None

    @property
    def response_rate(self) -> float | None:
        return round(100 * self.answered / self.sent, 1) if self.sent else None

    @property
    def overall(self) -> float | None:
        values = [v for v in (self.professionalism, self.accuracy, self.speed) if v is not None]
        return round(sum(values) / len(values), 2) if values else None

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "surveys": self.sent, "answered": self.answered,
                "response_rate": self.response_rate, "professionalism": self.professionalism,
                "accuracy": self.accuracy, "speed": self.speed, "overall": self.overall}


GROUPS = ("technician", "client", "month")


def _period(start: date | None, end: date | None) -> Q:
    q = Q()
    tz = timezone.get_current_timezone()
    if start is not None:
        q &= Q(created_at__gte=datetime.combine(start, time.min, tzinfo=tz))
    if end is not None:
        q &= Q(created_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz))
    return q


def _r(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


def survey_rollup(actor: Any, *, group: str = "technician", start: date | None = None,
                  end: date | None = None) -> tuple[Rollup, list[Rollup]]:
    """The total and one row per technician, client or month of the surveys opened in the period:
    surveys sent (or opened for portal answering), answered, response rate, average scores."""
    if group not in GROUPS:
        raise ValidationError(_("Group by technician, client or month."), field="group")
    qs = surveys_visible(actor).filter(_period(start, end))
    aggregates = {"sent": Count("pk"), "answered": Count("pk", filter=Q(answered_at__isnull=False)),
                  "professionalism": Avg("professionalism"), "accuracy": Avg("accuracy"), "speed": Avg("speed")}
    total_row = qs.aggregate(**aggregates)
    total = Rollup("total", _("All"), total_row["sent"], total_row["answered"], _r(total_row["professionalism"]),
                   _r(total_row["accuracy"]), _r(total_row["speed"]))
    if group == "technician":
        rows = qs.values("technician_id", "technician__first_name", "technician__last_name",
                         "technician__email").annotate(**aggregates).order_by("technician__last_name", "technician_id")
        out = [Rollup(str(r["technician_id"] or ""), (
            f"{r['technician__first_name']} {r['technician__last_name']}".strip() or r["technician__email"]
            if r["technician_id"] else _("Unassigned")), r["sent"], r["answered"], _r(r["professionalism"]),
            _r(r["accuracy"]), _r(r["speed"])) for r in rows]
    elif group == "client":
        rows = qs.values("client_id", "client__name").annotate(**aggregates).order_by("client__name")
        out = [Rollup(str(r["client_id"]), r["client__name"], r["sent"], r["answered"], _r(r["professionalism"]),
                      _r(r["accuracy"]), _r(r["speed"])) for r in rows]
    else:
        rows = qs.annotate(month=TruncMonth("created_at")).values("month").annotate(**aggregates).order_by("month")
        out = [Rollup(r["month"].strftime("%Y-%m"), r["month"].strftime("%Y-%m"), r["sent"], r["answered"],
                      _r(r["professionalism"]), _r(r["accuracy"]), _r(r["speed"])) for r in rows]
    return total, out
