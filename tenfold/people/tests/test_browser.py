"""Browser test of the rule builder: an owner builds a plan rule without code, is told when it is wrong, and
previews its effect on last quarter (HTMX)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tenfold.accounts.testing import browser_log_in, make_staff
from tenfold.people.measures import previous_quarter
from tenfold.people.models import Training
from tenfold.people.tests.factories import make_employee

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_builds_a_rule_and_previews_last_quarter(page: Page, live_server) -> None:
    # given two technicians, one with 4 hours of training last quarter
    quarter = previous_quarter()
    karim = make_employee(first_name="Karim", last_name="Benali", mfa=False)
    lucie = make_employee(first_name="Lucie", last_name="Fontaine", mfa=False)
    Training.objects.create(employee=karim, title="Windows Server", hours=Decimal("4"),
                            date=quarter.start + timedelta(days=10))
    browser_log_in(page, live_server.url, make_staff("owner", first_name="Hélène"))

    # when the owner creates a technicians' plan
    page.goto(f"{live_server.url}/people/plans/")
    page.click("[data-testid=new-plan]")
    page.fill("#id_name", "Technicians")
    page.select_option("#id_plan_role", "technician")
    page.fill("#id_effective_from", "2025-01-01")
    page.click("[data-testid=save]")
    expect(page.locator("h1")).to_have_text("Technicians")

    # and builds a linear training rule with a cap below its floor: the form says why
    page.fill("#id_label", "Personal development")
    page.select_option("#id_measure", "training_hours")
    page.select_option("#id_kind", "linear")
    page.fill("#id_linear_start", "0")
    page.fill("#id_linear_end", "10")
    page.fill("#id_linear_amount", "100")
    page.fill("#id_floor", "50")
    page.fill("#id_cap", "20")
    page.click("[data-testid=save-rule]")
    expect(page.locator(".field.has-error .error")).to_contain_text("The cap cannot be below the floor.")

    # then with the cap fixed, the rule is added
    page.fill("#id_floor", "")
    page.fill("#id_cap", "80")
    page.click("[data-testid=save-rule]")
    expect(page.locator("[data-testid=rules]")).to_contain_text("Personal development")

    # and the preview of last quarter shows each technician's pay: 4 h of 10 → 40.00; none → 0.00
    page.click("[data-testid=preview]")
    expect(page.locator(f"[data-testid=preview-total-{karim.pk}]")).to_have_text("40.00")
    expect(page.locator(f"[data-testid=preview-total-{lucie.pk}]")).to_have_text("0.00")
    expect(page.locator("[data-testid=preview-grand-total]")).to_have_text("40.00")


def test_owner_adds_a_team_and_deletes_it_only_after_choosing_to_take_its_member_out(page: Page, live_server) -> None:
    # given an employee and the owner on the teams page
    nadia = make_employee(first_name="Nadia", last_name="Roux", mfa=False)
    browser_log_in(page, live_server.url, make_staff("owner", first_name="Hélène"))
    page.goto(f"{live_server.url}/people/teams/")

    # when the owner adds a team and puts Nadia in it
    page.fill("#id_name", "Projects")
    page.click("[data-testid=add-team]")
    expect(page.locator("h1")).to_have_text("Projects")
    team_url = page.url
    page.goto(f"{live_server.url}/people/employees/{nadia.pk}/edit/")
    page.select_option("#id_team", label="Projects")
    page.click("[data-testid=save]")
    page.goto(team_url)
    expect(page.locator("[data-testid=members]")).to_contain_text("Nadia Roux")

    # then deleting it without the choice is refused and says why
    page.click("[data-testid=delete-team]")
    page.click("[data-testid=confirm-delete]")
    expect(page.locator("[data-testid=delete-refused]")).to_contain_text(
        "1 employee belongs to “Projects”: move them to another team first")

    # and with the choice the team goes and Nadia stays, without a team
    page.check("#id_unassign_members")
    page.click("[data-testid=confirm-delete]")
    expect(page.locator(".message-success")).to_contain_text("Team deleted; 1 employee is now without a team.")
    nadia.refresh_from_db()
    assert nadia.team_id is None
