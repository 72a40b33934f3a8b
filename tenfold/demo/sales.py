"""Demo sales: leads from the technicians (the flagged ticket's, two they entered, one dismissed), deals in every
stage (won ones tied to the demo's existing contracts, lost ones with their reason), and quotes — one sent to
Boulangerie Martin SARL awaiting acceptance in its portal, one accepted (its contract made and signed), a draft
and a declined one. Everything goes through the sales services, so the audit log and events are the real ones."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from tenfold.catalog.models import Offering, Service
from tenfold.clients.models import Client
from tenfold.contracts.models import Contract
from tenfold.core.models import OutboxEvent
from tenfold.sales import services
from tenfold.sales.models import Deal, Lead, Quote

# client name, title, stage, monthly, one-off, days to close, source, reason (lost)
DEALS = [
    ("Cabinet Dupuis Avocats", "Sauvegarde Microsoft 365 pour tout le cabinet", "qualification", "180.00", "0",
     25, "technician_lead", ""),
    ("École Montessori Les Lucioles", "Infogérance des postes de l'école", "qualification", "420.00", "1200.00", 60,
     "website", ""),
    ("Agence Immobilière Horizon", "Gestion des mobiles des négociateurs", "proposal", "96.00", "0", 20,
     "existing_client", ""),
    ("Clinique Vétérinaire des Tilleuls", "Passage au niveau Continuité", "negotiation", "310.00", "450.00", 10,
     "qbr", ""),
    ("Pharmacie du Centre", "Pare-feu géré pour l'officine", "negotiation", "35.00", "890.00", 7, "referral", ""),
    ("Garage Perrin Automobiles", "Reprise de l'infogérance", "lost", "380.00", "900.00", -20, "existing_client",
     "Le garage ferme : le gérant part à la retraite."),
    ("Hôtel Les Terrasses", "Wi-Fi clients et supervision réseau", "lost", "140.00", "2400.00", -45, "website",
     "Budget travaux reporté à l'an prochain ; à relancer en septembre."),
]
OPPORTUNITIES = [
    "Les sauvegardes du NAS ne sont pas externalisées : proposer la sauvegarde serveur et PRA.",
    "Huit utilisateurs travaillent sur mobile sans gestion : proposer le MDM.",
]


def seed_sales(clients: list[Client], staff: dict[str, Any]) -> int:
    """Write the demo leads, deals and quotes; returns how many deals."""
    from tenfold.servicedesk.models import Ticket

    by_name = {client.name: client for client in clients}
    sellers = [staff["sales"], staff["sales2"]]
    technicians = [staff["tech"], staff["tech2"]]
    today = timezone.localdate()

    # Leads: the demo's flagged ticket's event makes its lead (the worker's later delivery of the same event finds
    # it and changes nothing); the technicians pass on two more by hand, from what they saw on their tickets.
    for event in OutboxEvent.objects.filter(name="ticket.opportunity_flagged").order_by("pk"):
        services.lead_from_ticket(event)
    ticket_leads = list(Lead.objects.filter(source="ticket").order_by("pk"))
    worked = list(Ticket.objects.filter(assignee__in=technicians).select_related("client", "assignee")
                  .order_by("pk")[: len(OPPORTUNITIES)])
    for ticket, note in zip(worked, OPPORTUNITIES, strict=False):
        services.lead_create(actor=ticket.assignee, client=ticket.client, data={
            "title": f"Vu sur le ticket {ticket.number}", "note": note})
    manual = services.lead_create(actor=sellers[0], client=by_name["Transports Lefèvre & Fils"], data={
        "title": "Tablettes des chauffeurs", "note": "Le responsable d'exploitation demande un devis MDM.",
        "technician_id": technicians[1].pk})
    services.lead_dismiss(actor=sellers[0], lead=manual, reason="Déjà équipés par leur loueur de tablettes.")

    count = 0
    for index, (name, title, stage, monthly, one_off, days, source, reason) in enumerate(DEALS):
        client = by_name.get(name)
        if client is None:
            continue
        deal = services.deal_create(actor=sellers[index % 2], client=client, data={
            "title": title, "stage": stage if stage not in ("won", "lost") else "negotiation",
            "monthly_value": Decimal(monthly), "one_off_value": Decimal(one_off),
            "close_date": today + timedelta(days=days), "source": source,
            "credited_technician_id": technicians[0].pk if source == "technician_lead" else None})
        if stage == "lost":
            services.deal_close(actor=sellers[index % 2], deal=deal, outcome="lost", reason=reason)
        count += 1

    # Won deals behind three of the demo's contracts.
    for index, contract in enumerate(Contract.objects.filter(type="managed", status="active")
                                     .select_related("client", "plan").order_by("pk")[1:4]):
        deal = services.deal_create(actor=sellers[index % 2], client=contract.client, data={
            "title": f"Contrat {contract.plan.name if contract.plan else contract.title}",
            "monthly_value": Decimal("300.00") + 120 * index, "one_off_value": Decimal("0"),
            "close_date": contract.start_date, "source": "referral" if index else "existing_client"})
        services.deal_close(actor=sellers[index % 2], deal=deal, outcome="won", contract_id=contract.pk,
                            reason="Signé après la présentation des trois niveaux.")
        count += 1

    # A technician's lead converted into a deal.
    if ticket_leads:
        services.lead_convert(actor=sellers[1], lead=ticket_leads[0], data={
            "monthly_value": Decimal("165.00"), "one_off_value": Decimal("0"),
            "close_date": today + timedelta(days=30), "stage": "proposal"})
        count += 1

    offering = Offering.objects.filter(name="Infogérance PME").first()
    if offering is None:
        return count
    addons = {s.code: s for s in Service.objects.filter(is_addon=True, active=True)}
    count += _quotes(by_name, offering, addons, sellers)
    return count


def _quote(deal: Deal, offering: Offering, seller: Any, *, introduction: str, addons: list[tuple[Service, dict[str,
           Any]]], items: list[tuple[str, str, str]], **counts: Any) -> Quote:
    quote = services.quote_create(actor=seller, deal=deal, data={"offering_id": offering.pk,
                                                                 "introduction": introduction, **counts})
    for service, extra in addons:
        services.quote_addon_add(actor=seller, quote=quote, data={"service_id": service.pk, **extra})
    for description, quantity, price in items:
        services.quote_item_add(actor=seller, quote=quote, data={
            "description": description, "quantity": Decimal(quantity), "unit_price": Decimal(price)})
    return quote


def _quotes(by_name: dict[str, Client], offering: Offering, addons: dict[str, Service], sellers: list[Any]) -> int:
    today = timezone.localdate()
    deals = 0
    bakery = by_name.get("Boulangerie Martin SARL")
    if bakery is not None:
        # Sent, awaiting the portal administrator: an upsell from the bakery's Good contract.
        deal = services.deal_create(actor=sellers[0], client=bakery, data={
            "title": "Sauvegarde et protection des trois boutiques", "stage": "negotiation",
            "monthly_value": Decimal("640.00"), "one_off_value": Decimal("750.00"),
            "close_date": today + timedelta(days=14), "source": "qbr"})
        quote = _quote(
            deal, offering, sellers[0],
            introduction="Suite à notre rendez-vous trimestriel, voici les trois niveaux d'infogérance pour vos "
                         "boutiques. Le niveau Sérénité ajoute l'antivirus EDR et les correctifs ; Continuité "
                         "ajoute la sauvegarde.",
            addons=[(addons["m365-backup"], {})] if "m365-backup" in addons else [],
            items=[("Audit de sécurité initial et remise à niveau des postes", "1", "750.00")])
        services.quote_send(actor=sellers[0], quote=quote)
        deals += 1
    menuiserie = by_name.get("Menuiserie Blanc")
    if menuiserie is not None:
        # Accepted: the contract is made and signed from it.
        deal = services.deal_create(actor=sellers[1], client=menuiserie, data={
            "title": "Infogérance de l'atelier", "stage": "proposal", "monthly_value": Decimal("320.00"),
            "one_off_value": Decimal("1800.00"), "close_date": today, "source": "website"})
        quote = _quote(deal, offering, sellers[1], introduction="Notre proposition pour l'atelier et le bureau.",
                       addons=[(addons["phishing"], {})] if "phishing" in addons else [],
                       items=[("Projet d'intégration (reprise du parc, agents, documentation)", "1", "1800.00")],
                       workstations=6, servers=1, users=8, sites=1)
        Quote.objects.filter(pk=quote.pk).update(start_date=today)
        quote.refresh_from_db()
        services.quote_send(actor=sellers[1], quote=quote)
        services.quote_accept(actor=sellers[1], quote=quote, tier="better")
        deals += 1
    dupuis = by_name.get("Cabinet Dupuis Avocats")
    if dupuis is not None:
        draft_deal = Deal.objects.filter(client=dupuis, stage="qualification").first()
        if draft_deal is not None:
            _quote(draft_deal, offering, sellers[0], introduction="Brouillon : à valider avec l'associé gérant.",
                   addons=[(addons["m365-backup"], {"unit_price": Decimal("3.20")})] if "m365-backup" in addons
                   else [], items=[])
    horizon = by_name.get("Agence Immobilière Horizon")
    if horizon is not None:
        declined_deal = Deal.objects.filter(client=horizon, stage="proposal").first()
        if declined_deal is not None:
            quote = _quote(declined_deal, offering, sellers[0], introduction="", items=[],
                           addons=[(addons["mdm"], {})] if "mdm" in addons else [])
            services.quote_send(actor=sellers[0], quote=quote)
            services.quote_decline(actor=sellers[0], quote=quote, reason="Préfère attendre le renouvellement "
                                                                         "des téléphones.")
    return deals
