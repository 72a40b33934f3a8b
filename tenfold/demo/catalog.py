"""The demo catalog: a French MSP's services in EUR, two offerings with Good / Better / Best plans and
some add-ons, following the seed (Good = monitoring; Better = + antivirus and patching; Best = + backup).

Prices are per unit per month before tax; costs are tool licences per unit; labour is the expected
minutes of work per unit per month (at the organization's loaded cost of 45 €/h)."""

from __future__ import annotations

from decimal import Decimal

from tenfold.catalog.models import Offering, Plan, PlanItem, Service

# code, name, category, unit, price, tool cost, minutes, policies (m a p b), add-on
SERVICES = [
    ("ws-rmm", "Supervision et support à distance — poste", "management", "workstation", "25.00", "3.00", "18",
     "m", False),
    ("ws-edr", "Antivirus EDR géré — poste", "security", "workstation", "6.00", "2.80", "2", "a", False),
    ("ws-patch", "Gestion des correctifs — poste", "management", "workstation", "4.00", "0.50", "3", "p", False),
    ("ws-backup", "Sauvegarde poste de travail", "backup", "workstation", "10.00", "4.00", "4", "b", False),
    ("srv-rmm", "Supervision et administration — serveur", "management", "server", "60.00", "6.00", "45", "m",
     False),
    ("srv-security", "Antivirus et correctifs — serveur", "security", "server", "25.00", "7.00", "15", "ap",
     False),
    ("srv-backup", "Sauvegarde serveur et PRA", "backup", "server", "55.00", "18.00", "20", "b", False),
    ("net-monitoring", "Supervision équipement réseau", "network", "network_device", "9.00", "1.00", "6", "m",
     False),
    ("net-firewall", "Pare-feu géré", "network", "site", "35.00", "10.00", "20", "ap", False),
    ("net-firmware", "Mises à jour firmware réseau", "network", "network_device", "3.00", "0.00", "3", "p", False),
    ("net-config-backup", "Sauvegarde des configurations réseau", "backup", "network_device", "4.00", "0.50",
     "2", "b", False),
    ("m365-backup", "Sauvegarde Microsoft 365", "cloud", "user", "3.50", "1.10", "2", "b", True),
    ("dark-web", "Surveillance du dark web", "security", "flat", "49.00", "15.00", "30", "", True),
    ("after-hours", "Support hors heures ouvrées", "support", "user", "4.00", "0.00", "6", "", True),
    ("mdm", "Gestion des mobiles (MDM)", "management", "mobile", "4.00", "1.50", "5", "m", True),
    ("phishing", "Sensibilisation au phishing", "security", "user", "2.50", "1.00", "1", "", True),
    ("legacy-fax", "Fax dématérialisé (ancienne offre)", "other", "flat", "15.00", "6.00", "10", "", True),
]

# offering, description, {tier: [service codes]}
OFFERINGS = [
    ("Infogérance PME", "Postes et serveurs d'une PME, du support à la sauvegarde.", {
        "good": ["ws-rmm", "srv-rmm"],
        "better": ["ws-edr", "ws-patch", "srv-security"],
        "best": ["ws-backup", "srv-backup"],
    }),
    ("Réseau et sites", "Équipements réseau et pare-feu de chaque site.", {
        "good": ["net-monitoring"],
        "better": ["net-firewall", "net-firmware"],
        "best": ["net-config-backup"],
    }),
]

TIER_NAMES = {"good": "Essentiel", "better": "Sérénité", "best": "Continuité"}
TIER_DESCRIPTIONS = {
    "good": "Supervision, support à distance et alertes.",
    "better": "Essentiel + protection des données : antivirus EDR et correctifs.",
    "best": "Sérénité + sauvegarde pour la continuité d'activité.",
}


def seed_catalog() -> None:
    """Write the demo services, offerings, plans and plan items."""
    services = Service.objects.bulk_create([
        Service(code=code, name=name, category=category, unit=unit, list_price=Decimal(price),
                unit_cost=Decimal(cost), labour_minutes=Decimal(minutes), includes_monitoring="m" in policies,
                includes_antivirus="a" in policies, includes_patching="p" in policies,
                includes_backup="b" in policies, is_addon=addon, active=code != "legacy-fax")
        for code, name, category, unit, price, cost, minutes, policies, addon in SERVICES])
    by_code = {service.code: service for service in Service.objects.filter(pk__in=[s.pk for s in services])}
    items: list[PlanItem] = []
    for name, description, tiers in OFFERINGS:
        offering = Offering.objects.create(name=name, description=description)
        for tier, codes in tiers.items():
            plan = Plan.objects.create(offering=offering, tier=tier, name=f"{name} {TIER_NAMES[tier]}",
                                       description=TIER_DESCRIPTIONS[tier])
            items += [PlanItem(plan=plan, service=by_code[code], unit_price=by_code[code].list_price)
                      for code in codes]
    PlanItem.objects.bulk_create(items)
