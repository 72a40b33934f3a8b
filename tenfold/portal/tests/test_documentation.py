"""Shared documentation in the portal: exactly what staff shared, of the user's own company, for the roles
roles.md allows ("R shared docs": portal administrators only); the rest of knowledge stays out of reach, and
shared Markdown is rendered inert."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from tenfold.accounts.testing import make_portal_user, make_staff
from tenfold.clients.models import Client
from tenfold.core.errors import ValidationError
from tenfold.core.models import AuditEntry
from tenfold.core.navigation import navigation_for
from tenfold.core.roles import Role
from tenfold.knowledge import services
from tenfold.knowledge.models import ClientDoc, Credential, Runbook
from tenfold.knowledge.portal_scope import portal_shared_doc, portal_shared_runbooks
from tenfold.knowledge.services import StepInput

pytestmark = pytest.mark.django_db


def _login(user: Any) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def _runbook(admin: Any, title: str, client: Client | None, *, shared: bool, body: str = "Text.") -> Runbook:
    return services.runbook_create(actor=admin, data={
        "title": title, "kind": "task", "client_id": client.pk if client else None, "category_id": None,
        "body_markdown": body, "shared_with_client": shared}, steps=[StepInput(f"Step of {title}", True)])


@pytest.fixture
def world() -> dict[str, Any]:
    admin = make_staff(Role.ADMIN)
    own = Client.objects.create(name="Boulangerie Martin", status="active")
    other = Client.objects.create(name="Garage Durand", status="active")
    w: dict[str, Any] = {"admin": admin, "own": own, "other": other}
    w["shared"] = _runbook(admin, "Wi-Fi for visitors", own, shared=True)
    w["unshared"] = _runbook(admin, "Firewall rules of the bakery", own, shared=False)
    w["archived"] = _runbook(admin, "Old fax procedure", own, shared=True)
    services.runbook_set_archived(actor=admin, runbook=w["archived"], archived=True)
    w["msp"] = _runbook(admin, "How we patch servers", None, shared=False)
    w["other_shared"] = _runbook(admin, "Garage printer guide", other, shared=True)
    w["own_doc"] = services.client_doc_update(actor=admin, client=own, overview_markdown="Bakery network: 12 PCs.",
                                              shared_with_client=True)
    w["other_doc"] = services.client_doc_update(actor=admin, client=other,
                                                overview_markdown="Garage network: 4 PCs.", shared_with_client=True)
    w["portal_admin"] = make_portal_user(own, Role.PORTAL_ADMIN)
    w["portal_user"] = make_portal_user(own, Role.PORTAL_USER)
    w["other_admin"] = make_portal_user(other, Role.PORTAL_ADMIN)
    return w


def test_portal_admin_sees_exactly_what_is_shared_with_their_company(world: dict[str, Any]) -> None:
    # given a portal administrator of the bakery
    user = world["portal_admin"]
    # then the selectors give exactly the shared, unarchived runbook of the bakery and its shared overview
    assert list(portal_shared_runbooks(user)) == [world["shared"]]
    assert portal_shared_doc(user) == world["own_doc"]
    # and the page lists those two and nothing else
    http = _login(user)
    page = http.get(reverse("portal:documentation")).content.decode()
    assert "Wi-Fi for visitors" in page
    assert reverse("portal:shared_overview", args=[world["own_doc"].pk]) in page
    for title in ("Firewall rules of the bakery", "Old fax procedure", "How we patch servers", "Garage printer guide"):
        assert title not in page
    # and each shared item reads, Markdown rendered, with its steps
    runbook_page = http.get(reverse("portal:shared_runbook", args=[world["shared"].pk]))
    assert runbook_page.status_code == 200
    assert "<p>Text.</p>" in runbook_page.content.decode()
    assert "Step of Wi-Fi for visitors" in runbook_page.content.decode()
    overview = http.get(reverse("portal:shared_overview", args=[world["own_doc"].pk]))
    assert overview.status_code == 200
    assert "<p>Bakery network: 12 PCs.</p>" in overview.content.decode()


@pytest.mark.parametrize("key", ["unshared", "archived", "msp", "other_shared"])
def test_runbooks_not_shared_with_the_company_are_404(world: dict[str, Any], key: str) -> None:
    http = _login(world["portal_admin"])
    assert http.get(reverse("portal:shared_runbook", args=[world[key].pk])).status_code == 404


def test_an_msp_runbook_marked_shared_by_hand_stays_out_of_the_portal(world: dict[str, Any]) -> None:
    # given an MSP-wide runbook whose flag was set behind the services' back
    Runbook.objects.filter(pk=world["msp"].pk).update(shared_with_client=True)
    # then no portal user finds it
    http = _login(world["portal_admin"])
    assert http.get(reverse("portal:shared_runbook", args=[world["msp"].pk])).status_code == 404
    assert list(portal_shared_runbooks(world["portal_admin"])) == [world["shared"]]


def test_other_company_and_unshared_overviews_are_404(world: dict[str, Any]) -> None:
    http = _login(world["portal_admin"])
    assert http.get(reverse("portal:shared_overview", args=[world["other_doc"].pk])).status_code == 404
    services.client_doc_update(actor=world["admin"], client=world["own"], overview_markdown="Bakery network: 12 PCs.",
                               shared_with_client=False)
    assert http.get(reverse("portal:shared_overview", args=[world["own_doc"].pk])).status_code == 404
    assert portal_shared_doc(world["portal_admin"]) is None
    page = http.get(reverse("portal:documentation")).content.decode()
    assert reverse("portal:shared_overview", args=[world["own_doc"].pk]) not in page


def test_the_other_company_sees_only_its_own(world: dict[str, Any]) -> None:
    user = world["other_admin"]
    assert list(portal_shared_runbooks(user)) == [world["other_shared"]]
    page = _login(user).get(reverse("portal:documentation")).content.decode()
    assert "Garage printer guide" in page and "Wi-Fi for visitors" not in page
    assert _login(user).get(reverse("portal:shared_runbook", args=[world["shared"].pk])).status_code == 404


def test_portal_users_may_not_read_shared_docs(world: dict[str, Any]) -> None:
    # roles.md: "runbooks, client docs" is "—" for portal users: their own company's menu is a 403
    http = _login(world["portal_user"])
    assert http.get(reverse("portal:documentation")).status_code == 403
    assert http.get(reverse("portal:shared_runbook", args=[world["shared"].pk])).status_code == 403
    assert http.get(reverse("portal:shared_overview", args=[world["own_doc"].pk])).status_code == 403
    assert "portal-documentation" not in [i["key"] for i in navigation_for(world["portal_user"], "/portal/")]
    assert "portal-documentation" in [i["key"] for i in navigation_for(world["portal_admin"], "/portal/")]


def test_staff_use_the_knowledge_screens_not_the_portal_pages(world: dict[str, Any]) -> None:
    http = _login(world["admin"])
    assert http.get(reverse("portal:documentation")).status_code == 403
    assert http.get(reverse("portal:shared_runbook", args=[world["shared"].pk])).status_code == 403
    assert "portal-documentation" not in [i["key"] for i in navigation_for(world["admin"], "/")]
    detail = http.get(reverse("knowledge:runbook_detail", args=[world["shared"].pk])).content.decode()
    assert 'data-testid="shared-with-client"' in detail
    unshared = http.get(reverse("knowledge:runbook_detail", args=[world["unshared"].pk])).content.decode()
    assert 'data-testid="shared-with-client"' not in unshared


def test_the_rest_of_knowledge_stays_closed_to_portal_admins(world: dict[str, Any]) -> None:
    credential = services.credential_create(actor=world["admin"], data={
        "name": "Bakery router", "username": "admin", "url": "", "notes": "", "client_id": world["own"].pk},
        secret="not-for-the-portal")
    http = _login(world["portal_admin"])
    # another company's records do not exist for them; their own company's staff screens are refused
    assert http.get(reverse("knowledge:runbook_detail", args=[world["other_shared"].pk])).status_code == 404
    assert http.get(reverse("knowledge:runbook_detail", args=[world["shared"].pk])).status_code == 403
    assert http.get(reverse("knowledge:credential_detail", args=[credential.pk])).status_code == 403
    assert http.get(reverse("knowledge:credential_list")).status_code == 403
    assert http.get(reverse("knowledge:runbook_list")).status_code == 403
    assert "not-for-the-portal" not in http.get(reverse("portal:documentation")).content.decode()
    assert Credential.objects.count() == 1


def test_shared_markdown_is_rendered_inert(world: dict[str, Any]) -> None:
    body = ("<script>alert('runbook')</script>\n\n[click](javascript:alert('link'))\n\n"
            '<img src=x onerror="alert(\'img\')">\n\n![pic](javascript:alert(\'pic\'))')
    runbook = _runbook(world["admin"], "<script>alert('title')</script>", world["own"], shared=True, body=body)
    services.client_doc_update(actor=world["admin"], client=world["own"], overview_markdown=body,
                               shared_with_client=True)
    http = _login(world["portal_admin"])
    pages = [http.get(reverse("portal:shared_runbook", args=[runbook.pk])).content.decode(),
             http.get(reverse("portal:shared_overview", args=[world["own_doc"].pk])).content.decode(),
             http.get(reverse("portal:documentation")).content.decode()]
    for page in pages:
        assert "<script>alert(" not in page
        assert 'href="javascript:' not in page and 'src="javascript:' not in page
        assert "<img src=x onerror" not in page
    assert "&lt;script&gt;alert('runbook')&lt;/script&gt;" in pages[0]
    assert "&lt;img src=x onerror=" in pages[1]
    assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;" in pages[2]


def test_sharing_is_audited_and_only_for_client_runbooks(world: dict[str, Any]) -> None:
    admin = world["admin"]
    runbook = world["unshared"]
    services.runbook_update(actor=admin, runbook=runbook, data={"shared_with_client": True},
                            steps=[StepInput("Step of Firewall rules of the bakery", True)])
    entry = AuditEntry.objects.filter(action="runbook.updated").latest("pk")
    assert entry.changes == {"shared_with_client": [False, True], "version": 2}
    # an MSP-wide runbook cannot be shared, and refusing it writes nothing
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.runbook_update(actor=admin, runbook=world["msp"], data={"shared_with_client": True},
                                steps=[StepInput("Step of How we patch servers", True)])
    assert caught.value.field == "shared_with_client"
    assert not Runbook.objects.get(pk=world["msp"].pk).shared_with_client
    assert AuditEntry.objects.count() == before
    # the overview's sharing is audited with its before and after
    services.client_doc_update(actor=admin, client=world["own"], overview_markdown="Bakery network: 12 PCs.",
                               shared_with_client=False)
    doc_entry = AuditEntry.objects.filter(action="client_doc.updated").latest("pk")
    assert doc_entry.changes == {"shared_with_client": [True, False]}
    # saving with nothing changed writes no audit row
    count = AuditEntry.objects.count()
    services.client_doc_update(actor=admin, client=world["own"], overview_markdown="Bakery network: 12 PCs.",
                               shared_with_client=False)
    assert AuditEntry.objects.count() == count


def test_staff_forms_have_the_sharing_checkbox(world: dict[str, Any]) -> None:
    http = _login(world["admin"])
    form = http.get(reverse("knowledge:runbook_edit", args=[world["unshared"].pk])).content.decode()
    assert 'name="shared_with_client"' in form
    response = http.post(reverse("knowledge:runbook_edit", args=[world["unshared"].pk]), {
        "title": "Firewall rules of the bakery", "kind": "task", "client": world["own"].pk,
        "body_markdown": "Text.", "shared_with_client": "on", "step_text": ["Step of Firewall rules of the bakery"],
        "step_required": ["0"]})
    assert response.status_code == 302
    assert Runbook.objects.get(pk=world["unshared"].pk).shared_with_client
    # an MSP-wide runbook: the error shows beside the checkbox, nothing saved
    msp = http.post(reverse("knowledge:runbook_edit", args=[world["msp"].pk]), {
        "title": "How we patch servers", "kind": "task", "client": "", "body_markdown": "Text.",
        "shared_with_client": "on", "step_text": ["Step of How we patch servers"], "step_required": ["0"]})
    assert msp.status_code == 200
    assert "Only a client&#x27;s runbook can be shared with the client." in msp.content.decode()
    assert not Runbook.objects.get(pk=world["msp"].pk).shared_with_client
    overview_form = http.get(reverse("knowledge:client_doc_edit", args=[world["own"].pk])).content.decode()
    assert 'name="shared_with_client"' in overview_form and "checked" in overview_form
    response = http.post(reverse("knowledge:client_doc_edit", args=[world["own"].pk]),
                         {"overview_markdown": "Bakery network: 12 PCs."})
    assert response.status_code == 302
    assert not ClientDoc.objects.get(client=world["own"]).shared_with_client
