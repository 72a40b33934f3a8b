"""Browser test of knowledge's main flows: a technician edits a runbook and reads the version diff, then
reveals a credential after confirming their identity."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tenfold.accounts.testing import PASSWORD, browser_log_in, make_staff
from tenfold.knowledge import services
from tenfold.knowledge.models import CredentialReveal, Runbook

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_edit_runbook_see_diff_then_reveal_credential(page: Page, live_server) -> None:
    # given a technician with MFA, a workstation set-up runbook of three steps and a credential in the vault
    # (made here: a transactional test cannot count on the shipped runbooks of the data migration)
    tech = make_staff("technician", first_name="Inès", last_name="Garnier")
    admin = make_staff("admin")
    Runbook.objects.filter(slug="workstation-setup").delete()
    runbook = services.runbook_create(actor=admin, data={
        "title": "Workstation setup", "kind": "template", "client_id": None, "category_id": None,
        "body_markdown": "Prepare a new workstation."}, steps=[
        services.StepInput("Join the domain"), services.StepInput("Install the agent"),
        services.StepInput("Enable disk encryption")])
    credential = services.credential_create(actor=admin, data={
        "name": "NAS administrator", "username": "root", "url": "", "notes": "", "client_id": None},
        secret="Browser-Test-Secret-42")
    browser_log_in(page, live_server.url, tech)

    # when they edit the workstation set-up runbook: a new step and a change summary
    page.click("[data-nav=runbooks]")
    page.click("text=Workstation setup")
    page.click("[data-testid=edit-runbook]")
    page.fill("[data-testid=step-4]", "Register the warranty end date")
    page.fill("#id_summary", "Warranty step")
    page.click("[data-testid=save]")

    # then the page shows version 2 with the new step, and the diff shows exactly that addition
    expect(page.locator("[data-testid=runbook-version]")).to_have_text("version 2")
    expect(page.locator("[data-testid=steps]")).to_contain_text("Register the warranty end date")
    page.click("[data-testid=compare]")
    expect(page.locator("[data-testid=diff] .diff-add")).to_have_text(["+[required] Register the warranty end date"])
    assert Runbook.objects.get(pk=runbook.pk).current_version == 2

    # when they open the credential and ask to reveal it
    page.goto(f"{live_server.url}/knowledge/vault/{credential.pk}/")
    page.click("[data-testid=reveal]")
    # then they are asked to confirm their identity first
    expect(page).to_have_url(f"{live_server.url}/accounts/reauthenticate/?next=%2Fknowledge%2Fvault%2F{credential.pk}%2F")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    # and back on the credential, the reveal shows the secret and is listed
    page.click("[data-testid=reveal]")
    expect(page.locator("[data-testid=secret]")).to_have_text("Browser-Test-Secret-42")
    expect(page.locator("[data-testid=reveals]")).to_contain_text("Inès Garnier")
    assert CredentialReveal.objects.filter(credential=credential, user=tech).count() == 1
