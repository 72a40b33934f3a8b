"""Deleting a compensation plan: refused while a statement was computed with it (a locked statement never changes),
with the offer to end it instead; ending it keeps the quarters of reviewed and locked statements covered. Also the
lists' search, filters and sorting, through pages and the API."""

from __future__ import annotations

import importlib
import re
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.test import Client as HttpClient
from django.utils import timezone

from tenfold.accounts.testing import bearer, make_api_token, make_staff
from tenfold.core.errors import Conflict, PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry
from tenfold.people import services
from tenfold.people.models import CompensationPlan, PlanRule, Statement, StatementLine, Team, Training
from tenfold.people.tests.factories import add_rule, make_employee, make_plan

pytestmark = pytest.mark.django_db


def _locked_statement(owner, employee) -> Statement:
    statement = services.statement_draft(actor=owner, employee=employee, quarter_start=date(2026, 1, 1))
    services.statement_review(actor=owner, statement=statement)
    return services.statement_lock(actor=owner, statement=statement)


def _lines(statement: Statement) -> list[tuple]:
    return list(StatementLine.objects.filter(statement=statement).order_by("position").values_list(
        "plan_id", "plan_name", "rule_label", "value", "amount", "segment_start", "segment_end"))


def test_statement_lines_keep_the_plan_they_were_computed_with() -> None:
    owner = make_staff("owner", mfa=False)
    tech = make_employee()
    plan = make_plan(name="Technicians")
    add_rule(plan, "linear", "training_hours", label="Development", linear_start="0", linear_end="10",
             linear_amount="100")
    Training.objects.create(employee=tech, title="Course", hours=Decimal("4"), date=date(2026, 2, 1))
    statement = services.statement_draft(actor=owner, employee=tech, quarter_start=date(2026, 1, 1))
    assert _lines(statement) == [(plan.pk, "Technicians", "Development", Decimal("4.00"), Decimal("40.00"),
                                  date(2026, 1, 1), date(2026, 3, 31))]


def test_an_unused_plan_is_deleted_with_its_rules_and_audited() -> None:
    owner = make_staff("owner", mfa=False)
    plan = make_plan(name="Draft plan")
    add_rule(plan, "threshold", "csat", steps=[{"from": "4", "amount": "100"}])
    services.plan_delete(actor=owner, plan=plan)
    assert not CompensationPlan.objects.exists() and not PlanRule.objects.exists()
    entry = AuditEntry.objects.filter(action="compensation_plan.deleted").get()
    assert entry.object_id == str(plan.pk) and entry.changes["name"] == "Draft plan"


def test_a_plan_behind_a_locked_statement_is_not_deleted_and_the_statement_does_not_change() -> None:
    # given a plan that a locked statement was computed with
    owner = make_staff("owner", mfa=False)
    tech = make_employee()
    plan = make_plan(name="Technicians 2026", start=date(2026, 1, 1))
    add_rule(plan, "linear", "training_hours", label="Development", linear_start="0", linear_end="10",
             linear_amount="100")
    Training.objects.create(employee=tech, title="Course", hours=Decimal("5"), date=date(2026, 2, 1))
    statement = _locked_statement(owner, tech)
    before = _lines(statement)
    audits = AuditEntry.objects.count()
    # when the owner deletes the plan
    with pytest.raises(Conflict) as refused:
        services.plan_delete(actor=owner, plan=plan)
    # then it is refused with the way out, and the plan, its rules and the statement are untouched
    assert refused.value.code == "plan_in_statements"
    assert str(refused.value.message) == ("“Technicians 2026” was used to compute 1 statement: it cannot be deleted. "
                                          "End it instead: set its last day in force.")
    assert CompensationPlan.objects.filter(pk=plan.pk).exists() and plan.rules.count() == 1
    statement.refresh_from_db()
    assert (statement.status, statement.total, _lines(statement)) == ("locked", Decimal("50.00"), before)
    assert AuditEntry.objects.count() == audits
    # and only the owner may even try
    with pytest.raises(PermissionDenied):
        services.plan_delete(actor=make_staff("admin", mfa=False), plan=plan)


def test_ending_a_plan_keeps_the_quarters_of_its_locked_statements_covered() -> None:
    owner = make_staff("owner", mfa=False)
    tech = make_employee()
    plan = make_plan(name="Technicians", start=date(2025, 1, 1))
    add_rule(plan, "threshold", "training_hours", steps=[{"from": "0", "amount": "90"}])
    _locked_statement(owner, tech)
    # when ending it inside the locked quarter: refused, nothing changed
    with pytest.raises(ValidationError) as refused:
        services.plan_end(actor=owner, plan=plan, last_day=date(2026, 2, 15))
    assert list(refused.value.errors) == ["effective_to"]
    assert "computed with this plan up to" in refused.value.errors["effective_to"][0]
    plan.refresh_from_db()
    assert plan.effective_to is None
    # and moving its start after the locked quarter's start is refused too
    with pytest.raises(ValidationError) as moved:
        services.plan_update(actor=owner, plan=plan, data={"effective_from": date(2026, 2, 1)})
    assert list(moved.value.errors) == ["effective_from"]
    plan.refresh_from_db()
    assert plan.effective_from == date(2025, 1, 1)
    # when ending it on the quarter's last day: done
    services.plan_end(actor=owner, plan=plan, last_day=date(2026, 3, 31))
    plan.refresh_from_db()
    assert plan.effective_to == date(2026, 3, 31)
    # and an end before the start is refused
    with pytest.raises(ValidationError):
        services.plan_end(actor=owner, plan=plan, last_day=date(2024, 12, 31))
    with pytest.raises(ValidationError):
        services.plan_end(actor=owner, plan=plan, last_day=None)


def test_a_draft_statement_may_be_recomputed_after_its_plan_ends() -> None:
    """Only reviewed and locked statements hold a plan's dates; a draft follows the plans as they are."""
    owner = make_staff("owner", mfa=False)
    tech = make_employee()
    plan = make_plan(name="Technicians", start=date(2025, 1, 1))
    add_rule(plan, "threshold", "training_hours", steps=[{"from": "0", "amount": "90"}])
    draft = services.statement_draft(actor=owner, employee=tech, quarter_start=date(2026, 1, 1))
    assert draft.total == Decimal("90.00")
    services.plan_end(actor=owner, plan=plan, last_day=date(2026, 1, 30))
    draft = services.statement_recompute(actor=owner, statement=draft)
    # 90 × 30/90 days
    assert draft.total == Decimal("30.00")
    assert _lines(draft)[0][0] == plan.pk


def test_plan_delete_page_offers_to_end_a_plan_in_use_and_deletes_an_unused_one() -> None:
    owner = make_staff("owner")
    http = HttpClient()
    http.force_login(owner)
    tech = make_employee()
    used = make_plan(name="Used plan", start=date(2025, 1, 1))
    add_rule(used, "threshold", "training_hours", steps=[{"from": "0", "amount": "90"}])
    _locked_statement(owner, tech)
    # the page of a plan in use explains and offers the end date instead of a delete button
    page = http.get(f"/people/plans/{used.pk}/delete/").content.decode()
    assert "This plan was used to compute 1 statement: it cannot be deleted" in page
    assert 'data-testid="end-plan-form"' in page and 'data-testid="confirm-delete"' not in page
    # a forced POST is refused with the message, and nothing is deleted
    response = http.post(f"/people/plans/{used.pk}/delete/", follow=True)
    assert "“Used plan” was used to compute 1 statement: it cannot be deleted." in response.content.decode()
    assert CompensationPlan.objects.filter(pk=used.pk).exists()
    # ending it inside the locked quarter shows the reason beside the date; on the quarter's end it is saved
    page = http.post(f"/people/plans/{used.pk}/end/", {"effective_to": "2026-01-31"}).content.decode()
    assert "end it on that day or later." in page
    response = http.post(f"/people/plans/{used.pk}/end/", {"effective_to": "2026-03-31"})
    assert response.status_code == 302
    used.refresh_from_db()
    assert used.effective_to == date(2026, 3, 31)
    # an unused plan is deleted from its page
    unused = make_plan("salesperson", name="Unused plan")
    assert 'data-testid="confirm-delete"' in http.get(f"/people/plans/{unused.pk}/delete/").content.decode()
    response = http.post(f"/people/plans/{unused.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/people/plans/"
    assert not CompensationPlan.objects.filter(pk=unused.pk).exists()
    # finance reads plans but may not delete them
    finance = HttpClient()
    finance.force_login(make_staff("finance"))
    assert finance.post(f"/people/plans/{used.pk}/delete/").status_code == 403


def test_plan_api_delete_end_and_patch() -> None:
    owner = make_staff("owner")
    headers = bearer(make_api_token(owner))
    http = HttpClient()
    tech = make_employee()
    plan = make_plan(name="Technicians", start=date(2025, 1, 1))
    add_rule(plan, "threshold", "training_hours", steps=[{"from": "0", "amount": "90"}])
    _locked_statement(owner, tech)
    response = http.delete(f"/api/v1/people/plans/{plan.pk}", **headers)
    assert response.status_code == 409
    assert response.json() == {"code": "plan_in_statements", "message": (
        "“Technicians” was used to compute 1 statement: it cannot be deleted. End it instead: set its last day in "
        "force.")}
    response = http.post(f"/api/v1/people/plans/{plan.pk}/end", {"effective_to": "2026-02-01"},
                         content_type="application/json", **headers)
    assert response.status_code == 422 and list(response.json()["errors"]) == ["effective_to"]
    response = http.post(f"/api/v1/people/plans/{plan.pk}/end", {"effective_to": "2026-06-30"},
                         content_type="application/json", **headers)
    assert response.status_code == 200 and response.json()["effective_to"] == "2026-06-30"
    # PATCH: only the fields given; a null name is refused; null effective_to reopens the plan
    response = http.patch(f"/api/v1/people/plans/{plan.pk}", {"name": None}, content_type="application/json",
                          **headers)
    assert response.status_code == 422
    response = http.patch(f"/api/v1/people/plans/{plan.pk}", {"name": "Technicians 2025-26", "effective_to": None},
                          content_type="application/json", **headers)
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["effective_to"]) == ("Technicians 2025-26", None)
    other = make_plan("salesperson", name="Sales")
    assert http.delete(f"/api/v1/people/plans/{other.pk}", **headers).status_code == 204
    assert list(CompensationPlan.objects.values_list("name", flat=True)) == ["Technicians 2025-26"]


def test_migration_links_earlier_lines_to_their_plan_by_name_and_dates() -> None:
    migration = importlib.import_module("tenfold.people.migrations.0002_team_targets_plan_on_statement_lines")
    tech = make_employee()
    plan = make_plan(name="Technicians", start=date(2026, 1, 1), end=date(2026, 12, 31))
    make_plan(name="Technicians", start=date(2025, 1, 1), end=date(2025, 12, 31))
    statement = Statement.objects.create(employee=tech, period_start=date(2026, 1, 1), period_end=date(2026, 3, 31),
                                         computed_at=timezone.now(), status="locked")
    common = {"statement": statement, "kind": "linear", "measure": "sla", "rule_text": "r", "amount": Decimal(1)}
    inside = StatementLine.objects.create(plan_name="Technicians", rule_label="a", segment_start=date(2026, 1, 1),
                                          segment_end=date(2026, 3, 31), **common)
    gone = StatementLine.objects.create(plan_name="Deleted plan", rule_label="b", segment_start=date(2026, 1, 1),
                                        segment_end=date(2026, 3, 31), **common)
    migration.link_lines_to_plans(apps, None)
    assert StatementLine.objects.get(pk=inside.pk).plan_id == plan.pk
    assert StatementLine.objects.get(pk=gone.pk).plan_id is None


# --- Lists: search, filters, sorting -------------------------------------------------------------------------------


def test_employee_list_is_searched_filtered_by_team_and_sorted() -> None:
    desk, sales = Team.objects.create(name="Service desk"), Team.objects.create(name="Sales")
    karim = make_employee(first_name="Karim", last_name="Benali", team=desk, start_date=date(2022, 3, 1))
    lucie = make_employee(first_name="Lucie", last_name="Fontaine", team=desk, start_date=date(2020, 5, 1))
    sara = make_employee("account_manager", first_name="Sara", last_name="Nguyen", team=sales,
                         plan_role="salesperson", start_date=date(2023, 9, 1))
    owner = make_staff("owner")
    headers = bearer(make_api_token(owner))

    def ids(query: str) -> list[int]:
        response = HttpClient().get(f"/api/v1/people/employees{query}", **headers)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["items"]]

    assert ids(f"?team_id={desk.pk}") == [karim.pk, lucie.pk]
    assert ids(f"?team_id={desk.pk}&ordering=-start_date") == [karim.pk, lucie.pk]
    assert ids(f"?team_id={desk.pk}&ordering=start_date") == [lucie.pk, karim.pk]
    assert ids("?q=fontaine") == [lucie.pk]
    assert ids("?plan_role=salesperson") == [sara.pk]
    assert ids("?ordering=team&plan_role=technician") == [karim.pk, lucie.pk]
    response = HttpClient().get("/api/v1/people/employees?ordering=salary", **headers)
    assert response.status_code == 422 and list(response.json()["errors"]) == ["ordering"]
    assert HttpClient().get("/api/v1/people/employees?plan_role=pilot", **headers).status_code == 422
    # the page: search and team filter
    http = HttpClient()
    http.force_login(owner)
    page = http.get(f"/people/?team={sales.pk}").content.decode()
    assert "Sara Nguyen" in page and "Karim Benali" not in page and "Lucie Fontaine" not in page
    page = http.get("/people/?q=beNALI").content.decode()
    assert "Karim Benali" in page and "Lucie Fontaine" not in page


def test_statement_list_filters_by_status_through_the_page_and_the_api() -> None:
    owner = make_staff("owner")
    karim = make_employee(first_name="Karim", last_name="Benali")
    lucie = make_employee(first_name="Lucie", last_name="Fontaine")
    make_plan(name="Technicians", start=date(2025, 1, 1))
    locked = _locked_statement(owner, karim)
    draft = services.statement_draft(actor=owner, employee=lucie, quarter_start=date(2026, 1, 1))
    headers = bearer(make_api_token(owner))
    listed = HttpClient().get("/api/v1/people/statements?status=locked", **headers).json()
    assert [row["id"] for row in listed["items"]] == [locked.pk]
    listed = HttpClient().get("/api/v1/people/statements?ordering=employee", **headers).json()
    assert [row["id"] for row in listed["items"]] == [locked.pk, draft.pk]
    assert HttpClient().get("/api/v1/people/statements?status=sealed", **headers).status_code == 422
    http = HttpClient()
    http.force_login(owner)
    page = http.get("/people/statements/?status=draft").content.decode()
    page = re.sub(r"<select.*?</select>", "", page, flags=re.S)  # the draft form lists every employee
    assert "Lucie Fontaine" in page and "Karim Benali" not in page


def test_list_pages_cost_the_same_number_of_queries_for_3_or_12_rows() -> None:
    """No query per row on the employee, team and statement lists (team, manager, user are joined)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    owner = make_staff("owner")
    http = HttpClient()
    http.force_login(owner)
    make_plan(name="Technicians", start=date(2025, 1, 1))
    desk = Team.objects.create(name="Service desk")
    lead = make_employee("service_manager", team=desk)

    def counts() -> list[int]:
        result = []
        for url in ("/people/", "/people/teams/", "/people/statements/"):
            with CaptureQueriesContext(connection) as queries:
                assert http.get(url).status_code == 200
            result.append(len(queries))
        return result

    def add(n: int) -> None:
        for _i in range(n):
            team = Team.objects.create(name=f"Team {Team.objects.count()}")
            employee = make_employee(mfa=False, manager=lead, team=team)
            services.statement_draft(actor=owner, employee=employee, quarter_start=date(2026, 1, 1))

    add(2)
    few = counts()
    add(9)
    assert counts() == few
