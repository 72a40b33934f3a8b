"""schemathesis against /api/v1/openapi.json with a valid token: no 5xx, every answer matches the schema.

Budget: at most 25 examples per operation (fewer under the dev profile; the "deep" profile is not capped
here): over 400 operations, this is the suite's largest single cost.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tenfold.accounts.testing import make_api_token, make_staff
from tenfold.clients.models import Client, Contact, Site
from tenfold.config.wsgi import application

# Loading the schema serves /api/v1/openapi.json through the real WSGI stack; it reads no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
# The coverage phase (boundary and invalid values of every parameter, as explicit examples beyond the example
# budget) is most of a run's requests; a CI pass may leave it to the other pass (scripts/test.py).
schema.config.phases.coverage.enabled = os.environ.get("TENFOLD_SCHEMATHESIS_COVERAGE", "1") != "0"


@pytest.fixture(autouse=True)
def _keep_test_connection() -> Any:
    # Calls go straight through the WSGI handler, whose request signals would close the test's database
    # connection (and its open transaction on PostgreSQL) around every call.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def owner_headers(db: Any) -> dict[str, str]:
    cache.clear()  # failed-token attempts counted by earlier tests in this process must not give 429s here
    owner = make_staff("owner")
    client = Client.objects.create(name="Fuzz Target", status="prospect")
    site = Site.objects.create(client=client, name="HQ")
    Contact.objects.create(client=client, site=site, first_name="Fuzz", last_name="Contact")
    # Real HTTP headers: schemathesis sends its own empty Authorization unless given one.
    return {"Authorization": f"Bearer {make_api_token(owner)}"}


# Per operation; CI sets fewer on its SQLite pass than on PostgreSQL's (scripts/test.py: the time budget).
EXAMPLES = min(int(os.environ.get("TENFOLD_SCHEMATHESIS_EXAMPLES", "25")), settings().max_examples)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES)
def test_api_never_fails_and_matches_its_schema(case: Any, owner_headers: dict[str, str]) -> None:
    case.call_and_validate(headers=owner_headers, checks=[
        not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance])
