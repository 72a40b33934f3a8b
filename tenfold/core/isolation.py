"""The generated isolation suite's registry: every UI URL pattern and every API operation must have a
case here (registered by its app in `tests/isolation_cases.py`; UI routes are named
"ui:namespace:name", API operations "api:METHOD /api/v1/path"), or the suite fails.

A case says how to build a record of client A and which capability the route needs; the suite then
derives, for each kind of user, whether it must get 404 (cannot see client A), 403 (sees it, role lacks
the right) or success, and checks that a refused request changed nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model


@dataclass
class World:
    """Two clients and one user of every kind; apps add their own records in `extra`."""

    client_a: Any
    client_b: Any
    users: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """One route: how to call it on client A's data and what it requires.

    kind:
      - "object": acts on one record of client A (404 for users who cannot see client A).
      - "list": lists records; users who cannot see client A must not find `leak` in the answer.
      - "create": creates a record (for client A when `params` name it, else at MSP level).
      - "own": acts on the user's own records only (profile, own tokens): no cross-user axis here.
      - "public": needs no login (health, login page).
    client_owned=False marks an MSP-level record (a tax rate, a schedule): no 404 axis, only roles.
    people_owned=True marks another employee's people data (the world's `people_subject`, who reports to the
    service manager): 404 for every user but the roles that see everyone's (`core.roles.PEOPLE_SEE_ALL`) and the
    subject's managers (`world.extra["people_managers"]`), the third axis of roles.md.
    """

    route: str
    kind: str
    capability: str | None = None
    action: str = "view"
    method: str = "GET"
    params: Callable[[World], dict[str, Any]] = lambda world: {}
    body: Callable[[World], dict[str, Any]] | None = None
    models: tuple[type[Model], ...] = ()
    leak: Callable[[World], str] | None = None
    staff_only: bool = False
    portal_only: bool = False
    success: tuple[int, ...] = (200, 201, 204, 302)
    client_owned: bool = True
    people_owned: bool = False
    note: str = ""


@dataclass(frozen=True)
class Exempt:
    """A route outside the suite, with the reason (e.g. allauth's own pages, covered by its tests)."""

    route: str
    reason: str


CASES: dict[str, Case] = {}
EXEMPT: dict[str, Exempt] = {}


def register(*cases: Case | Exempt) -> None:
    """Add cases; a route registered twice is a mistake."""
    for case in cases:
        target = CASES if isinstance(case, Case) else EXEMPT
        if case.route in CASES or case.route in EXEMPT:
            raise ValueError(f"route {case.route} registered twice")
        target[case.route] = case  # type: ignore[assignment]
