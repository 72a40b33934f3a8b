"""The demo seed's people: employees with teams and managers, two plans, a review cycle with enough reviewers for
scores to show, trainings, and last quarter's statements, one of them locked."""

from __future__ import annotations

import pytest

from tenfold.conftest import DemoDatabase
from tenfold.people.measures import peer_review_aggregate, previous_quarter
from tenfold.people.models import (
    CompensationPlan,
    Employee,
    ReviewCycle,
    RoleTarget,
    Statement,
    StatementLine,
    Training,
)

pytestmark = pytest.mark.django_db


def test_demo_people(demo: DemoDatabase) -> None:
    quarter = previous_quarter()
    assert Employee.objects.count() == 9
    karim = Employee.objects.get(user__email__startswith="tech@")
    assert karim.manager is not None and karim.manager.user.role == "service_manager"
    assert karim.manager.manager is not None and karim.manager.manager.user.role == "owner"
    assert set(CompensationPlan.objects.values_list("plan_role", flat=True)) == {"technician", "salesperson"}
    assert ReviewCycle.objects.get().status == "closed"
    assert peer_review_aggregate(karim, quarter)["shown"] is True
    assert Training.objects.filter(employee=karim).count() == 2
    statements = Statement.objects.filter(period_start=quarter.start)
    assert statements.count() == 5
    assert list(statements.filter(status="locked").values_list("employee_id", flat=True)) == [karim.pk]
    assert all(s.lines.count() > 0 for s in statements)
    # teams with their members, targets per role, and every statement line tied to the plan it was computed with
    assert sorted(e.split("@")[0] for e in Employee.objects.filter(team__name="Sales").values_list(
        "user__email", flat=True)) == ["sales", "sales2"]
    assert list(Employee.objects.order_by("team__name").values_list("team__name", flat=True).distinct()) == [
        "Management", "Sales", "Service desk"]
    assert list(RoleTarget.objects.order_by("plan_role").values_list(
        "plan_role", "training_hours_per_year", "certifications_required")) == [
        ("salesperson", 16, 0), ("service_manager", 24, 1), ("technician", 40, 1)]
    assert not StatementLine.objects.filter(plan__isnull=True).exists()
