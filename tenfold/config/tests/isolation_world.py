"""The two-client world of the isolation checks (the generated suite and the API schema run): clients A and
B and one user of every kind; each app's cases add client A's records through their `params`."""

from __future__ import annotations

import importlib
import pkgutil

import tenfold
from tenfold.accounts.testing import make_portal_user, make_staff
from tenfold.clients.models import Client
from tenfold.core.isolation import World

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
    return World(client_a=client_a, client_b=client_b, users=users)
