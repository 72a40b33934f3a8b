"""The knowledge screens and API: lists, forms with errors, diffs, the panels other pages load, budgets."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from tenfold.accounts.testing import bearer, make_api_token, make_staff
from tenfold.clients.models import Client
from tenfold.core.isolation import World
from tenfold.knowledge import services
from tenfold.knowledge.models import KeyApplication, Runbook, RunbookVersion
from tenfold.knowledge.services import StepInput
from tenfold.monitoring.tests.isolation_cases import alert_a

pytestmark = pytest.mark.django_db


def _login(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def test_runbook_list_searches_filters_and_hides_archived(django_assert_max_num_queries) -> None:
    admin = make_staff("admin")
    http = _login(admin)
    for n in range(15):
        services.runbook_create(actor=admin, data={"title": f"Procedure {n:02d}", "kind": "task",
                                                   "body_markdown": ""}, steps=[StepInput("a", True)])
    archived = Runbook.objects.get(title="Procedure 03")
    services.runbook_set_archived(actor=admin, runbook=archived, archived=True)
    with django_assert_max_num_queries(20):
        page = http.get(reverse("knowledge:runbook_list"), {"q": "Procedure 0"}).content.decode()
    assert "Procedure 04" in page and "Procedure 03" not in page and "Procedure 12" not in page
    templates = http.get(reverse("knowledge:runbook_list"), {"kind": "template"}).content.decode()
    assert "Workstation setup" in templates and "Procedure 04" not in templates
    assert "Procedure 03" in http.get(reverse("knowledge:runbook_list"), {"archived": "True"}).content.decode()


def test_edit_form_saves_steps_and_diff_page_shows_changes() -> None:
    tech = make_staff("technician")
    http = _login(tech)
    runbook = Runbook.objects.get(slug="new-user-onboarding")
    response = http.post(reverse("knowledge:runbook_edit", args=[runbook.pk]), {
        "title": "New user onboarding", "kind": "template", "body_markdown": "Shorter body",
        "summary": "Trimmed", "step_text": ["Create the account", "", "Send the welcome e-mail"],
        "step_required": ["0"]})
    assert response.status_code == 302
    runbook.refresh_from_db()
    assert runbook.current_version == 2
    assert list(runbook.steps.values_list("position", "text", "required")) == [
        (1, "Create the account", True), (2, "Send the welcome e-mail", False)]
    diff = http.get(reverse("knowledge:runbook_diff", args=[runbook.pk]), {"from": 1, "to": 2}).content.decode()
    assert '<span class="diff-add">+Shorter body</span>' in diff
    assert '<span class="diff-add">+[optional] Send the welcome e-mail</span>' in diff
    assert http.get(reverse("knowledge:runbook_diff", args=[runbook.pk]), {"from": 1, "to": 9}).status_code == 404


def test_form_errors_are_shown_and_nothing_saved() -> None:
    http = _login(make_staff("technician"))
    response = http.post(reverse("knowledge:runbook_create"), {"title": "", "kind": "task"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert RunbookVersion.objects.count() == 5


def test_xss_in_a_runbook_is_inert_on_its_page() -> None:
    admin = make_staff("admin")
    runbook = services.runbook_create(actor=admin, data={"title": "<b>x</b>", "kind": "task",
                                                         "body_markdown": "<script>alert(1)</script>"},
                                      steps=[StepInput("<img src=x onerror=alert(1)>", True)])
    page = _login(admin).get(reverse("knowledge:runbook_detail", args=[runbook.pk])).content.decode()
    assert "<script>alert(1)" not in page
    assert "<img src=x onerror" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_client_docs_panel_and_page() -> None:
    admin = make_staff("admin")
    client = Client.objects.create(name="Boulangerie Martin")
    services.key_application_save(actor=admin, client=client, data={"name": "Caisse Pro", "vendor": "",
                                                                      "url": "", "support_contact": "", "notes": ""})
    http = _login(admin)
    panel = http.get(reverse("knowledge:client_docs_panel", args=[client.pk])).content.decode()
    assert "Caisse Pro" in panel and "never" in panel
    detail = http.get(reverse("clients:client_detail", args=[client.pk])).content.decode()
    assert reverse("knowledge:client_docs_panel", args=[client.pk]) in detail
    assert http.post(reverse("knowledge:client_doc_review", args=[client.pk])).status_code == 302
    page = http.get(reverse("knowledge:client_doc", args=[client.pk])).content.decode()
    assert "Last reviewed" in page and "Caisse Pro" in page
    assert KeyApplication.objects.get().client_id == client.pk


def test_alert_page_loads_the_runbook_of_its_check() -> None:
    admin = make_staff("admin")
    world = World(client_a=Client.objects.create(name="A"), client_b=Client.objects.create(name="B"), users={})
    alert = alert_a(world)
    runbook = Runbook.objects.get(slug="security-baseline")
    services.check_link_set(actor=admin, runbook=runbook, check_type=alert.check_definition.check_type)
    http = _login(admin)
    page = http.get(reverse("monitoring:alert_detail", args=[alert.pk])).content.decode()
    assert reverse("knowledge:alert_runbook_panel", args=[alert.pk]) in page
    panel = http.get(reverse("knowledge:alert_runbook_panel", args=[alert.pk])).content.decode()
    assert "Security baseline" in panel and "Firewall enabled on every network profile" in panel


def test_api_runbook_create_patch_versions_and_bad_input() -> None:
    admin = make_staff("admin")
    headers = bearer(make_api_token(admin))
    http = HttpClient()
    created = http.post("/api/v1/runbooks", {"title": "VPN", "steps": [{"text": "Install client"}]},
                        content_type="application/json", **headers)
    assert created.status_code == 201
    body = created.json()
    assert (body["current_version"], body["steps"]) == (1, [{"position": 1, "text": "Install client",
                                                             "required": True}])
    patched = http.patch(f"/api/v1/runbooks/{body['id']}", {"body_markdown": "New"},
                         content_type="application/json", **headers).json()
    assert (patched["current_version"], patched["steps"][0]["text"]) == (2, "Install client")
    versions = http.get(f"/api/v1/runbooks/{body['id']}/versions", **headers).json()
    assert [v["number"] for v in versions] == [2, 1]
    diff = http.get(f"/api/v1/runbooks/{body['id']}/diff", **headers).json()
    assert {"kind": "add", "text": "+New"} in diff
    unknown = http.post("/api/v1/runbooks", {"title": "x", "colour": "red"}, content_type="application/json",
                        **headers)
    assert unknown.status_code == 422
    forged = http.post("/api/v1/runbooks", {"title": "x", "client_id": 99_999}, content_type="application/json",
                       **headers)
    assert forged.status_code == 404
    assert not Runbook.objects.filter(title="x").exists()


def test_api_client_doc_network_bad_subnet_is_422() -> None:
    admin = make_staff("admin")
    client = Client.objects.create(name="A")
    response = HttpClient().post(f"/api/v1/client-docs/{client.pk}/network",
                                 {"kind": "subnet", "name": "LAN", "address": "300.1.1.0/24"},
                                 content_type="application/json", **bearer(make_api_token(admin)))
    assert response.status_code == 422
    assert "address" in response.json()["errors"]
