"""The API's writes that the pages already had: employees (create, change), a training removed, a rule changed,
review cycles opened and closed, a draft statement computed again. Exact answers; bad input refused and nothing
changed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client as HttpClient

from tenfold.accounts.testing import bearer, make_api_token, make_staff
from tenfold.people import services
from tenfold.people.models import Employee, PlanRule, ReviewCycle, Team, Training
from tenfold.people.tests.factories import add_rule, make_employee, make_plan

pytestmark = pytest.mark.django_db


def _call(method: str, url: str, user, body=None):
    return getattr(HttpClient(), method)(url, data=body, content_type="application/json",
                                         **bearer(make_api_token(user)))


def test_employee_create_and_change_through_the_api() -> None:
    owner = make_staff("owner")
    desk = Team.objects.create(name="Service desk")
    lead = make_employee("service_manager", first_name="Manon", last_name="Lead")
    hire = make_staff("technician", mfa=False, first_name="Nadia", last_name="Roux")
    response = _call("post", "/api/v1/people/employees", owner, {
        "user_id": hire.pk, "team_id": desk.pk, "manager_id": lead.pk, "plan_role": "technician",
        "base_pay": "34000", "start_date": "2026-09-01"})
    assert response.status_code == 201
    employee = Employee.objects.get(user=hire)
    assert response.json() == {"id": employee.pk, "user_id": hire.pk, "name": "Nadia Roux", "team": "Service desk",
                               "team_id": desk.pk, "manager_id": lead.pk, "plan_role": "technician",
                               "base_pay": "34000.00", "start_date": "2026-09-01", "active": True}
    # bad input: already an employee, a team that does not exist, a negative pay, an unknown field
    for body, field in (({"user_id": hire.pk, "start_date": "2026-09-01"}, "user"),
                        ({"user_id": make_staff("technician", mfa=False).pk, "team_id": 999999,
                          "start_date": "2026-09-01"}, "team")):
        answer = _call("post", "/api/v1/people/employees", owner, body)
        assert answer.status_code == 422 and list(answer.json()["errors"]) == [field], body
    for body in ({"user_id": hire.pk, "start_date": "2026-09-01", "base_pay": "-1"},
                 {"user_id": hire.pk, "start_date": "2026-09-01", "salary": 1}):
        assert _call("post", "/api/v1/people/employees", owner, body).status_code == 422
    assert Employee.objects.count() == 2
    # change: only the fields given; a manager inside one's own team is refused
    response = _call("patch", f"/api/v1/people/employees/{employee.pk}", owner, {"team_id": None,
                                                                                 "base_pay": "35500.50"})
    assert response.status_code == 200
    assert (response.json()["team_id"], response.json()["base_pay"], response.json()["manager_id"]) == (
        None, "35500.50", lead.pk)
    answer = _call("patch", f"/api/v1/people/employees/{lead.pk}", owner, {"manager_id": employee.pk})
    assert answer.status_code == 422 and list(answer.json()["errors"]) == ["manager"]
    assert _call("patch", f"/api/v1/people/employees/{employee.pk}", owner, {"active": None}).status_code == 422
    lead.refresh_from_db()
    assert lead.manager_id is None
    # the employee may read but not change their own record
    assert _call("patch", f"/api/v1/people/employees/{employee.pk}", hire, {"base_pay": "90000"}).status_code == 403
    employee.refresh_from_db()
    assert employee.base_pay == Decimal("35500.50")


def test_a_training_is_removed_by_its_employee_and_not_by_a_colleague() -> None:
    tech, peer = make_employee(), make_employee()
    course = Training.objects.create(employee=tech, title="Course", hours=Decimal("3"), date=date(2026, 2, 1))
    assert _call("delete", f"/api/v1/people/trainings/{course.pk}", peer.user).status_code == 404
    assert Training.objects.filter(pk=course.pk).exists()
    assert _call("delete", f"/api/v1/people/trainings/{course.pk}", tech.user).status_code == 204
    assert not Training.objects.exists()


def test_a_rule_is_changed_through_the_api_and_a_bad_one_refused() -> None:
    owner = make_staff("owner")
    plan = make_plan()
    rule = add_rule(plan, "linear", "sla", label="SLA", linear_start="80", linear_end="100", linear_amount="300")
    response = _call("put", f"/api/v1/people/rules/{rule.pk}", owner, {
        "label": "CSAT", "kind": "threshold", "measure": "csat",
        "steps": [{"from": "4.0", "amount": "100"}, {"from": "4.5", "amount": "300"}]})
    assert response.status_code == 200
    body = response.json()
    assert (body["label"], body["kind"], body["steps"], body["linear_end"]) == (
        "CSAT", "threshold", [{"from": "4.0", "amount": "100"}, {"from": "4.5", "amount": "300"}], None)
    answer = _call("put", f"/api/v1/people/rules/{rule.pk}", owner, {
        "label": "CSAT", "kind": "threshold", "measure": "csat",
        "steps": [{"from": "4.5", "amount": "100"}, {"from": "4.0", "amount": "300"}]})
    assert answer.status_code == 422 and list(answer.json()["errors"]) == ["steps"]
    assert PlanRule.objects.get(pk=rule.pk).steps == [{"from": "4.0", "amount": "100"},
                                                      {"from": "4.5", "amount": "300"}]


def test_review_cycles_open_and_close_through_the_api() -> None:
    owner = make_staff("owner")
    response = _call("post", "/api/v1/people/review-cycles", owner, {
        "name": "2026 Q3", "start_date": "2026-07-01", "end_date": "2026-09-30"})
    assert response.status_code == 201
    cycle = ReviewCycle.objects.get()
    assert response.json() == {"id": cycle.pk, "name": "2026 Q3", "frequency": "quarterly",
                               "start_date": "2026-07-01", "end_date": "2026-09-30", "status": "open"}
    answer = _call("post", "/api/v1/people/review-cycles", owner, {
        "name": "Backwards", "start_date": "2026-07-01", "end_date": "2026-06-30"})
    assert answer.status_code == 422
    assert ReviewCycle.objects.count() == 1
    assert _call("post", f"/api/v1/people/review-cycles/{cycle.pk}/close", owner).json()["status"] == "closed"
    again = _call("post", f"/api/v1/people/review-cycles/{cycle.pk}/close", owner)
    assert again.status_code == 409 and again.json()["message"] == "This cycle is already closed."


def test_only_a_draft_statement_is_computed_again_through_the_api() -> None:
    owner = make_staff("owner")
    tech = make_employee()
    plan = make_plan()
    add_rule(plan, "linear", "training_hours", linear_start="0", linear_end="10", linear_amount="100")
    statement = services.statement_draft(actor=owner, employee=tech, quarter_start=date(2026, 1, 1))
    assert statement.total == Decimal("0.00")
    Training.objects.create(employee=tech, title="Course", hours=Decimal("2.5"), date=date(2026, 3, 2))
    response = _call("post", f"/api/v1/people/statements/{statement.pk}/recompute", owner)
    assert response.status_code == 200
    assert (response.json()["total"], [line["amount"] for line in response.json()["lines"]]) == ("25.00", ["25.00"])
    services.statement_review(actor=owner, statement=statement)
    Training.objects.create(employee=tech, title="More", hours=Decimal("5"), date=date(2026, 3, 3))
    again = _call("post", f"/api/v1/people/statements/{statement.pk}/recompute", owner)
    assert again.status_code == 409
    statement.refresh_from_db()
    assert statement.total == Decimal("25.00")
