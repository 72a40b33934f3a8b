"""Demo knowledge: edits of the shipped runbooks (so they have version history), client runbooks,
documentation of the first clients (overview, network, key applications, a review), check-type links,
and vault entries whose secrets are obviously fake."""

from __future__ import annotations

import random
from typing import Any

from tenfold.clients.models import Client
from tenfold.knowledge import services
from tenfold.knowledge.models import Runbook
from tenfold.knowledge.services import StepInput

APPLICATIONS = [("Compta Plus", "Logiciels Durand"), ("Messagerie et bureautique", "Nuage Bureau"),
                ("Gestion commerciale Atlas", "Atlas Édition"), ("Caisse Boutique", "Caisse & Co"),
                ("Stockage réseau", "Boîte à Données")]
ISPS = ["Fibre Alpes Pro", "Réseau Rhône Entreprises", "Opérateur Léman"]
FIREWALLS = ["Rempart 310", "Pare-feu Bastion 40", "Vigie XG 87"]


def _steps(runbook: Runbook) -> list[StepInput]:
    return [StepInput(s.text, s.required) for s in runbook.steps.order_by("position")]


def seed_knowledge(rng: random.Random, clients: list[Client], technicians: list[Any], manager: Any) -> None:
    """Write the demo's runbook versions, client documentation, check links and vault entries."""
    setup = Runbook.objects.get(slug="workstation-setup")
    services.runbook_update(actor=technicians[0], runbook=setup, data={
        "body_markdown": setup.body_markdown + "\n## Printers\nUse the driver from the client's file server, "
        "never the vendor's website.\n"}, steps=[*_steps(setup), StepInput("Label the device with its asset tag",
                                                                           False)],
        summary="Printers and labels")
    services.runbook_update(actor=manager, runbook=setup, data={"title": "Workstation setup"},
                            steps=[s for s in _steps(setup) if "Label" not in s.text], summary="Labels are done "
                            "at reception now")
    baseline = Runbook.objects.get(slug="security-baseline")
    services.runbook_update(actor=manager, runbook=baseline, data={
        "body_markdown": baseline.body_markdown + "\nReviewed with the 2026 cyber-insurance questionnaire.\n"},
        steps=_steps(baseline), summary="Insurance questionnaire")
    services.check_link_set(actor=manager, runbook=baseline, check_type="service")
    disk = services.runbook_create(actor=manager, data={
        "title": "Disk space low", "kind": "task", "body_markdown": "An alert says a volume is nearly full.\n\n"
        "1. Find what grew (the largest folders first).\n2. Clean what is safe; ask before deleting user data.",
        "category_id": None, "client_id": None}, steps=[StepInput("Find the largest folders", True),
                                                        StepInput("Empty temporary files and the recycle bin", True),
                                                        StepInput("Note the cause in the ticket", True)])
    services.check_link_set(actor=manager, runbook=disk, check_type="disk_free")

    for index, client in enumerate(clients[:6]):
        tech = technicians[index % len(technicians)]
        apps = rng.sample(APPLICATIONS, 2)
        services.client_doc_update(actor=tech, client=client, overview_markdown=(
            f"## {client.name}\n\n{rng.randint(8, 40)} workstations, one file server, {apps[0][0]} and "
            f"{apps[1][0]}.\n\nBackups run nightly to the NAS and weekly off-site."),
            shared_with_client=index == 0)  # the first client's portal administrators read it in the portal
        services.network_item_save(actor=tech, client=client, data={
            "kind": "subnet", "name": "Office LAN", "address": f"10.{index + 10}.0.0/24", "vlan_id": None,
            "provider": "", "notes": "DHCP on the firewall", "site_id": None})
        services.network_item_save(actor=tech, client=client, data={
            "kind": "vlan", "name": "Voice", "address": "", "vlan_id": 20, "provider": "", "notes": "",
            "site_id": None})
        services.network_item_save(actor=tech, client=client, data={
            "kind": "firewall", "name": "Firewall", "address": f"192.0.2.{index + 1}", "vlan_id": None,
            "provider": rng.choice(FIREWALLS), "notes": "", "site_id": None})
        services.network_item_save(actor=tech, client=client, data={
            "kind": "isp", "name": "Internet", "address": f"203.0.113.{index + 10}", "vlan_id": None,
            "provider": rng.choice(ISPS), "notes": "Fibre 1 Gb/s", "site_id": None})
        for name, vendor in apps:
            services.key_application_save(actor=tech, client=client, data={
                "name": name, "vendor": vendor, "url": "", "support_contact": "", "notes": ""})
        if index % 2 == 0:
            services.client_doc_mark_reviewed(actor=manager, client=client)
        services.credential_create(actor=tech, data={
            "name": "Firewall administrator", "username": "admin", "url": f"https://192.0.2.{index + 1}:8443",
            "notes": "Demo entry", "client_id": client.pk}, secret=f"DEMO-fake-secret-{index:02d}")
        services.credential_create(actor=tech, data={
            "name": "Mail administrator", "username": f"admin@client{index}.example", "url":
            f"https://mail.client{index}.example/admin", "notes": "Demo entry", "client_id": client.pk},
            secret=f"DEMO-not-a-real-password-{index:02d}", totp_seed="JBSWY3DPEHPK3PXP")
    services.runbook_create(actor=manager, data={
        "title": f"{clients[0].name}: month-end backup check", "kind": "task", "client_id": clients[0].pk,
        "category_id": None, "body_markdown": "The accountant needs the closing backup verified.",
        "shared_with_client": True},
        steps=[StepInput("Check last night's backup job", True), StepInput("Test-restore one ledger file", True)])
    services.credential_create(actor=manager, data={
        "name": "Distributor portal", "username": "orders@msp.example", "url": "https://distributor.example",
        "notes": "Demo entry", "client_id": None}, secret="DEMO-fake-msp-secret")
