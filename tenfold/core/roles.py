"""Roles and what each may do (shared/docs/roles.md), as one table every app checks against.

The vocabulary sits in core so that every app, whatever its layer, speaks of the same roles.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, Protocol

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Staff roles, then the two client-portal roles."""

    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Administrator")
    SERVICE_MANAGER = "service_manager", _("Service manager")
    TECHNICIAN = "technician", _("Technician")
    ACCOUNT_MANAGER = "account_manager", _("Account manager")
    FINANCE = "finance", _("Finance")
    PORTAL_ADMIN = "portal_admin", _("Portal administrator")
    PORTAL_USER = "portal_user", _("Portal user")


STAFF_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.SERVICE_MANAGER, Role.TECHNICIAN,
                         Role.ACCOUNT_MANAGER, Role.FINANCE})
PORTAL_ROLES = frozenset({Role.PORTAL_ADMIN, Role.PORTAL_USER})


class Level(IntEnum):
    """How far a role may go with a capability: each level includes the ones below."""

    NONE = 0
    READ = 1
    WRITE = 2  # create and change
    FULL = 3  # create, change and delete


ACTION_LEVEL = {"view": Level.READ, "add": Level.WRITE, "change": Level.WRITE, "delete": Level.FULL}

_F, _W, _R, _N = Level.FULL, Level.WRITE, Level.READ, Level.NONE
_COLUMNS = (Role.OWNER, Role.ADMIN, Role.SERVICE_MANAGER, Role.TECHNICIAN, Role.ACCOUNT_MANAGER,
            Role.FINANCE, Role.PORTAL_ADMIN, Role.PORTAL_USER)


def _row(*levels: Level) -> dict[str, Level]:
    return dict(zip(_COLUMNS, levels, strict=True))


# One row per capability of roles.md. "Own" (portal) and "assigned clients" (restricted staff) are
# not levels: they are the tenancy scope that `visible_to(actor)` applies to every query.
CAPABILITIES: dict[str, dict[str, Level]] = {
    "settings": _row(_F, _F, _N, _N, _N, _N, _N, _N),
    "users": _row(_F, _F, _N, _N, _N, _N, _N, _N),
    "clients": _row(_F, _F, _W, _R, _W, _R, _R, _R),
    "contacts": _row(_F, _F, _W, _R, _W, _R, _W, _R),
    "devices": _row(_F, _F, _F, _W, _R, _R, _R, _N),
    "policies": _row(_F, _F, _F, _R, _N, _N, _N, _N),
    "scripts": _row(_F, _F, _W, _W, _N, _N, _N, _N),
    "jobs": _row(_F, _F, _F, _W, _N, _N, _N, _N),
    "tickets": _row(_F, _F, _F, _W, _R, _R, _W, _W),
    "time_approval": _row(_F, _F, _F, _N, _N, _W, _N, _N),
    "runbooks": _row(_F, _F, _F, _W, _R, _N, _R, _N),
    # Credential vault (roles.md "credential vault: reveal"): the roles that may reveal manage the entries.
    "vault": _row(_F, _F, _F, _W, _N, _N, _N, _N),
    "catalog": _row(_F, _F, _R, _N, _R, _R, _N, _N),
    "deals": _row(_F, _F, _R, _W, _F, _R, _N, _N),
    "contracts": _row(_F, _F, _R, _R, _W, _W, _R, _N),
    "invoices": _row(_F, _F, _N, _N, _R, _F, _R, _N),
    "scorecards": _row(_F, _F, _F, _R, _F, _R, _R, _R),
    "kpis": _row(_F, _F, _R, _N, _R, _R, _N, _N),
    "compensation": _row(_F, _R, _N, _N, _N, _R, _N, _N),
    # "statements, technician scorecards": every staff role reads; whose (all, team, own) is PEOPLE_SEE_ALL
    # below plus the "reports to" line of the employee record. Drafting, reviewing and locking is the owner's.
    "statements": _row(_F, _R, _R, _R, _R, _R, _N, _N),
    "audit": _row(_R, _R, _N, _N, _N, _N, _N, _N),
}

# Roles that see every employee's people data (roles.md "statements, technician scorecards": all); other
# staff see their own and, as a manager, their team's (direct and indirect reports).
PEOPLE_SEE_ALL: frozenset[str] = frozenset({Role.OWNER, Role.ADMIN, Role.FINANCE})

# Yes/no rights of roles.md.
PRIVILEGES: dict[str, frozenset[str]] = {
    "scripts.sign": frozenset({Role.OWNER, Role.ADMIN, Role.SERVICE_MANAGER}),
    "vault.reveal": frozenset({Role.OWNER, Role.ADMIN, Role.SERVICE_MANAGER, Role.TECHNICIAN}),
    "peer_reviews.write": frozenset(STAFF_ROLES),
    "quotes.accept": frozenset({Role.PORTAL_ADMIN}),
}


class Actor(Protocol):
    """Whoever acts: a staff user, a portal user, or a user behind an API token."""

    role: str

    # Read-only members, so that the real User (whose is_authenticated is a read-only property) fits.
    @property
    def pk(self) -> int | None:
        """The user's id."""

    @property
    def is_authenticated(self) -> bool:
        """False for an anonymous visitor."""

    def client_scope(self) -> frozenset[int] | None:
        """The client ids this actor may see, or None for every client."""

    @property
    def is_portal(self) -> bool:
        """Whether this is a client-portal user."""


def level_of(role: str, capability: str) -> Level:
    """The level a role has on a capability (NONE for an unknown pair)."""
    return CAPABILITIES.get(capability, {}).get(role, Level.NONE)


def has_capability(actor: Any, capability: str, action: str = "view") -> bool:
    """Whether the actor's role allows `action` (view/add/change/delete) on `capability`."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return level_of(actor.role, capability) >= ACTION_LEVEL[action]


def has_privilege(actor: Any, privilege: str) -> bool:
    """Whether the actor's role holds a yes/no right such as `scripts.sign`."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return actor.role in PRIVILEGES.get(privilege, frozenset())


def require(actor: Any, capability: str, action: str = "view") -> None:
    """Raise PermissionDenied (403) unless the actor may do `action` on `capability`."""
    from tenfold.core.errors import PermissionDenied

    if not has_capability(actor, capability, action):
        raise PermissionDenied()
