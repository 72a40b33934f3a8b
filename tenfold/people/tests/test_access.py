"""Who sees whose people data (roles.md), and peer reviews that never name their author, through the UI and
the API; a score below the minimum number of reviewers is not shown."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client as HttpClient

from tenfold.accounts.testing import bearer, make_api_token, make_staff
from tenfold.core.models import AuditEntry
from tenfold.people import services
from tenfold.people.models import PeerReview, ReviewCycle, Statement
from tenfold.people.tests.factories import make_employee

pytestmark = pytest.mark.django_db


def _statement(employee) -> Statement:
    owner = make_staff("owner")
    return services.statement_draft(actor=owner, employee=employee, quarter_start=date(2026, 1, 1))


def _get(user, url: str) -> int:
    http = HttpClient()
    http.force_login(user)
    return http.get(url).status_code


def test_own_statement_the_managers_team_and_all_for_owner_and_finance() -> None:
    # given a service manager, a team lead reporting to them, and a technician reporting to the lead
    manager = make_employee("service_manager", first_name="Manon")
    lead = make_employee("technician", manager=manager, first_name="Lea")
    tech = make_employee("technician", manager=lead, first_name="Theo")
    peer = make_employee("technician", first_name="Paul")
    statement = _statement(tech)
    url = f"/people/statements/{statement.pk}/"
    api = f"/api/v1/people/statements/{statement.pk}"
    # then the technician sees their own, their manager and the manager's manager see it (indirect report)
    for employee in (tech, lead, manager):
        assert _get(employee.user, url) == 200
        assert HttpClient().get(api, **bearer(make_api_token(employee.user))).status_code == 200
    # and a colleague outside the line gets 404, through the UI and the API
    assert _get(peer.user, url) == 404
    assert HttpClient().get(api, **bearer(make_api_token(peer.user))).status_code == 404
    assert _get(tech.user, f"/people/employees/{peer.pk}/scorecard/") == 404
    # and the owner, an administrator and finance see every statement
    for role in ("owner", "admin", "finance"):
        assert _get(make_staff(role), url) == 200
    # and the lists show only what each may see
    body = HttpClient()
    body.force_login(lead.user)
    page = body.get("/people/statements/").content.decode()
    assert "Theo" in page
    listed = HttpClient().get("/api/v1/people/employees", **bearer(make_api_token(peer.user))).json()
    assert [row["id"] for row in listed["items"]] == [peer.pk]


def test_a_technician_cannot_lock_their_own_statement() -> None:
    tech = make_employee()
    statement = _statement(tech)
    audits = AuditEntry.objects.count()
    http = HttpClient()
    http.force_login(tech.user)
    assert http.post(f"/people/statements/{statement.pk}/review/").status_code == 403
    statement.refresh_from_db()
    assert statement.status == "draft"
    assert AuditEntry.objects.count() == audits


def _reviews(reviewee, n: int, comment: str = "") -> ReviewCycle:
    cycle = ReviewCycle.objects.create(name="2026 Q1", start_date=date(2026, 1, 1), end_date=date(2026, 3, 31))
    for i in range(n):
        reviewer = make_employee(first_name=f"Reviewer{i}", last_name="Secretname")
        PeerReview.objects.create(cycle=cycle, reviewer=reviewer, reviewee=reviewee, sharing=5, stepping_in=4,
                                  communication=3, reliability=4, comment=f"{comment}{i}")
    return cycle


def test_the_person_reviewed_sees_averages_only_never_who_said_what() -> None:
    tech = make_employee(first_name="Rita")
    cycle = _reviews(tech, 3, comment="Confidential remark ")
    http = HttpClient()
    http.force_login(tech.user)
    pages = [http.get(f"/people/employees/{tech.pk}/").content.decode(),
             http.get(f"/people/reviews/{cycle.pk}/").content.decode(),
             http.get(f"/people/employees/{tech.pk}/scorecard/?quarter=2026-01-01").content.decode()]
    token = make_api_token(tech.user)
    api = [HttpClient().get(f"/api/v1/people/employees/{tech.pk}/peer-reviews?quarter=2026-01-01",
                            **bearer(token)).content.decode(),
           HttpClient().get(f"/api/v1/people/employees/{tech.pk}/scorecard?quarter=2026-01-01",
                            **bearer(token)).content.decode()]
    # (the review form lists every colleague one may review: names there say nothing about who reviewed whom)
    pages = [re.sub(r"<select.*?</select>", "", page, flags=re.S) for page in pages]
    for text in pages + api:
        assert "Secretname" not in text and "Reviewer0" not in text
        assert "Confidential remark" not in text
    # the aggregates are there: 5, 4, 3, 4 per criterion and 4.00 overall
    summary = HttpClient().get(f"/api/v1/people/employees/{tech.pk}/peer-reviews?quarter=2026-01-01",
                               **bearer(token)).json()
    assert summary["shown"] is True and summary["score"] == "4.00" and summary["reviewers"] == 3
    assert [(c["criterion"], c["average"]) for c in summary["criteria"]] == [
        ("sharing", "5.00"), ("stepping_in", "4.00"), ("communication", "3.00"), ("reliability", "4.00")]
    assert "4.00 / 5" in pages[0]


def test_below_the_minimum_number_of_reviewers_no_score_is_shown() -> None:
    tech = make_employee()
    _reviews(tech, 2)
    token = make_api_token(tech.user)
    summary = HttpClient().get(f"/api/v1/people/employees/{tech.pk}/peer-reviews?quarter=2026-01-01",
                               **bearer(token)).json()
    assert summary == {"shown": False, "reviewers": 2, "minimum": 3, "score": None, "criteria": []}
    http = HttpClient()
    http.force_login(tech.user)
    page = http.get(f"/people/employees/{tech.pk}/").content.decode()
    assert 'data-testid="review-hidden"' in page and "/ 5" not in page


def test_review_through_the_api_answers_without_echoing_and_refuses_bad_input() -> None:
    reviewer, peer = make_employee(), make_employee()
    cycle = ReviewCycle.objects.create(name="Q1", start_date=date(2026, 1, 1), end_date=date(2026, 3, 31))
    token = make_api_token(reviewer.user)
    url = f"/api/v1/people/review-cycles/{cycle.pk}/reviews"
    good = {"reviewee_id": peer.pk, "sharing": 4, "stepping_in": 5, "communication": 4, "reliability": 3,
            "comment": "Helps"}
    answer = HttpClient().post(url, data=good, content_type="application/json", **bearer(token))
    assert answer.status_code == 201 and answer.json() == {"cycle_id": cycle.pk, "status": "submitted"}
    for bad in ({**good, "sharing": 6}, {**good, "reviewee_id": reviewer.pk}, good, {**good, "extra": 1}):
        response = HttpClient().post(url, data=bad, content_type="application/json", **bearer(token))
        assert response.status_code == 422, bad
    assert PeerReview.objects.count() == 1
    entry = AuditEntry.objects.filter(action="peer_review.submitted").get()
    assert str(peer.pk) not in str(entry.changes)


def test_rule_api_refuses_a_cap_below_the_floor_with_a_field_message() -> None:
    from tenfold.people.tests.factories import make_plan

    owner = make_staff("owner")
    plan = make_plan()
    response = HttpClient().post(f"/api/v1/people/plans/{plan.pk}/rules", content_type="application/json",
                                 data={"label": "Bad", "kind": "linear", "measure": "sla", "linear_start": "80",
                                       "linear_end": "100", "linear_amount": "100", "cap": "10", "floor": "20"},
                                 **bearer(make_api_token(owner)))
    assert response.status_code == 422
    assert response.json()["errors"]["cap"] == ["The cap cannot be below the floor."]
    assert plan.rules.count() == 0


def test_rule_builder_form_shows_errors_beside_the_fields() -> None:
    from tenfold.people.tests.factories import make_plan

    owner = make_staff("owner")
    plan = make_plan()
    http = HttpClient()
    http.force_login(owner)
    page = http.post(f"/people/plans/{plan.pk}/rules/new/", data={
        "label": "CSAT", "kind": "threshold", "measure": "csat", "basis": "monthly", "applies_to": "all",
        "step1_from": "4.5", "step1_amount": "100", "step2_from": "4.5", "step2_amount": "200"}).content.decode()
    assert "Two steps start at the same value: thresholds cannot overlap." in page
    page = http.post(f"/people/plans/{plan.pk}/rules/new/", data={
        "label": "Sales", "kind": "commission", "measure": "recurring_value", "rate_pct": "-3", "basis": "monthly",
        "applies_to": "all"}).content.decode()
    assert "A rate cannot be negative." in page
    assert plan.rules.count() == 0
    response = http.post(f"/people/plans/{plan.pk}/rules/new/", data={
        "label": "Training", "kind": "linear", "measure": "training_hours", "basis": "monthly", "applies_to": "all",
        "linear_start": "0", "linear_end": "40", "linear_amount": "400", "cap": "300"})
    assert response.status_code == 302
    assert plan.rules.get().linear_amount == Decimal("400.00")
