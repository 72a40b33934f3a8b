"""Snapshots, the published deck (PPTX and PDF opened back), the calendar invite, action items, recommendations."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from tenfold.accounts.testing import make_staff
from tenfold.clients.models import Client, Contact
from tenfold.core.errors import Conflict, PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry
from tenfold.reporting import services
from tenfold.reporting.models import QbrActionItem, QbrDeck, QbrMeeting, ScorecardSnapshot
from tenfold.reporting.scorecard import Period
from tenfold.reporting.selectors import scorecard_for
from tenfold.reporting.tests.dataset import NOW, at, build
from tenfold.reporting.tests.test_scorecard import Q1, Q4

pytestmark = pytest.mark.django_db


def meeting_for(ds: Any, manager: Any) -> QbrMeeting:
    return services.meeting_create(actor=manager, client=ds.client, data={
        "scheduled_at": at(2026, 2, 20, 9), "duration_minutes": 90, "location": "Head office",
        "decision_maker_id": ds.decision_maker.pk, "account_manager_id": manager.pk,
        "agenda": "Scorecard\nProjects", "concerns": "Printer outages at the warehouse\nBackup of laptops"})


def test_final_snapshot_never_changes() -> None:
    # given the client's closed quarter, snapshotted
    ds = build()
    first = services.snapshot_period(ds.client.pk, Q4, now=NOW)
    assert first.final and first.overall == Decimal("66.3")
    # when the records behind it change (a ticket missed its SLA after all) and the period is snapshotted again
    from tenfold.servicedesk.models import Ticket
    Ticket.objects.filter(client=ds.client, title="T5").update(sla_resolution_met=False)
    again = services.snapshot_period(ds.client.pk, Q4, now=NOW)
    # then the first snapshot stands, and the scorecard shown for Q4 is the snapshot's, not a recomputation
    assert again.pk == first.pk
    assert ScorecardSnapshot.objects.filter(client=ds.client, final=True).count() == 1
    shown = scorecard_for(ds.client.pk, Q4, now=NOW)
    assert shown.snapshot_id == first.pk and shown.metric("ticket_summary").numerator == 2
    assert shown.overall == Decimal("66.3")
    # and a period still running cannot get a final snapshot
    with pytest.raises(ValidationError):
        services.snapshot_period(ds.client.pk, Q1, now=NOW)


def test_scheduled_snapshots_are_idempotent() -> None:
    # given an active client
    ds = build()
    # when the closed periods are snapshotted twice
    first = services.snapshot_closed_periods(NOW)
    second = services.snapshot_closed_periods(NOW)
    # then the last quarter (2025-Q4) and month (2026-01) were written once
    assert first == {"written": 2, "kept": 0} and second == {"written": 0, "kept": 2}
    assert sorted(ScorecardSnapshot.objects.filter(client=ds.client).values_list("period_kind", "period_start")) == [
        ("month", Period.parse("2026-01").start), ("quarter", Q4.start)]


def test_deck_pptx_and_pdf_show_the_scorecard() -> None:
    from pptx import Presentation
    from pypdf import PdfReader

    # given the hand-built client and its review
    ds = build()
    manager = make_staff("account_manager")
    meeting = meeting_for(ds, manager)
    # when the deck is published
    deck = services.deck_publish(actor=manager, meeting=meeting, now=NOW)
    # then the PPTX has the standard slides
    slides = Presentation(io.BytesIO(bytes(deck.pptx))).slides
    titles = [s.shapes.title.text for s in slides]
    assert titles == ["Business review: Hand Built SARL", "Environment overview",
                      "Maintenance and incidents since the last review",
                      "State of affairs: scorecard now vs last quarter", "State of affairs: support and service",
                      "Client concerns", "Recommended additional services"]
    # and the scorecard slide's native bar chart holds last quarter's and this quarter's figures
    chart = next(s.chart for s in slides[3].shapes if s.has_chart)
    plot = chart.plots[0]
    assert list(plot.categories)[:3] == ["Managed devices", "Server & network warranty",
                                         "Workstation, laptop & mobile warranty"]
    series = {s.name: list(s.values) for s in plot.series}
    assert series["2026-Q1"][:4] == [71.4, 33.3, 50.0, 50.0]
    assert series["2025-Q4"][:4] == [80.0, 66.7, 33.3, None]  # antivirus: N/A last quarter
    assert series["2026-Q1"][12] == 50.0 and series["2025-Q4"][12] == 66.7
    # and the snapshots it used are stored with it
    assert deck.snapshot.overall == Decimal("64.1") and not deck.snapshot.final
    assert deck.previous_snapshot.final and deck.previous_snapshot.period_start == Q4.start
    # and the PDF says the same
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(bytes(deck.pdf))).pages)
    assert "Business review: Hand Built SARL" in text
    assert "71.4 %" in text and "80.0 %" in text and "64.1 %" in text and "66.3 %" in text
    assert "Printer outages at the warehouse" in text
    assert deck.content["snapshots"] == {"current": deck.snapshot_id, "previous": deck.previous_snapshot_id,
                                         "formula_version": 1}


def test_published_deck_is_kept_and_a_new_one_is_a_new_version() -> None:
    # given a published deck
    ds = build()
    manager = make_staff("account_manager")
    meeting = meeting_for(ds, manager)
    first = services.deck_publish(actor=manager, meeting=meeting, now=NOW)
    pptx, pdf = bytes(first.pptx), bytes(first.pdf)
    # when the client's data changes and the deck is published again
    from tenfold.assets.models import Device
    Device.objects.filter(client=ds.client, name="SRV2").update(warranty_end=NOW.date() + timedelta(days=400))
    second = services.deck_publish(actor=manager, meeting=meeting, now=NOW + timedelta(minutes=5))
    # then the first deck's files and snapshot are unchanged; the second is version 2 with the new figure
    first.refresh_from_db()
    assert bytes(first.pptx) == pptx and bytes(first.pdf) == pdf
    assert first.snapshot.overall == Decimal("64.1") and second.version == 2
    assert second.snapshot.overall > first.snapshot.overall


def test_calendar_invite() -> None:
    from icalendar import Calendar

    # given a review with the decision maker, a second contact and a technician
    ds = build()
    manager, tech = make_staff("account_manager"), make_staff("technician")
    other = Contact.objects.create(client=ds.client, first_name="Paul", last_name="Roux", email="paul@hand.example")
    meeting = meeting_for(ds, manager)
    services.meeting_update(actor=manager, meeting=meeting, data={"technician_id": tech.pk,
                                                                  "other_contact_ids": [other.pk]})
    # when its invite is built
    from tenfold.reporting.qbr import ics
    meeting.refresh_from_db()
    event = Calendar.from_ical(ics(meeting, now=NOW)).walk("VEVENT")[0]
    # then it names the time, length, place, organiser and attendees
    assert event.decoded("dtstart") == at(2026, 2, 20, 9)
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=90)
    assert str(event["summary"]) == "Business review: Hand Built SARL" and str(event["location"]) == "Head office"
    assert str(event["uid"]) == meeting.uid and str(event["organizer"]) == f"mailto:{manager.email}"
    attendees = sorted(str(a) for a in event["attendee"])
    assert attendees == sorted([f"mailto:{ds.decision_maker.email}", "mailto:paul@hand.example",
                                f"mailto:{tech.email}"])
    # and a move bumps the sequence so calendars replace the invite
    before = meeting.sequence
    services.meeting_update(actor=manager, meeting=meeting, data={"scheduled_at": at(2026, 2, 21, 9)})
    meeting.refresh_from_db()
    assert meeting.sequence == before + 1


def test_meeting_needs_this_clients_decision_maker() -> None:
    # given a contact who is not a decision maker, and another client's decision maker
    ds = build()
    manager = make_staff("account_manager")
    plain = Contact.objects.create(client=ds.client, first_name="No", last_name="Power")
    stranger = Client.objects.create(name="Other SA", status="active")
    theirs = Contact.objects.create(client=stranger, first_name="Big", last_name="Boss", is_decision_maker=True)
    for contact in (plain, theirs):
        # when a review is scheduled with them, then it is refused and nothing is written
        with pytest.raises(ValidationError) as caught:
            services.meeting_create(actor=manager, client=ds.client, data={
                "scheduled_at": NOW, "decision_maker_id": contact.pk, "account_manager_id": manager.pk})
        assert "decision_maker" in caught.value.errors
    assert not QbrMeeting.objects.exists()
    # and a technician (read only) may not schedule one
    with pytest.raises(PermissionDenied):
        services.meeting_create(actor=make_staff("technician"), client=ds.client, data={
            "scheduled_at": NOW, "decision_maker_id": ds.decision_maker.pk, "account_manager_id": manager.pk})


def test_action_items_become_a_ticket_and_a_deal() -> None:
    from tenfold.sales.models import Deal
    from tenfold.servicedesk.models import Ticket

    # given a review with two action items
    ds = build()
    manager = make_staff("account_manager")
    owner = make_staff("owner")
    meeting = meeting_for(ds, manager)
    fix = services.action_item_create(actor=manager, meeting=meeting, data={"title": "Replace the warehouse printer",
                                                                            "description": "It jams daily."})
    sell = services.action_item_create(actor=manager, meeting=meeting, data={"title": "Backup for laptops"})
    # when one becomes a ticket and the other a deal
    ticket = services.action_item_to_ticket(actor=owner, item=fix)
    deal = services.action_item_to_deal(actor=manager, item=sell, monthly_value=Decimal("40.00"))
    # then the ticket is the client's, for the decision maker, and the deal is the account manager's from the review
    assert Ticket.objects.get(pk=ticket.pk).client_id == ds.client.pk
    assert ticket.title == "Replace the warehouse printer" and ticket.contact_id == ds.decision_maker.pk
    assert "It jams daily." in ticket.description
    stored = Deal.objects.get(pk=deal.pk)
    assert (stored.client_id, stored.owner_id, stored.source, stored.monthly_value) == (
        ds.client.pk, manager.pk, "qbr", Decimal("40.00"))
    assert QbrActionItem.objects.get(pk=fix.pk).ticket_id == ticket.pk
    # and a second click changes nothing
    count = Ticket.objects.count()
    with pytest.raises(Conflict):
        services.action_item_to_ticket(actor=owner, item=QbrActionItem.objects.get(pk=fix.pk))
    assert Ticket.objects.count() == count


def test_recommendations_are_priced_and_quoted() -> None:
    from tenfold.catalog.models import Offering, Plan, PlanItem, Service
    from tenfold.sales.models import Quote

    # given a catalog with a Best-tier workstation backup at 9.50 and a Good-tier monitoring at 25.00
    ds = build()
    manager = make_staff("account_manager")
    offering = Offering.objects.create(name="Managed workplace")
    good = Plan.objects.create(offering=offering, tier="good", name="Good")
    best = Plan.objects.create(offering=offering, tier="best", name="Best")
    Plan.objects.create(offering=offering, tier="better", name="Better")
    rmm = Service.objects.create(name="Workstation RMM", code="ws-rmm", unit="workstation", list_price=Decimal(30),
                                 includes_monitoring=True)
    backup = Service.objects.create(name="Workstation backup", code="ws-backup", unit="workstation",
                                    list_price=Decimal(10), includes_backup=True)
    PlanItem.objects.create(plan=good, service=rmm, unit_price=Decimal("25.00"))
    PlanItem.objects.create(plan=best, service=backup, unit_price=Decimal("9.50"))
    meeting = meeting_for(ds, manager)
    # when the recommendations are proposed
    rows = {r.rule: r for r in services.recommendations_refresh(actor=manager, meeting=meeting, now=NOW)}
    # then: WS1 WS2 WS3 have no backup tool (WS4 retired) → 3 × 9.50 = 28.50 a month
    assert (rows["backup"].quantity, rows["backup"].unit_price, rows["backup"].amount) == (
        Decimal(3), Decimal("9.50"), Decimal("28.50"))
    # D1 and D3 are unmanaged → 2 × 25.00 = 50.00 a month
    assert rows["coverage"].amount == Decimal("50.00")
    # warranties ended or ending within 90 days of 2026-02-15: SRV2, FW1, WS2 → 3 devices × 3 h × 90.00 = 810.00 once
    assert (rows["warranty"].quantity, rows["warranty"].amount) == (Decimal(9), Decimal("810.00"))
    # when one is edited and a negative price refused
    services.recommendation_update(actor=manager, recommendation=rows["coverage"], data={"quantity": "1"})
    with pytest.raises(ValidationError):
        services.recommendation_update(actor=manager, recommendation=rows["backup"], data={"unit_price": "-1"})
    # and a second proposal run adds nothing already there
    assert services.recommendations_refresh(actor=manager, meeting=meeting, now=NOW) == []
    # when the quote is made in one click
    quote = services.recommendations_quote(actor=manager, meeting=meeting)
    # then a deal from the review and a draft quote of the offering exist, with the project as a one-off item
    stored = Quote.objects.get(pk=quote.pk)
    assert stored.client_id == ds.client.pk and stored.offering_id == offering.pk and stored.status == "draft"
    assert stored.deal.source == "qbr" and stored.deal.monthly_value == Decimal("53.50")  # 28.50 + 25.00
    assert stored.deal.one_off_value == Decimal("810.00")
    assert [(i.description, i.quantity, i.unit_price) for i in stored.items.all()] == [
        ("Replacement project: 3 devices out of warranty", Decimal("9.00"), Decimal("90.00"))]
    # and quoting again without new proposals is refused
    with pytest.raises(ValidationError):
        services.recommendations_quote(actor=manager, meeting=meeting)


def test_held_review_moves_the_next_due_date() -> None:
    ds = build()
    manager = make_staff("account_manager")
    meeting = meeting_for(ds, manager)
    services.cadence_set(actor=manager, client=ds.client, interval_months=3, next_due_on=NOW.date())
    services.meeting_set_status(actor=manager, meeting=meeting, status="held")
    assert str(ds.client.qbr_cadence.__class__.objects.get(client=ds.client).next_due_on) == "2026-05-20"
    with pytest.raises(Conflict):
        services.meeting_set_status(actor=manager, meeting=meeting, status="cancelled")
    assert AuditEntry.objects.filter(action="qbr_meeting.held").count() == 1
    assert timezone.is_aware(meeting.scheduled_at) and QbrDeck.objects.count() == 0
