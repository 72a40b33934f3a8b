"""Demo contracts: the Paris office calendar with French public holidays 2026–2027 as the default SLA's,
a quarter-hour rounding rule, managed-services contracts on the tier each active client's baseline already
has (coverage synced from its devices), one block of hours, and an onboarding project with milestones."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from tenfold.catalog.models import Plan, Service
from tenfold.clients.models import Client
from tenfold.contracts.models import (
    BusinessCalendar,
    Contract,
    ContractAddOn,
    Holiday,
    Milestone,
    Project,
    ProjectTask,
    RoundingRule,
    SlaPolicy,
)
from tenfold.contracts.services import coverage_sync
from tenfold.monitoring.models import ClientBaseline

OFFICE_DAY = [[510, 750], [810, 1080]]  # 8:30–12:30, 13:30–18:00
FRENCH_HOLIDAYS = [
    ("2026-01-01", "Jour de l'an"), ("2026-04-06", "Lundi de Pâques"), ("2026-05-01", "Fête du Travail"),
    ("2026-05-08", "Victoire 1945"), ("2026-05-14", "Ascension"), ("2026-05-25", "Lundi de Pentecôte"),
    ("2026-07-14", "Fête nationale"), ("2026-08-15", "Assomption"), ("2026-11-01", "Toussaint"),
    ("2026-11-11", "Armistice 1918"), ("2026-12-25", "Noël"),
    ("2027-01-01", "Jour de l'an"), ("2027-03-29", "Lundi de Pâques"), ("2027-05-01", "Fête du Travail"),
    ("2027-05-06", "Ascension"), ("2027-05-08", "Victoire 1945"), ("2027-05-17", "Lundi de Pentecôte"),
    ("2027-07-14", "Fête nationale"), ("2027-08-15", "Assomption"), ("2027-11-01", "Toussaint"),
    ("2027-11-11", "Armistice 1918"), ("2027-12-25", "Noël"),
]


def seed_contracts(clients: list[Client]) -> int:
    """Write the demo SLA settings, contracts and a project; returns how many contracts."""
    calendar = BusinessCalendar.objects.create(name="Bureau Paris (heures ouvrées)", time_zone="Europe/Paris",
                                               hours=[OFFICE_DAY] * 5 + [[], []])
    Holiday.objects.bulk_create([Holiday(calendar=calendar, date=date.fromisoformat(d), name=n)
                                 for d, n in FRENCH_HOLIDAYS])
    SlaPolicy.objects.filter(is_default=True).update(is_default=False)
    standard = SlaPolicy.objects.create(name="Standard heures ouvrées", calendar=calendar, is_default=True)
    premium = SlaPolicy.objects.create(
        name="Premium", calendar=calendar, p1_first_response_minutes=15, p1_resolution_minutes=120,
        p2_first_response_minutes=30, p2_resolution_minutes=240, p3_first_response_minutes=120,
        p3_resolution_minutes=960, warning_threshold_pct=70)
    quarter = RoundingRule.objects.create(name="Quart d'heure entamé", increment_minutes=15, mode="up",
                                          minimum_minutes=15)

    plans = {p.tier: p for p in Plan.objects.filter(offering__name="Infogérance PME")}
    tiers = dict(ClientBaseline.objects.values_list("client_id", "tier"))
    today = timezone.localdate()
    start = date(today.year, 1, 1)
    contracts: list[Contract] = []
    active = [c for c in clients if c.status == "active"]
    for number, client in enumerate(active, start=1):
        tier = tiers.get(client.pk)
        if tier is None or tier not in plans:
            continue
        contracts.append(Contract(
            client=client, number=f"C-{start.year}-{number:04d}", title=f"Infogérance {plans[tier].name}",
            type="managed", status="active", start_date=start, renewal_term_months=12, notice_period_days=90,
            plan=plans[tier], sla_policy=premium if tier == "best" else standard, rounding_rule=quarter,
            minimum_monthly_commitment=Decimal("300.00"), out_of_scope_rate=Decimal("85.00"),
            indexation="percent", indexation_percent=Decimal("2.500"), signed_at=timezone.now()))
    Contract.objects.bulk_create(contracts)
    contracts = list(Contract.objects.filter(type="managed").select_related("plan").order_by("pk"))
    addons = {s.code: s for s in Service.objects.filter(is_addon=True, active=True)}
    rows = []
    for index, contract in enumerate(contracts):
        if "m365-backup" in addons and index % 2 == 0:
            rows.append(ContractAddOn(client_id=contract.client_id, contract=contract, service=addons["m365-backup"]))
        if "mdm" in addons and index % 3 == 0:
            rows.append(ContractAddOn(client_id=contract.client_id, contract=contract, service=addons["mdm"],
                                      unit_price=Decimal("3.50")))
    ContractAddOn.objects.bulk_create(rows)
    for contract in contracts:
        coverage_sync(contract)

    others = [c for c in clients if c.pk not in {contract.client_id for contract in contracts}]
    count = len(contracts)
    if others:
        Contract.objects.create(
            client=others[0], number=f"C-{start.year}-0100", title="Banque de 20 heures", type="block_hours",
            status="active", start_date=start, hours_purchased=Decimal("20"), alert_thresholds=[75, 90],
            unused_hours="roll_over", overage_rate=Decimal("95.00"), out_of_scope_rate=Decimal("95.00"),
            rounding_rule=quarter, renewal_term_months=12, notice_period_days=30, signed_at=timezone.now())
        count += 1
    target = others[-1] if len(others) > 1 else (clients[-1] if clients else None)
    if target is not None:
        project = Project.objects.create(
            client=target, kind="onboarding", name="Projet d'intégration", billing="fixed",
            fixed_price=Decimal("3600.00"), budgeted_hours=Decimal("36"), status="in_progress",
            start_date=today - timedelta(days=14), due_date=today + timedelta(days=30),
            description="Reprise du parc, déploiement des agents, documentation de l'environnement.")
        ProjectTask.objects.bulk_create([
            ProjectTask(client=target, project=project, title=title, estimate_hours=Decimal(hours), done=done)
            for title, hours, done in [("Inventaire des postes et serveurs", "6", True),
                                       ("Déploiement des agents", "8", True),
                                       ("Configuration des sauvegardes", "10", False),
                                       ("Documentation et passation", "12", False)]])
        Milestone.objects.bulk_create([
            Milestone(client=target, project=project, name="Audit initial", amount=Decimal("1200.00"),
                      due_date=today - timedelta(days=7), status="reached", reached_at=timezone.now()),
            Milestone(client=target, project=project, name="Mise en production", amount=Decimal("2400.00"),
                      due_date=today + timedelta(days=30))])
    return count
