"""The business review's deck content (one standard template, filled per client) and its calendar invite.

`deck_content` gathers everything the deck shows into plain JSON (numbers as strings), stored with the published
deck so that its PPTX and PDF, and the page that lists it, always show the same figures."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db.models import Avg, Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from tenfold.assets.models import Device, DeviceKind, DeviceState
from tenfold.catalog.pricing import money
from tenfold.contracts.models import Contract, ContractAddendum, ContractStatus, Project, ProjectStatus
from tenfold.core.selectors import organization
from tenfold.monitoring.models import Alert, MaintenanceWindow
from tenfold.reporting.models import QbrMeeting, ScorecardSnapshot
from tenfold.reporting.scorecard import AREAS, Period
from tenfold.reporting.selectors import previous_meeting, snapshot_scorecard
from tenfold.servicedesk.models import Ticket, TicketType, TimeEntry, WorkType
from tenfold.servicedesk.models_surveys import SurveyResponse

WARRANTY_DAYS = 90
LIST_LIMIT = 12


def _pct(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def scorecard_rows(current: ScorecardSnapshot, previous: ScorecardSnapshot) -> list[dict[str, Any]]:
    """[{area, key, label, current, previous, reason}] for every metric, areas first (value strings or None)."""
    now_card, before_card = snapshot_scorecard(current), snapshot_scorecard(previous)
    before = {m.key: m for m in before_card.metrics}
    rows: list[dict[str, Any]] = []
    for area, before_area in zip(now_card.areas(), before_card.areas(), strict=True):
        rows.append({"area": True, "key": area["key"], "label": str(AREAS[area["key"]]),
                     "current": _pct(area["score"]), "previous": _pct(before_area["score"]), "reason": ""})
        for metric in area["metrics"]:
            rows.append({"area": False, "key": metric.key, "label": str(metric.definition.label),
                         "current": _pct(metric.value), "previous": _pct(before[metric.key].value),
                         "reason": metric.reason or before[metric.key].reason})
    return rows


def _window(meeting: QbrMeeting, period: Period) -> datetime:
    last = previous_meeting(meeting)
    return last.scheduled_at if last is not None else period.previous().start_dt


def deck_content(meeting: QbrMeeting, current: ScorecardSnapshot, previous: ScorecardSnapshot, *,
                 now: datetime | None = None) -> dict[str, Any]:
    """Everything the deck shows, as JSON."""
    now = now or timezone.now()
    client = meeting.client
    period = Period(current.period_kind, current.period_start)
    since = _window(meeting, period)
    until = min(now, current.as_of)
    devices = Device.objects.filter(client=client).exclude(state=DeviceState.RETIRED)
    kinds = dict(DeviceKind.choices)
    by_kind = [{"kind": str(kinds.get(r["kind"], r["kind"])), "count": r["n"]}
               for r in devices.values("kind").annotate(n=Count("pk")).order_by("-n", "kind")]
    horizon = timezone.localdate(now) + timedelta(days=WARRANTY_DAYS)
    warranties = [{"device": d.name, "kind": str(kinds.get(d.kind, d.kind)), "ends": f"{d.warranty_end:%Y-%m-%d}"}
                  for d in devices.filter(warranty_end__isnull=False, warranty_end__lte=horizon)
                  .order_by("warranty_end", "name")[:LIST_LIMIT]]
    contracts = [{"title": c.title or c.number, "number": c.number, "type": c.get_type_display(),
                  "plan": str(c.plan) if c.plan_id else "", "start": f"{c.start_date:%Y-%m-%d}",
                  "end": f"{c.end_date:%Y-%m-%d}" if c.end_date else ""}
                 for c in Contract.objects.filter(client=client, status=ContractStatus.ACTIVE)
                 .select_related("plan").order_by("start_date", "pk")[:LIST_LIMIT]]
    addenda = [{"contract": a.contract.number, "effective": f"{a.effective_date:%Y-%m-%d}",
                "description": a.description[:200], "status": a.get_status_display()}
               for a in ContractAddendum.objects.filter(client=client, effective_date__gte=since.date())
               .select_related("contract").order_by("effective_date", "pk")[:LIST_LIMIT]]
    maintenance = [{"what": w.reason, "when": f"{w.starts_at:%Y-%m-%d}"}
                   for w in MaintenanceWindow.objects.filter(client=client, starts_at__gte=since, starts_at__lt=until)
                   .order_by("starts_at")[:LIST_LIMIT]]
    maintenance += [{"what": p.name, "when": f"{p.due_date:%Y-%m-%d}" if p.due_date else ""}
                    for p in Project.objects.filter(client=client, status=ProjectStatus.DONE,
                                                    updated_at__gte=since)[:LIST_LIMIT]]
    incidents = [{"number": t.number, "title": t.title, "fix": (t.resolution or "").strip()[:300],
                  "resolved": f"{t.resolved_at:%Y-%m-%d}"}
                 for t in Ticket.objects.filter(client=client, type=TicketType.INCIDENT, resolved_at__gte=since,
                                                resolved_at__lt=until, merged_into__isnull=True)
                 .order_by("-priority", "resolved_at")[:LIST_LIMIT]]
    alerts_resolved = Alert.objects.filter(client=client, resolved_at__gte=since, resolved_at__lt=until).count()

    patches = _patches_installed(client.pk, since, until)
    minutes = {r["work_type"]: int(r["m"] or 0) for r in TimeEntry.objects.filter(
        client=client, started_at__gte=since, started_at__lt=until).values("work_type")
        .annotate(m=Sum("actual_minutes")).order_by()}
    hours = [{"category": str(label), "hours": str(money(Decimal(minutes.get(key, 0)) / 60))}
             for key, label in WorkType.choices]
    tickets = Ticket.objects.filter(client=client, merged_into__isnull=True)
    opened = tickets.filter(created_at__gte=since, created_at__lt=until).count()
    resolved = tickets.filter(resolved_at__gte=since, resolved_at__lt=until)
    sla = resolved.filter(resolution_due_at__isnull=False).aggregate(
        total=Count("pk"), met=Count("pk", filter=~Q(sla_resolution_met=False) & ~Q(sla_first_response_met=False)))
    survey = SurveyResponse.objects.filter(client=client, answered_at__gte=since, answered_at__lt=until).aggregate(
        n=Count("pk"), professionalism=Avg("professionalism"), accuracy=Avg("accuracy"), speed=Avg("speed"))
    rows = scorecard_rows(current, previous)
    availability = next(r for r in rows if r["key"] == "service_availability")
    recommendations = [{"title": r.title, "reason": r.reason, "kind": r.kind, "amount": str(r.amount)}
                       for r in meeting.recommendations.filter(included=True).order_by("pk")]
    org = organization()
    return {
        "client": client.name, "msp": org.name, "currency": org.currency,
        "meeting": {"date": f"{meeting.scheduled_at:%Y-%m-%d}", "location": meeting.location,
                    "decision_maker": meeting.decision_maker.full_name,
                    "account_manager": meeting.account_manager.get_full_name() or meeting.account_manager.email},
        "period": {"current": period.code, "previous": period.previous().code,
                   "as_of": f"{current.as_of:%Y-%m-%d}", "since": f"{since:%Y-%m-%d}"},
        "overall": {"current": _pct(current.overall), "previous": _pct(previous.overall)},
        "scorecard": rows,
        "environment": {"devices_by_kind": by_kind, "warranties": warranties, "contracts": contracts,
                        "addenda": addenda, "maintenance": maintenance, "incidents": incidents,
                        "alerts_resolved": alerts_resolved},
        "affairs": {"patches_installed": patches, "support_hours": hours,
                    "uptime": {"current": availability["current"], "previous": availability["previous"]},
                    "tickets": {"opened": opened, "resolved": resolved.count(), "sla_total": sla["total"],
                                "sla_met": sla["met"],
                                "sla_pct": str(money(Decimal(sla["met"]) * 100 / sla["total"]))
                                if sla["total"] else None},
                    "survey": {"answers": survey["n"],
                               **{k: (f"{survey[k]:.1f}" if survey[k] is not None else None)
                                  for k in ("professionalism", "accuracy", "speed")}}},
        "concerns": meeting.concerns,
        "recommendations": recommendations,
        "snapshots": {"current": current.pk, "previous": previous.pk, "formula_version": current.formula_version},
    }


def _patches_installed(client_id: int, since: datetime, until: datetime) -> int | None:
    try:
        model = apps.get_model("patching", "DeviceUpdate")
    except LookupError:
        return None
    return int(model.objects.filter(client_id=client_id, installed_at__gte=since, installed_at__lt=until).count())


def ics(meeting: QbrMeeting, *, now: datetime | None = None) -> bytes:
    """The review as an iCalendar invite (one VEVENT; the same UID across changes, SEQUENCE counting them)."""
    from icalendar import Calendar, Event, vCalAddress, vText

    calendar = Calendar()
    calendar.add("prodid", "-//Tenfold//Business review//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if meeting.status == "cancelled" else "REQUEST")
    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", now or timezone.now())
    event.add("dtstart", meeting.scheduled_at)
    event.add("dtend", meeting.scheduled_at + timedelta(minutes=meeting.duration_minutes))
    event.add("summary", _("Business review: %(client)s") % {"client": meeting.client.name})
    if meeting.location:
        event.add("location", meeting.location)
    if meeting.agenda:
        event.add("description", meeting.agenda)
    event.add("status", "CANCELLED" if meeting.status == "cancelled" else "CONFIRMED")
    manager = meeting.account_manager
    organizer = vCalAddress(f"mailto:{manager.email}")
    organizer.params["cn"] = vText(manager.get_full_name() or manager.email)
    event["organizer"] = organizer
    people = [(meeting.decision_maker.full_name, meeting.decision_maker.email, "REQ-PARTICIPANT")]
    people += [(c.full_name, c.email, "OPT-PARTICIPANT") for c in meeting.other_contacts.all()]
    if meeting.technician is not None:
        people.append((meeting.technician.get_full_name(), meeting.technician.email, "OPT-PARTICIPANT"))
    for name, email, role in people:
        if not email:
            continue
        attendee = vCalAddress(f"mailto:{email}")
        attendee.params["cn"] = vText(name)
        attendee.params["role"] = vText(role)
        event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    return bytes(calendar.to_ical())
