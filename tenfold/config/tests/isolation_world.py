"""The two-client world of the isolation checks (the generated suite and the API schema run): clients A and
B and one user of every kind; each app's cases add client A's records through their `params`."""

from __future__ import annotations

import importlib
import pkgutil

import tenfold
from tenfold.accounts.testing import make_portal_user, make_staff
from tenfold.clients.models import Client
from tenfold.core.isolation import World
from tenfold.people.models import Employee

CLIENT_A_NAME = "Client A Isolation"


def load_cases() -> None:
    """Import every app's isolation cases (tests/isolation_cases.py or tests/isolation_*cases.py)."""
    for module in pkgutil.walk_packages(tenfold.__path__, "tenfold."):
        leaf = module.name.rsplit(".", 1)[-1]
        if ".tests." in module.name and leaf.startswith("isolation_") and leaf.endswith("cases"):
            importlib.import_module(module.name)


def build_world() -> World:
    """Clients A and B, every staff role, technicians assigned to A only and to B only, portal users of each."""
    client_a = Client.objects.create(name=CLIENT_A_NAME, status="active")
    client_b = Client.objects.create(name="Client B Isolation", status="active")
    users = {role: make_staff(role) for role in
             ("owner", "admin", "service_manager", "technician", "account_manager", "finance")}
    users["tech_assigned"] = make_staff("technician", clients=[client_a], restricted=True)
    users["tech_other"] = make_staff("technician", clients=[client_b], restricted=True)
    for role in ("portal_admin", "portal_user"):
        users[f"{role}_a"] = make_portal_user(client_a, role)
        users[f"{role}_b"] = make_portal_user(client_b, role)
    world = World(client_a=client_a, client_b=client_b, users=users)
    _add_employees(world)
    return world


def _add_employees(world: World) -> None:
    """The people axis: every staff user is an employee; the subject, a technician who is none of the actors,
    reports to the service manager (who therefore sees their people data; nobody else but PEOPLE_SEE_ALL does)."""
    from datetime import date

    start = date(2024, 1, 1)
    employees = {name: Employee.objects.create(user=user, start_date=start) for name, user in world.users.items()
                 if not user.is_portal}
    subject_user = make_staff("technician", mfa=False, first_name="Pat", last_name="Subjectperson")
    world.extra["people_subject"] = Employee.objects.create(user=subject_user, start_date=start,
                                                            manager=employees["service_manager"])
    world.extra["people_managers"] = frozenset({world.users["service_manager"].pk})
