"""What the authenticated API schema run (test_api_schemathesis.py) found, each kept as a regression test:
ids beyond the database's 64-bit integers (a 500 on SQLite) and nulls sent to a runbook's PATCH."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient

from tenfold.accounts.models import User
from tenfold.accounts.testing import bearer, make_api_token, make_staff
from tenfold.knowledge import services as knowledge
from tenfold.knowledge.models import Runbook

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/v1/contracts?client_id=15147615297785743360",
                                 "/api/v1/maintenance-windows?client_id=10061011760128087925194752"])
def test_an_id_beyond_64_bits_in_a_query_is_never_a_500(url: str) -> None:
    # SQLite cannot bind the number (a 422 says so); PostgreSQL compares it and finds nothing (an empty page).
    headers = bearer(make_api_token(make_staff("owner")))
    response = HttpClient().get(url, **headers)
    if response.status_code == 422:
        assert response.json() == {"code": "validation_error", "message": "A number in the request is too large."}
    else:
        assert response.status_code == 200 and response.json()["items"] == []


def test_text_no_database_could_store_is_a_422_and_creates_nothing() -> None:
    # PostgreSQL refuses a NUL in a string (the schema run's 500 on POST /api/v1/vault).
    owner = make_staff("owner")
    http = HttpClient()
    before = Runbook.objects.count()  # the shipped runbooks
    for name in ("\\u0000rUe", "Printer\\u0000"):
        body = '{"title": "' + name + '", "steps": []}'
        response = http.post("/api/v1/runbooks", body, content_type="application/json",
                             **bearer(make_api_token(owner)))
        assert response.status_code in (400, 422), response.content  # refused, never a 500
    assert Runbook.objects.count() == before


def test_an_id_beyond_64_bits_in_a_body_is_a_422_and_creates_nothing() -> None:
    owner = make_staff("owner")
    body = {"email": "new.finance@msp.test", "role": "finance", "first_name": "Nina", "last_name": "Roux",
            "restrict_to_clients": True, "assigned_client_ids": [182400660588482560000]}
    response = HttpClient().post("/api/v1/users", json.dumps(body), content_type="application/json",
                                 **bearer(make_api_token(owner)))
    assert response.status_code in (404, 422), response.content
    assert not User.objects.filter(email="new.finance@msp.test").exists()


def test_nulls_in_a_runbook_patch_leave_those_fields_as_they_are() -> None:
    owner = make_staff("owner")
    runbook = knowledge.runbook_create(actor=owner, data={"title": "Printer deployment", "body_markdown": "## Steps"},
                                       steps=[knowledge.StepInput("Check the IP reservation", True)])
    body = {"steps": [{"text": "Enable disk encryption", "required": True}], "summary": "Added a step",
            "title": None, "kind": None, "category_id": None, "client_id": None, "body_markdown": None,
            "shared_with_client": None}
    response = HttpClient().patch(f"/api/v1/runbooks/{runbook.pk}", json.dumps(body),
                                  content_type="application/json", **bearer(make_api_token(owner)))
    assert response.status_code == 200, response.content
    runbook = Runbook.objects.get(pk=runbook.pk)
    assert (runbook.title, runbook.body_markdown, runbook.kind) == ("Printer deployment", "## Steps", "task")
    assert [s.text for s in runbook.steps.order_by("position")] == ["Enable disk encryption"]
