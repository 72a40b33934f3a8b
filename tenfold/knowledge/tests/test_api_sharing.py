"""Sharing through the API: `shared_with_client` on a client's documentation and on runbooks is read and
written like in the pages (same service, same audit), validated, and the portal shows only what is shared."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from tenfold.accounts.testing import bearer, make_api_token, make_portal_user, make_staff
from tenfold.clients.models import Client
from tenfold.core.models import AuditEntry
from tenfold.knowledge import services
from tenfold.knowledge.models import ClientDoc, Runbook

pytestmark = pytest.mark.django_db


def _put(token: str, client_id: int, body: dict[str, Any]) -> Any:
    return HttpClient().put(f"/api/v1/client-docs/{client_id}/overview", json.dumps(body),
                            content_type="application/json", **bearer(token))


def _portal(user: Any) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


def test_api_shares_and_unshares_a_client_doc_audited_and_the_portal_follows() -> None:
    # given a client, a technician assigned to it with a token, and the client's portal administrator
    client = Client.objects.create(name="Boulangerie Martin", status="active")
    tech = make_staff("technician", clients=[client], restricted=True)
    token = make_api_token(tech)
    portal_admin = _portal(make_portal_user(client, "portal_admin"))

    # when the technician writes the overview shared with the client
    response = _put(token, client.pk, {"overview_markdown": "## Network\n\n12 PCs.", "shared_with_client": True})

    # then the API answers it shared, the change is audited with who and what, and the portal admin reads it
    assert response.status_code == 200, response.content
    assert (response.json()["shared_with_client"], response.json()["overview_markdown"]) == (
        True, "## Network\n\n12 PCs.")
    doc = ClientDoc.objects.get(client=client)
    entry = AuditEntry.objects.get(action="client_doc.updated", object_id=str(doc.pk))
    assert (entry.actor_id, entry.client_id, entry.changes) == (
        tech.pk, client.pk, {"overview_markdown": "changed", "shared_with_client": [False, True]})
    assert HttpClient().get(f"/api/v1/client-docs/{client.pk}", **bearer(token)).json()["shared_with_client"] is True
    url = reverse("portal:shared_overview", args=[doc.pk])
    assert reverse("portal:shared_overview", args=[doc.pk]) in portal_admin.get(
        reverse("portal:documentation")).content.decode()
    assert "<h2>Network</h2>" in portal_admin.get(url).content.decode()

    # when the text changes without naming the sharing, it stays shared; then it is unshared
    assert _put(token, client.pk, {"overview_markdown": "## Network\n\n14 PCs."}).json()["shared_with_client"] is True
    response = _put(token, client.pk, {"overview_markdown": "## Network\n\n14 PCs.", "shared_with_client": False})

    # then the portal page of the overview is a 404 and the unsharing is audited alone
    assert response.json()["shared_with_client"] is False
    assert portal_admin.get(url).status_code == 404
    last = AuditEntry.objects.filter(action="client_doc.updated", object_id=str(doc.pk)).latest("pk")
    assert last.changes == {"shared_with_client": [True, False]}


@pytest.mark.parametrize("value", ["yes", 1, None, "true"])
def test_a_sharing_that_is_not_a_boolean_is_refused_and_changes_nothing(value: Any) -> None:
    # given a shared overview
    client = Client.objects.create(name="Garage Dupont", status="active")
    admin = make_staff("admin")
    services.client_doc_update(actor=admin, client=client, overview_markdown="Garage.", shared_with_client=True)
    audit_before = AuditEntry.objects.count()

    # when the API is sent a sharing that is not true or false
    body: dict[str, Any] = {"overview_markdown": "Changed.", "shared_with_client": value}
    response = _put(make_api_token(admin), client.pk, body)

    # then it is refused (None: the sharing is left alone, but the text does change)
    if value is None:
        assert response.status_code == 200 and response.json()["shared_with_client"] is True
        return
    assert response.status_code == 422, response.content
    doc = ClientDoc.objects.get(client=client)
    assert (doc.overview_markdown, doc.shared_with_client) == ("Garage.", True)
    assert AuditEntry.objects.count() == audit_before


def test_who_may_not_share_cannot_through_the_api() -> None:
    # given a client with an unshared overview, a technician of another client and an account manager
    client = Client.objects.create(name="Cabinet Durand", status="active")
    other = Client.objects.create(name="Pharmacie Roux", status="active")
    admin = make_staff("admin")
    services.client_doc_update(actor=admin, client=client, overview_markdown="Cabinet.")
    outsider = make_staff("technician", clients=[other], restricted=True)
    reader = make_staff("account_manager")
    audit_before = AuditEntry.objects.count()

    # when each tries to share it
    body = {"overview_markdown": "Cabinet.", "shared_with_client": True}
    outsider_answer = _put(make_api_token(outsider), client.pk, body)
    reader_answer = _put(make_api_token(reader), client.pk, body)

    # then: not found for the outsider, forbidden for the read-only role; still unshared, nothing audited
    assert (outsider_answer.status_code, reader_answer.status_code) == (404, 403)
    assert ClientDoc.objects.get(client=client).shared_with_client is False
    assert AuditEntry.objects.count() == audit_before


def test_runbook_sharing_through_the_api_only_for_client_runbooks() -> None:
    # given an administrator's token and a client
    client = Client.objects.create(name="Boulangerie Martin", status="active")
    token = make_api_token(make_staff("admin"))
    http = HttpClient()

    # when a client runbook is created shared, and an MSP-wide one is asked shared
    shared = http.post("/api/v1/runbooks", json.dumps({"title": "Visitor Wi-Fi", "client_id": client.pk,
                                                       "shared_with_client": True}),
                       content_type="application/json", **bearer(token))
    refused = http.post("/api/v1/runbooks", json.dumps({"title": "How we patch", "shared_with_client": True}),
                        content_type="application/json", **bearer(token))

    # then the first is shared (and says so), the second refused on the field with nothing created
    assert shared.status_code == 201 and shared.json()["shared_with_client"] is True
    assert refused.status_code == 422 and "shared_with_client" in refused.json()["errors"], refused.json()
    assert not Runbook.objects.filter(title="How we patch").exists()

    # when the client runbook is unshared by PATCH
    runbook_id = shared.json()["id"]
    patched = http.patch(f"/api/v1/runbooks/{runbook_id}", json.dumps({"shared_with_client": False}),
                         content_type="application/json", **bearer(token))

    # then it is unshared, as a new version
    assert patched.status_code == 200 and patched.json()["shared_with_client"] is False
    assert (Runbook.objects.get(pk=runbook_id).shared_with_client, patched.json()["current_version"]) == (False, 2)
