"""Create the demo MSP in bulk: staff of every role with MFA enrolled, a dozen clients with sites and
contacts, portal users. Deterministic for a given seed."""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction

from tenfold.accounts.models import StaffProfile, User
from tenfold.accounts.services import demo_enroll_totp
from tenfold.automation.demo import seed_automation, seed_workflows
from tenfold.clients.models import Client, Contact, Site
from tenfold.core import audit
from tenfold.core.models import Organization, TaxRate
from tenfold.demo import data
from tenfold.demo.assets_extra import seed_assets_extra
from tenfold.demo.billing import seed_billing
from tenfold.demo.catalog import seed_catalog
from tenfold.demo.contracts import seed_contracts
from tenfold.demo.devices import seed_devices
from tenfold.demo.history import seed_history
from tenfold.demo.knowledge import seed_knowledge
from tenfold.demo.kpis import seed_history as seed_kpi_history
from tenfold.demo.monitoring import seed_monitoring
from tenfold.demo.patching import seed_patching
from tenfold.demo.payments import seed_payments
from tenfold.demo.sales import seed_sales
from tenfold.demo.servicedesk import seed_servicedesk
from tenfold.demo.servicedesk_email import seed_servicedesk_email


@dataclass(frozen=True)
class DemoLogin:
    """A demo account a newcomer can log in with."""

    email: str
    role: str
    client: str


def demo_secret(seed: int, email: str) -> str:
    """The TOTP secret of a demo account (base32), derived from the seed so a re-seed is reproducible."""
    digest = hashlib.sha256(f"tenfold-demo:{seed}:{email}".encode()).digest()[:20]
    return base64.b32encode(digest).decode()


def is_empty() -> bool:
    """Whether the database has no users yet (the demo only seeds an empty deployment)."""
    return not User.objects.exists()


@transaction.atomic
def seed_demo(seed: int = 2026) -> list[DemoLogin]:
    """Write the demo MSP; returns the logins created."""
    rng = random.Random(seed)
    password = make_password(data.DEMO_PASSWORD)
    Organization.objects.update_or_create(pk=1, defaults={
        "name": data.ORGANIZATION_NAME, "currency": "EUR", "loaded_labour_cost": Decimal("45.00"),
        "default_language": "fr", "default_time_zone": "Europe/Paris"})
    TaxRate.objects.get_or_create(name="TVA 20 %", defaults={"rate": Decimal("20.000"), "is_default": True})
    TaxRate.objects.get_or_create(name="TVA 10 %", defaults={"rate": Decimal("10.000")})

    staff: list[User] = []
    for local, first, last, role, _title, *_rest in data.STAFF:
        staff.append(User(email=f"{local}@{data.STAFF_DOMAIN}", first_name=first, last_name=last, role=role,
                          password=password, is_demo=True, language="fr" if local == "owner" else ""))
    User.objects.bulk_create(staff)
    staff = list(User.objects.filter(email__endswith=f"@{data.STAFF_DOMAIN}").order_by("pk"))
    by_local = {u.email.split("@")[0]: u for u in staff}
    StaffProfile.objects.bulk_create([
        StaffProfile(user=by_local[local], job_title=title, hourly_cost_rate=Decimal(cost),
                     default_bill_rate=Decimal(bill))
        for local, _f, _l, _r, title, cost, bill, _n in data.STAFF])

    managers = [by_local["sales"], by_local["sales2"]]
    clients = [Client(name=name, status=status, notes=notes, account_manager=managers[i % 2],
                      website=f"https://www.{slug}.example", phone=f"+33 4 {rng.randint(10, 99)} "
                      f"{rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}")
               for i, (name, slug, status, notes) in enumerate(data.CLIENTS)]
    Client.objects.bulk_create(clients)
    clients = list(Client.objects.order_by("pk"))
    slugs = {name: slug for name, slug, _s, _n in data.CLIENTS}

    sites: list[Site] = []
    for client in clients:
        for index in range(1 + rng.randrange(3)):
            city, postcode = rng.choice(data.CITIES)
            sites.append(Site(client=client, name=data.SITE_NAMES[index], city=city, postal_code=postcode,
                              address=f"{rng.randint(1, 180)} {rng.choice(data.STREETS)}", country="FR",
                              time_zone="Europe/Paris"))
    Site.objects.bulk_create(sites)
    sites_by_client: dict[int, list[Site]] = {}
    for site in Site.objects.order_by("pk"):
        sites_by_client.setdefault(site.client_id, []).append(site)

    contacts: list[Contact] = []
    for client in clients:
        used: set[str] = set()
        for index in range(2 + rng.randrange(4)):
            first, last = rng.choice(data.FIRST_NAMES), rng.choice(data.LAST_NAMES)
            email = f"{_ascii(first)}.{_ascii(last)}@{slugs[client.name]}.example"
            if email in used:
                continue
            used.add(email)
            contacts.append(Contact(
                client=client, site=rng.choice(sites_by_client[client.pk]), first_name=first, last_name=last,
                email=email, phone=f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
                f"{rng.randint(10, 99)}", job_title="Managing director" if index == 0 else rng.choice(data.JOB_TITLES),
                is_decision_maker=index == 0, is_billing_contact=index == 1))
    Contact.objects.bulk_create(contacts)

    # One technician works only for three clients, to show restriction at work.
    restricted = by_local["tech3"]
    restricted.restrict_to_clients = True
    restricted.save(update_fields=["restrict_to_clients"])
    restricted.assigned_clients.set(clients[:3])

    seed_devices(rng, clients, sites_by_client, {c.pk: [f"{x.first_name[0]}{x.last_name}" for x in contacts
                                                     if x.client_id == c.pk] for c in clients})
    seed_monitoring(rng, clients, [by_local["tech"], by_local["tech2"]])
    seed_patching(random.Random(seed + 10), clients, by_local["service"])
    seed_assets_extra(seed, clients)
    seed_history(random.Random(seed))
    seed_catalog()
    seed_contracts(clients)
    seed_knowledge(random.Random(seed + 6), clients, [by_local["tech"], by_local["tech2"]], by_local["service"])
    seed_servicedesk(random.Random(seed + 4), clients, [by_local["tech"], by_local["tech2"]], by_local["service"])
    portal_logins = _portal_users(clients[:2], password, slugs)
    seed_servicedesk_email(random.Random(seed + 5), clients, [by_local["tech"], by_local["tech2"]])
    seed_sales(clients, by_local)
    seed_billing(random.Random(seed + 7), by_local["finance"])
    seed_payments(random.Random(seed + 8), by_local["finance"])
    seed_kpi_history(random.Random(seed + 10))  # two years of past invoices, tickets, deals for the KPIs
    seed_automation(random.Random(seed + 9), by_local["owner"], by_local["service"],
                    [by_local["tech"], by_local["tech2"]])
    seed_workflows(random.Random(seed + 11), by_local["service"])
    from tenfold.demo.people import seed_people

    seed_people(random.Random(seed + 11), by_local)
    from tenfold.demo.reporting import seed_scorecards
    from tenfold.demo.scorehistory import seed_score_history

    seed_score_history(random.Random(seed + 13))  # two years of what the scorecard reads
    seed_scorecards(random.Random(seed + 12))  # eight quarters recomputed by the engine, a review with its deck
    for user in staff + portal_logins:
        demo_enroll_totp(user, demo_secret(seed, user.email))
    audit.record(None, "demo.seeded", object_type="core.organization", object_id="1",
                 changes={"seed": seed, "clients": len(clients), "staff": len(staff)})
    return [DemoLogin(u.email, u.get_role_display(), u.client.name if u.client else "") for u in staff + portal_logins]


def _portal_users(clients: list[Client], password: str, slugs: dict[str, str]) -> list[User]:
    users = []
    for client in clients:
        contacts = list(client.contacts.order_by("pk")[:2])
        for contact, role in zip(contacts, ["portal_admin", "portal_user"], strict=False):
            users.append(User.objects.create(
                email=contact.email, first_name=contact.first_name, last_name=contact.last_name, role=role,
                client=client, contact=contact, password=password, is_demo=True))
    return users


def _ascii(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "-")


def demo_logins() -> list[dict[str, Any]]:
    """The demo accounts present in the database, staff first."""
    rows = []
    for user in User.objects.filter(is_demo=True, is_active=True).select_related("client").order_by("client_id", "pk"):
        rows.append({"email": user.email, "role": user.get_role_display(),
                     "client": user.client.name if user.client else ""})
    return rows
