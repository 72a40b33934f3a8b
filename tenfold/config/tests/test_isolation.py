"""The generated isolation suite (docs/development.md, "Isolation suite").

It enumerates every UI URL pattern and every API operation; each must have a case in an app's
`tests/isolation_cases.py` (or an explicit exemption with its reason). For each case it checks three
axes: a user who cannot see client A (portal user of client B, technician not assigned to A) gets 404
and changes nothing; a user who sees the record but whose role lacks the right gets 403 and changes
nothing; a user with the right succeeds (so the case is real, not a route that refuses everyone).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tenfold.accounts.testing import bearer, make_api_token
from tenfold.config.api import api
from tenfold.config.tests.isolation_world import build_world, load_cases
from tenfold.core.isolation import CASES, EXEMPT, Case, World
from tenfold.core.models import AuditEntry, OutboxEvent
from tenfold.core.roles import PEOPLE_SEE_ALL, has_capability

load_cases()


def _ui_routes() -> dict[str, Any]:
    """Every named UI pattern outside the API: {"ui:ns:name": pattern}."""
    found: dict[str, Any] = {}

    def walk(patterns: list[Any], namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                ns = entry.namespace or ""
                if ns.startswith("api"):
                    continue
                walk(entry.url_patterns, f"{namespace}{ns}:" if ns else namespace)
            elif isinstance(entry, URLPattern) and entry.name:
                module = getattr(entry.callback, "__module__", "")
                if module.startswith("allauth.") and f"ui:{namespace}{entry.name}" not in CASES:
                    # allauth's own account pages act on the logged-in user only.
                    continue
                found[f"ui:{namespace}{entry.name}"] = entry

    walk(get_resolver().url_patterns, "")
    return found


def _api_routes() -> list[str]:
    schema = api.get_openapi_schema()
    return [f"api:{method.upper()} {path}" for path, methods in schema["paths"].items() for method in methods]


ALL_ROUTES = sorted(set(_ui_routes()) | set(_api_routes()))


def test_every_route_has_a_case() -> None:
    # given every UI pattern and API operation
    # when looking each up in the registry
    missing = [route for route in ALL_ROUTES if route not in CASES and route not in EXEMPT]
    stale = [route for route in list(CASES) + list(EXEMPT) if route not in ALL_ROUTES]
    # then none is missing, and no case names a route that no longer exists
    assert missing == [], f"routes without an isolation case: {missing}"
    assert stale == [], f"cases for routes that do not exist: {stale}"


def test_every_exemption_gives_a_reason() -> None:
    assert all(len(e.reason) > 20 for e in EXEMPT.values())


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


def _sees_a(user: Any, world: World) -> bool:
    scope = user.client_scope()
    return scope is None or world.client_a.pk in scope


def _sees_subject(user: Any, world: World) -> bool:
    """Whether the user sees the people data of the world's subject employee (roles.md, third axis)."""
    return user.role in PEOPLE_SEE_ALL or user.pk in world.extra.get("people_managers", frozenset())


def expected_status(case: Case, user: Any, world: World) -> str:
    """'404', '403' or 'ok' for this user on this case."""
    if (case.kind in ("object", "create") and case.client_owned and not _sees_a(user, world)
            and case.params(world)):
        return "404"
    if case.people_owned and case.kind in ("object", "create") and not _sees_subject(user, world):
        return "404"
    if case.staff_only and user.is_portal:
        return "403"
    if case.portal_only and not user.is_portal:
        return "403"
    if case.capability and not has_capability(user, case.capability, case.action):
        return "403"
    if (case.kind == "create" and case.staff_only and not user.is_portal and user.client_scope() is not None
            and not case.params(world)):
        # Restricted staff cannot create MSP-level records such as a new client.
        return "403"
    return "ok"


def _state(case: Case) -> Any:
    tables = {}
    for model in case.models:
        tables[model._meta.label] = sorted(json.dumps(row, sort_keys=True, default=str)
                                           for row in model.objects.values())
    return tables, AuditEntry.objects.count(), OutboxEvent.objects.count()


class _Callers:
    """One logged-in test client and one API token per user for the whole case: logging in and minting a token
    for every call cost more than most calls."""

    def __init__(self) -> None:
        self.clients: dict[int, HttpClient] = {}
        self.tokens: dict[int, dict[str, str]] = {}

    def client(self, user: Any) -> HttpClient:
        if user is None:
            return HttpClient()
        if user.pk not in self.clients:
            self.clients[user.pk] = HttpClient()
            self.clients[user.pk].force_login(user)
        return self.clients[user.pk]

    def headers(self, user: Any) -> dict[str, str]:
        if user is None:
            return {}
        if user.pk not in self.tokens:
            self.tokens[user.pk] = bearer(make_api_token(user, name="isolation"))
        return self.tokens[user.pk]


def _call(case: Case, user: Any, world: World, params: dict[str, Any], callers: _Callers | None = None) -> Any:
    callers = callers or _Callers()
    body = case.body(world) if case.body else None
    if case.route.startswith("ui:"):
        http = callers.client(user)
        url = reverse(case.route[3:], kwargs=params or None)
        if case.method == "GET":
            return http.get(url)
        return http.post(url, data=body or {})
    method, path = case.route[4:].split(" ", 1)
    url = path.format(**params)
    payload = json.dumps(body) if body is not None else None
    return getattr(HttpClient(), method.lower())(url, data=payload, content_type="application/json",
                                                  **callers.headers(user))


def _status_matches(expected: str, response: Any, case: Case) -> bool:
    if expected == "404":
        return response.status_code == 404
    if expected == "403":
        return response.status_code == 403
    return response.status_code in case.success


ACTORS = ("portal_admin_b", "portal_user_b", "tech_other", "tech_assigned", "portal_admin_a", "portal_user_a",
          "owner", "admin", "service_manager", "technician", "account_manager", "finance")


@pytest.mark.parametrize("route", sorted(CASES))
def test_route_isolation(route: str, world: World) -> None:
    case = CASES[route]
    params = case.params(world)
    if case.kind == "public":
        response = _call(case, None, world, params)
        assert response.status_code in case.success, f"{route}: anonymous got {response.status_code}"
        return
    # given an anonymous caller, then: login required and nothing changed
    before = _state(case)
    response = _call(case, None, world, params)
    assert response.status_code in (302, 401), f"{route}: anonymous got {response.status_code}"
    assert _state(case) == before
    if case.kind == "own":
        response = _call(case, world.users["technician"], world, params)
        assert response.status_code in case.success, f"{route}: own route refused ({response.status_code})"
        return
    allowed = []
    callers = _Callers()
    for name in ACTORS:
        user = world.users[name]
        expected = expected_status(case, user, world)
        if expected == "ok":
            allowed.append(name)
            continue
        # when a user who must be refused calls it (the state is still `before`: each refusal below checks it)
        response = _call(case, user, world, params, callers)
        # then the answer is exactly the expected refusal and nothing changed
        assert _status_matches(expected, response, case), (
            f"{route}: {name} expected {expected}, got {response.status_code}: {response.content[:300]!r}")
        assert _state(case) == before, f"{route}: {name} was refused but something changed"
    if case.kind == "list" and case.leak is not None:
        for name in ("portal_admin_b", "tech_other"):
            user = world.users[name]
            if expected_status(case, user, world) != "ok":
                continue
            response = _call(case, user, world, params, callers)
            assert response.status_code == 200
            assert case.leak(world) not in response.content.decode(), f"{route}: {name} sees client A's data"
    if case.kind == "list" and case.leak is not None and case.people_owned:
        for name in ACTORS:
            user = world.users[name]
            if expected_status(case, user, world) != "ok" or _sees_subject(user, world):
                continue
            response = _call(case, user, world, params, callers)
            assert response.status_code == 200
            assert case.leak(world) not in response.content.decode(), f"{route}: {name} sees another's people data"
    # and a user with the right succeeds (the case is real)
    assert allowed, f"{route}: no user may use this route; check the case"
    who = "admin" if "admin" in allowed else allowed[0]
    response = _call(case, world.users[who], world, params)
    assert response.status_code in case.success, (
        f"{route}: {who} should succeed, got {response.status_code}: {response.content[:500]!r}")
