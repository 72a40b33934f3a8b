"""schemathesis against the whole OpenAPI with users of client B, checked against the isolation rules.

The two-client world of the isolation suite (`isolation_world.build_world`) is built for each operation, and
the operation's isolation case creates client A's records (its `params`). Then, for each generated request,
as a technician restricted to client B and as client B's portal admin (each with an API token):
- the generated request: never a 5xx, and no answer carries client A's name or the case's leak marker;
- the same request aimed at client A's records (the path parameters of the isolation case): refused (400,
  403, 404, 405 or 422, never a success) for a record or a creation; a list under an MSP-level record (a
  script's runs) may answer, without client A's rows; never client A's data in the answer.

The generated suite proves each route's 404/403 on one request; this run adds the generated inputs (query
strings, bodies, ids) around them. Budget: at most 8 examples per operation (fewer under the dev profile).
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

from tenfold.accounts.testing import make_api_token
from tenfold.config.tests.isolation_world import CLIENT_A_NAME, build_world, load_cases
from tenfold.config.wsgi import application
from tenfold.core.isolation import CASES, World

load_cases()
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
# The coverage phase (boundary and invalid values of every parameter, as explicit examples beyond the example
# budget) is most of a run's requests; a CI pass may leave it to the other pass (scripts/test.py).
schema.config.phases.coverage.enabled = os.environ.get("TENFOLD_SCHEMATHESIS_ISOLATION_COVERAGE", "1") != "0"

OBSERVERS = ("tech_other", "portal_admin_b")
# 413: a body over the size limit (the coverage phase sends a field at its longest) is refused before anything.
REFUSED = {400, 403, 404, 405, 413, 422}
# Per operation and observer; CI sets fewer on its SQLite pass than on PostgreSQL's (scripts/test.py).
EXAMPLES = min(int(os.environ.get("TENFOLD_SCHEMATHESIS_ISOLATION_EXAMPLES", "8")), settings().max_examples)


@pytest.fixture(autouse=True)
def _keep_test_connection() -> Any:
    # The WSGI handler's request signals would close the test's connection (and its transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(db: Any) -> World:
    # Failed-token attempts counted by earlier tests in this process (same address, same minute) must not
    # turn this run's valid tokens into 429s.
    cache.clear()
    built = build_world()
    # Real HTTP headers (schemathesis sends its own, empty Authorization unless given one).
    built.extra["tokens"] = {name: {"Authorization": f"Bearer {make_api_token(built.users[name], name='schema')}"}
                             for name in OBSERVERS}
    return built


def _client_a(world: World, route: str) -> tuple[dict[str, Any], list[str], bool]:
    """Client A's records for this operation (built once per world) and the markers that must not leak."""
    known = world.extra.setdefault("schema_params", {})
    if route not in known:
        case = CASES.get(route)
        params: dict[str, Any] = {}
        markers = [CLIENT_A_NAME]
        refuse = False
        if case is not None and case.client_owned and case.kind in ("object", "create", "list"):
            params = case.params(world)
            # A list under an MSP-level record (a script's runs) answers the visible part, maybe empty;
            # a record or a creation aimed at client A is refused.
            refuse = case.kind in ("object", "create")
            if case.leak is not None:
                markers.append(case.leak(world))
        known[route] = (params, markers, refuse)
    return known[route]


def _leaks(text: str, markers: list[str]) -> list[str]:
    return [marker for marker in markers if marker and marker in text]


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES)
def test_users_of_client_b_never_reach_client_a(case: Any, world: World) -> None:
    route = f"api:{case.method.upper()} {case.path}"
    params, markers, refuse = _client_a(world, route)
    aimed = {key: value for key, value in params.items() if key in (case.path_parameters or {})}
    for name in OBSERVERS:
        headers = world.extra["tokens"][name]
        response = case.call(headers=headers)
        # then: no server error, and nothing of client A in the answer
        assert response.status_code < 500, f"{route} as {name}: {response.status_code} {response.text[:300]}"
        assert response.status_code != 401, f"{route} as {name}: the token was not accepted"
        assert _leaks(response.text, markers) == [], f"{route} as {name} shows client A's data"
        if not aimed:
            continue
        # when the same request names client A's records
        original = dict(case.path_parameters)
        case.path_parameters = {**original, **aimed}
        try:
            response = case.call(headers=headers)
        finally:
            case.path_parameters = original
        # then it is refused (a list answers without client A's rows), without client A's data
        assert response.status_code < 500, f"{route} as {name} on client A's records: {response.status_code}"
        assert not refuse or response.status_code in REFUSED, (
            f"{route} as {name} on client A's records: {response.status_code} {response.text[:300]}")
        assert _leaks(response.text, markers) == [], f"{route} as {name} shows client A's data when refused"
