"""Writes of leads, deals and quotes: validate, write, audit, emit — in one transaction.

Accepting a quote wins its deal and makes the contract through the contracts app's own services. A portal
administrator may accept their company's quotes (privilege `quotes.accept`) but holds no contracts right: the
contract is then created and signed on the authority of the staff member who sent the quote (the MSP's offer,
made by someone entitled to commit it), and the audit log says so: `quote.accepted` names the portal user as the
actor and the sender as the authority, and the contract's notes (in its `contract.created` audit row) name both.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenfold.catalog.models import Offering, Plan, Service
from tenfold.clients.models import Client, Contact
from tenfold.contracts import services as contract_services
from tenfold.contracts.models import Contract, ContractStatus, ContractType
from tenfold.core import audit, events
from tenfold.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from tenfold.core.models import OutboxEvent
from tenfold.core.roles import STAFF_ROLES, Role, has_capability, has_privilege, require
from tenfold.core.tiers import Tier
from tenfold.core.writes import apply_fields, clean_or_raise, save_or_unique_error
from tenfold.sales.models import (
    CLOSED_STAGES,
    UNIT_FIELDS,
    Deal,
    DealSource,
    DealStage,
    Lead,
    LeadSource,
    LeadStatus,
    Quote,
    QuoteAddOn,
    QuoteItem,
    QuoteStatus,
)
from tenfold.sales.selectors import live_counts, offering_plans, require_selling

logger = logging.getLogger("tenfold.sales")

NEGATIVE = _("Amounts cannot be negative.")
NEGATIVE_QUANTITY = _("Quantities cannot be negative.")
DRAFT_ONLY = _("Only a draft quote can be changed: this one has been sent.")

LEAD_FIELDS = ("title", "note", "technician_id")
DEAL_FIELDS = ("title", "owner_id", "stage", "monthly_value", "one_off_value", "close_date", "source",
               "credited_technician_id", "notes")
QUOTE_FIELDS = ("contact_id", "offering_id", "valid_until", "start_date", "introduction", *UNIT_FIELDS)
ADDON_FIELDS = ("service_id", "per_unit", "quantity", "unit_price")
ITEM_FIELDS = ("description", "quantity", "unit_price")
QUOTE_VALIDITY_DAYS = 30


def _refuse_negative(obj: Any, fields: tuple[str, ...], message: Any = NEGATIVE) -> None:
    errors = {f: [str(message)] for f in fields if getattr(obj, f, None) is not None and getattr(obj, f) < 0}
    if errors:
        raise ValidationError(message, errors=errors)


def _decimal(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError(_("Enter a number."), field=field) from None
    if not number.is_finite():
        raise ValidationError(_("Enter a number."), field=field)
    return number


def _staff_user(user_id: Any, field: str, *, roles: frozenset[str] = frozenset(STAFF_ROLES)) -> None:
    if user_id is None:
        return
    if not get_user_model().objects.filter(pk=user_id, role__in=sorted(roles), is_active=True).exists():
        raise ValidationError(_("Choose an active staff member."), field=field)


# --- Leads ---------------------------------------------------------------------------------------------------


def require_leads(actor: Any, action: str) -> None:
    require(actor, "deals", action)
    if getattr(actor, "is_portal", False):
        raise PermissionDenied()


@transaction.atomic
def lead_create(*, actor: Any, client: Client, data: dict[str, Any]) -> Lead:
    """Record a lead by hand; a technician who enters one is credited with it."""
    require_leads(actor, "add")
    data = dict(data)
    if data.get("technician_id") is None and getattr(actor, "role", "") == Role.TECHNICIAN:
        data["technician_id"] = actor.pk
    _staff_user(data.get("technician_id"), "technician")
    lead = Lead(client=client, source=LeadSource.MANUAL, created_by=actor if getattr(actor, "pk", None) else None)
    apply_fields(lead, LEAD_FIELDS, data)
    clean_or_raise(lead)
    lead.save()
    audit.record(actor, "lead.created", lead, changes=audit.snapshot(lead, ["title", "note", "technician", "source"]))
    events.emit("lead.created", client_id=client.pk, payload={"lead_id": lead.pk, "client_id": client.pk,
                                                              "technician_id": lead.technician_id})
    return lead


def lead_from_ticket(event: OutboxEvent) -> None:
    """`ticket.opportunity_flagged` → one lead for the ticket's client, credited to the technician who flagged it.
    Delivered at least once: a second delivery finds the ticket's lead and changes nothing."""
    from tenfold.servicedesk.models import Ticket

    payload = event.payload or {}
    ticket_id = payload.get("ticket_id")
    if not isinstance(ticket_id, int):
        return
    ticket = Ticket.objects.filter(pk=ticket_id).select_related("client").first()
    if ticket is None:
        return  # deleted since: nothing to sell on
    if Lead.objects.filter(ticket=ticket).exists():
        return
    technician_id = payload.get("technician_id")
    if technician_id is not None and not get_user_model().objects.filter(pk=technician_id).exists():
        technician_id = None
    note = str(payload.get("note") or ticket.opportunity_note or "")[:2000]
    number = payload.get("number") or ticket.number
    lead = Lead(client_id=ticket.client_id, ticket=ticket, source=LeadSource.TICKET, technician_id=technician_id,
                title=str(_("Opportunity on ticket %(number)s") % {"number": number})[:200], note=note)
    try:
        with transaction.atomic():
            lead.save()
    except IntegrityError:
        return  # another delivery created it at the same moment (one lead per ticket)
    audit.record(None, "lead.created", lead, changes={"source": "ticket", "ticket": ticket.pk,
                                                      "technician": technician_id})
    events.emit("lead.created", client_id=ticket.client_id, payload={
        "lead_id": lead.pk, "client_id": ticket.client_id, "technician_id": technician_id, "ticket_id": ticket.pk})


def _lead_open(lead: Lead) -> None:
    if lead.status != LeadStatus.OPEN:
        raise Conflict(_("This lead is already converted or dismissed."))


@transaction.atomic
def lead_update(*, actor: Any, lead: Lead, data: dict[str, Any]) -> Lead:
    """Change an open lead."""
    require_leads(actor, "change")
    _lead_open(lead)
    _staff_user(data.get("technician_id"), "technician")
    before = audit.snapshot(lead)
    apply_fields(lead, LEAD_FIELDS, data)
    clean_or_raise(lead)
    lead.save()
    changes = audit.diff(before, audit.snapshot(lead))
    if changes:
        audit.record(actor, "lead.updated", lead, changes=changes)
    return lead


@transaction.atomic
def lead_dismiss(*, actor: Any, lead: Lead, reason: str) -> Lead:
    """Close a lead that will not become a deal, saying why."""
    require_selling(actor, "change")
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    _lead_open(lead)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why the lead is dismissed."), field="reason")
    if len(reason) > 2000:
        raise ValidationError(_("This text is too long."), field="reason")
    lead.status, lead.dismiss_reason, lead.closed_at = LeadStatus.DISMISSED, reason, timezone.now()
    lead.save(update_fields=["status", "dismiss_reason", "closed_at", "updated_at"])
    audit.record(actor, "lead.dismissed", lead, changes={"status": ["open", "dismissed"], "reason": reason})
    return lead


@transaction.atomic
def lead_convert(*, actor: Any, lead: Lead, data: dict[str, Any]) -> Deal:
    """Turn an open lead into a deal for the same client; a technician's lead makes a "technician lead" deal
    crediting them."""
    require_selling(actor, "add")
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    _lead_open(lead)
    data = {"title": lead.title, **data}
    if lead.technician_id is not None or lead.source == LeadSource.TICKET:
        data["source"] = DealSource.TECHNICIAN_LEAD
        data["credited_technician_id"] = lead.technician_id
    deal = _deal_save(actor, Deal(client_id=lead.client_id, lead=lead), data, "created")
    lead.status, lead.closed_at = LeadStatus.CONVERTED, timezone.now()
    lead.save(update_fields=["status", "closed_at", "updated_at"])
    audit.record(actor, "lead.converted", lead, changes={"status": ["open", "converted"], "deal": deal.pk})
    return deal


# --- Deals ---------------------------------------------------------------------------------------------------


def _deal_save(actor: Any, deal: Deal, data: dict[str, Any], verb: str) -> Deal:
    data = dict(data)
    if data.get("owner_id") is None and not deal.owner_id:
        data["owner_id"] = actor.pk
    if "owner_id" in data:
        _staff_user(data["owner_id"], "owner")
    _staff_user(data.get("credited_technician_id"), "credited_technician")
    if data.get("stage") in CLOSED_STAGES:
        raise ValidationError(_("Close a deal as won or lost with its reason (or accept one of its quotes)."),
                              field="stage")
    for field in ("monthly_value", "one_off_value"):
        if field in data:
            data[field] = _decimal(data[field], field) if data[field] is not None else Decimal(0)
    before = audit.snapshot(deal) if deal.pk else {}
    apply_fields(deal, DEAL_FIELDS, data)
    _refuse_negative(deal, ("monthly_value", "one_off_value"))
    clean_or_raise(deal)
    deal.save()
    if verb == "created":
        audit.record(actor, "deal.created", deal, changes=audit.snapshot(deal, [*DEAL_FIELDS, "lead"]))
        events.emit("deal.created", client_id=deal.client_id, payload={
            "deal_id": deal.pk, "client_id": deal.client_id, "owner_id": deal.owner_id, "source": deal.source,
            "credited_technician_id": deal.credited_technician_id})
    else:
        changes = audit.diff(before, audit.snapshot(deal))
        if changes:
            audit.record(actor, "deal.updated", deal, changes=changes)
    return deal


@transaction.atomic
def deal_create(*, actor: Any, client: Client, data: dict[str, Any]) -> Deal:
    """Open a deal at a client (owner: the actor unless another salesperson is named)."""
    require_selling(actor, "add")
    return _deal_save(actor, Deal(client=client), data, "created")


@transaction.atomic
def deal_update(*, actor: Any, deal: Deal, data: dict[str, Any]) -> Deal:
    """Change an open deal (its stage among the open ones, values, owner, dates)."""
    require_selling(actor, "change")
    if not deal.is_open:
        raise Conflict(_("A won or lost deal cannot be changed."))
    return _deal_save(actor, deal, data, "updated")


@transaction.atomic
def deal_close(*, actor: Any, deal: Deal, outcome: str, reason: str, contract_id: int | None = None) -> Deal:
    """Close an open deal as won or lost; a lost deal needs its reason; a won one may name the client's contract
    it became (accepting a quote does all this by itself)."""
    require_selling(actor, "change")
    contract = None
    if contract_id is not None:
        contract = Contract.objects.filter(pk=contract_id, client_id=deal.client_id).first()
        if contract is None or outcome != DealStage.WON:
            # Never confirm that another client's contract exists.
            raise ValidationError(_("Choose one of this client's contracts (for a won deal)."), field="contract")
    deal = Deal.objects.select_for_update().get(pk=deal.pk)
    if outcome not in CLOSED_STAGES:
        raise ValidationError(_("Choose won or lost."), field="outcome")
    if not deal.is_open:
        raise Conflict(_("This deal is already closed."))
    reason = (reason or "").strip()
    if outcome == DealStage.LOST and not reason:
        raise ValidationError(_("Say why the deal was lost."), field="reason")
    if len(reason) > 2000:
        raise ValidationError(_("This text is too long."), field="reason")
    return _close(actor, deal, outcome, reason, contract=contract)


def _close(actor: Any, deal: Deal, outcome: str, reason: str, contract: Contract | None = None) -> Deal:
    previous = deal.stage
    deal.stage, deal.outcome_reason, deal.closed_at = outcome, reason, timezone.now()
    deal.contract = contract or deal.contract
    deal.save(update_fields=["stage", "outcome_reason", "closed_at", "contract", "updated_at"])
    audit.record(actor, f"deal.{outcome}", deal, changes={"stage": [previous, outcome], "reason": reason,
                                                          "contract": deal.contract_id})
    events.emit(f"deal.{outcome}", client_id=deal.client_id, payload={
        "deal_id": deal.pk, "client_id": deal.client_id, "owner_id": deal.owner_id,
        "monthly_value": deal.monthly_value, "one_off_value": deal.one_off_value, "source": deal.source,
        "credited_technician_id": deal.credited_technician_id, "contract_id": deal.contract_id})
    return deal


# --- Quotes --------------------------------------------------------------------------------------------------


def _next_number(day: date, attempt: int) -> str:
    prefix = f"Q-{day.year}-"
    taken = Quote.objects.filter(number__istartswith=prefix).values_list("number", flat=True)
    highest = max((int(n[len(prefix):]) for n in taken if n[len(prefix):].isdigit()), default=0)
    return f"{prefix}{highest + 1 + attempt:04d}"


def _check_quote_refs(quote: Quote, data: dict[str, Any]) -> None:
    if data.get("contact_id") is not None and not Contact.objects.filter(
            pk=data["contact_id"], client_id=quote.client_id).exists():
        # Never confirm that another client's contact exists.
        raise ValidationError(_("Choose one of this client's contacts."), field="contact")
    if "offering_id" in data:
        offering_id = data["offering_id"]
        if offering_id is None or not Offering.objects.filter(pk=offering_id, active=True).exists():
            raise ValidationError(_("Choose an active offering of the catalog."), field="offering")
        if not Plan.objects.filter(offering_id=offering_id, active=True).exists():
            raise ValidationError(_("This offering has no active plan to quote."), field="offering")


def _check_quote(quote: Quote) -> None:
    errors: dict[str, list[str]] = {}
    for name in UNIT_FIELDS:
        value = getattr(quote, name)
        if value is None or isinstance(value, bool) or not isinstance(value, int) or value < 0:
            errors[name] = [str(_("Enter a whole number, 0 or more."))]
    if quote.valid_until and quote.valid_until < timezone.localdate() and quote.is_draft:
        errors["valid_until"] = [str(_("The validity date cannot be in the past."))]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors=errors)
    clean_or_raise(quote)


@transaction.atomic
def quote_create(*, actor: Any, deal: Deal, data: dict[str, Any]) -> Quote:
    """Draft a quote for a deal's client, priced at the client's live unit counts unless others are given."""
    require_selling(actor, "add")
    data = dict(data)
    client_id = data.pop("client_id", None)
    if client_id is not None and client_id != deal.client_id:
        raise ValidationError(_("A quote is for its deal's client: this deal belongs to another client."),
                              field="deal")
    if not deal.is_open:
        raise Conflict(_("This deal is closed: open a new deal to quote again."))
    today = timezone.localdate()
    counts = live_counts(deal.client)
    data = {**{name: getattr(counts, name) for name in UNIT_FIELDS},
            "valid_until": today + timedelta(days=QUOTE_VALIDITY_DAYS),
            "start_date": (today.replace(day=1) + timedelta(days=32)).replace(day=1),
            **{k: v for k, v in data.items() if v is not None or k == "contact_id"}}
    quote = Quote(client_id=deal.client_id, deal=deal)
    _check_quote_refs(quote, {"offering_id": data.get("offering_id"), **data})
    apply_fields(quote, QUOTE_FIELDS, data)
    _check_quote(quote)
    for attempt in range(5):
        quote.number = _next_number(today, attempt)
        try:
            with transaction.atomic():
                quote.save()
            break
        except IntegrityError:
            quote.pk = None
    else:
        raise Conflict(_("Could not give the quote a number; try again."))
    audit.record(actor, "quote.created", quote, changes=audit.snapshot(quote, ["number", "deal", *QUOTE_FIELDS]))
    events.emit("quote.created", client_id=quote.client_id, payload={"quote_id": quote.pk, "deal_id": deal.pk,
                                                                     "client_id": quote.client_id})
    return quote


def _draft(quote: Quote) -> None:
    if not quote.is_draft:
        raise Conflict(DRAFT_ONLY)


@transaction.atomic
def quote_update(*, actor: Any, quote: Quote, data: dict[str, Any]) -> Quote:
    """Change a draft quote: recipient, offering, dates, introduction, unit counts."""
    require_selling(actor, "change")
    _draft(quote)
    _check_quote_refs(quote, data)
    before = audit.snapshot(quote)
    apply_fields(quote, QUOTE_FIELDS, data)
    _check_quote(quote)
    quote.save()
    changes = audit.diff(before, audit.snapshot(quote))
    if changes:
        audit.record(actor, "quote.updated", quote, changes=changes)
    return quote


@transaction.atomic
def quote_addon_add(*, actor: Any, quote: Quote, data: dict[str, Any]) -> QuoteAddOn:
    """Offer an à la carte catalog service on a draft quote."""
    require_selling(actor, "change")
    _draft(quote)
    service_id = data.get("service_id")
    if service_id is None or not Service.objects.filter(pk=service_id, is_addon=True, active=True).exists():
        raise ValidationError(_("Choose an active add-on service of the catalog."), field="service")
    data = dict(data)
    data["quantity"] = _decimal(data.get("quantity"), "quantity")
    if data["quantity"] is None:
        data["quantity"] = Decimal(1)
    data["unit_price"] = _decimal(data.get("unit_price"), "unit_price")
    addon = QuoteAddOn(client_id=quote.client_id, quote=quote)
    apply_fields(addon, ADDON_FIELDS, data)
    _refuse_negative(addon, ("quantity",), NEGATIVE_QUANTITY)
    _refuse_negative(addon, ("unit_price",))
    clean_or_raise(addon)
    save_or_unique_error(addon, unique_message=_("This quote already has this add-on."), unique_field="service")
    audit.record(actor, "quote_addon.created", addon, changes=audit.snapshot(addon, list(ADDON_FIELDS)))
    return addon


@transaction.atomic
def quote_addon_remove(*, actor: Any, addon: QuoteAddOn) -> None:
    """Take an add-on off a draft quote."""
    require_selling(actor, "change")
    _draft(addon.quote)
    snapshot, pk, client_id = audit.snapshot(addon), addon.pk, addon.client_id
    addon.delete()
    audit.record(actor, "quote_addon.deleted", object_type="sales.quoteaddon", object_id=str(pk),
                 client_id=client_id, changes=snapshot)


@transaction.atomic
def quote_item_add(*, actor: Any, quote: Quote, data: dict[str, Any]) -> QuoteItem:
    """Add a one-off line (e.g. an onboarding project) to a draft quote."""
    require_selling(actor, "change")
    _draft(quote)
    data = dict(data)
    data["quantity"] = _decimal(data.get("quantity"), "quantity")
    data["unit_price"] = _decimal(data.get("unit_price"), "unit_price")
    if data["unit_price"] is None:
        raise ValidationError(_("Enter the unit price."), field="unit_price")
    if data["quantity"] is None:
        data["quantity"] = Decimal(1)
    item = QuoteItem(client_id=quote.client_id, quote=quote)
    apply_fields(item, ITEM_FIELDS, data)
    _refuse_negative(item, ("quantity",), NEGATIVE_QUANTITY)
    _refuse_negative(item, ("unit_price",))
    if item.quantity == 0:
        raise ValidationError(_("The quantity must be more than 0."), field="quantity")
    clean_or_raise(item)
    item.save()
    audit.record(actor, "quote_item.created", item, changes=audit.snapshot(item, list(ITEM_FIELDS)))
    return item


@transaction.atomic
def quote_item_remove(*, actor: Any, item: QuoteItem) -> None:
    """Take a one-off line off a draft quote."""
    require_selling(actor, "change")
    _draft(item.quote)
    snapshot, pk, client_id = audit.snapshot(item), item.pk, item.client_id
    item.delete()
    audit.record(actor, "quote_item.deleted", object_type="sales.quoteitem", object_id=str(pk),
                 client_id=client_id, changes=snapshot)


@transaction.atomic
def quote_send(*, actor: Any, quote: Quote) -> Quote:
    """Send a draft quote to the client: it appears in their portal; the deal moves to the proposal stage."""
    require_selling(actor, "change")
    quote = Quote.objects.select_for_update(of=("self",)).select_related("deal").get(pk=quote.pk)
    _draft(quote)
    if not offering_plans(quote.offering_id):
        raise ValidationError(_("This offering has no active plan to quote."), field="offering")
    if quote.valid_until < timezone.localdate():
        raise ValidationError(_("The validity date cannot be in the past."), field="valid_until")
    if not quote.deal.is_open:
        raise Conflict(_("This deal is closed: open a new deal to quote again."))
    quote.status, quote.sent_at = QuoteStatus.SENT, timezone.now()
    quote.sent_by = actor if getattr(actor, "pk", None) else None
    quote.save(update_fields=["status", "sent_at", "sent_by", "updated_at"])
    audit.record(actor, "quote.sent", quote, changes={"status": ["draft", "sent"]})
    if quote.deal.stage == DealStage.QUALIFICATION:
        deal = quote.deal
        deal.stage = DealStage.PROPOSAL
        deal.save(update_fields=["stage", "updated_at"])
        audit.record(actor, "deal.updated", deal, changes={"stage": ["qualification", "proposal"]})
    events.emit("quote.sent", client_id=quote.client_id, payload={
        "quote_id": quote.pk, "deal_id": quote.deal_id, "client_id": quote.client_id,
        "contact_id": quote.contact_id})
    return quote


def _answerable(quote: Quote) -> None:
    if quote.status == QuoteStatus.ACCEPTED:
        raise Conflict(_("This quote has already been accepted."))
    if quote.status != QuoteStatus.SENT:
        raise Conflict(_("Only a sent quote can be accepted or declined."))
    if quote.valid_until < timezone.localdate():
        raise Conflict(_("This quote expired on %(date)s: ask for a new one.") % {
            "date": quote.valid_until.isoformat()})


@transaction.atomic
def quote_decline(*, actor: Any, quote: Quote, reason: str = "") -> Quote:
    """Record that the client declined a sent quote (the deal stays open for another quote)."""
    _require_answer(actor, quote)
    quote = Quote.objects.select_for_update(of=("self",)).get(pk=quote.pk)
    _answerable(quote)
    reason = (reason or "").strip()
    if len(reason) > 2000:
        raise ValidationError(_("This text is too long."), field="reason")
    quote.status, quote.declined_at, quote.decline_reason = QuoteStatus.DECLINED, timezone.now(), reason
    quote.save(update_fields=["status", "declined_at", "decline_reason", "updated_at"])
    audit.record(actor, "quote.declined", quote, changes={"status": ["sent", "declined"], "reason": reason})
    events.emit("quote.declined", client_id=quote.client_id, payload={
        "quote_id": quote.pk, "deal_id": quote.deal_id, "client_id": quote.client_id})
    return quote


def _require_answer(actor: Any, quote: Quote) -> None:
    """Staff who sell, or the portal administrator of the quote's own company."""
    if getattr(actor, "is_portal", False):
        if not has_privilege(actor, "quotes.accept"):
            raise PermissionDenied()
        if getattr(actor, "client_id", None) != quote.client_id:
            raise NotFound()
        return
    require_selling(actor, "change")


def _authority(actor: Any, quote: Quote) -> Any:
    """Who the contract is made by: staff accepting on the client's behalf act on their own right; a portal
    administrator's acceptance is carried out on the authority of the staff member who sent the quote."""
    if not getattr(actor, "is_portal", False):
        require(actor, "contracts", "add")
        return actor
    sender = quote.sent_by
    if (sender is None or not sender.is_active or sender.role not in STAFF_ROLES
            or not has_capability(sender, "contracts", "add") or not has_capability(sender, "contracts", "change")):
        raise Conflict(_("This quote cannot be accepted online any more; please contact your account manager."))
    return sender


def _managed_contract_in_force(quote: Quote) -> Contract | None:
    """The client's signed client-wide managed-services contract that the quote's start date falls in, if any (a
    draft one is left to the contracts app's overlap check, which says which contract is in the way)."""
    return (Contract.objects.select_for_update(of=("self",)).filter(
        client_id=quote.client_id, type=ContractType.MANAGED, site__isnull=True,
        status=ContractStatus.ACTIVE)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=quote.start_date)).order_by("start_date", "pk").first())


def _label(user: Any) -> str:
    return f"{user} <{getattr(user, 'email', '')}>"


@transaction.atomic
def quote_accept(*, actor: Any, quote: Quote, tier: str) -> Quote:
    """Accept a sent quote in one tier: the deal is won and the contract made — a new contract with the tier's
    plan and the quote's add-ons, signed (which applies the tier's baseline); or, for a client already under a
    managed-services contract, an addendum to it from the quote's start date. `quote.accepted` carries the
    one-off items for billing. A quote is accepted once: a second attempt is a Conflict and changes nothing."""
    _require_answer(actor, quote)
    quote = Quote.objects.select_for_update(of=("self",)).select_related(
        "client", "deal", "offering", "sent_by").get(pk=quote.pk)
    _answerable(quote)
    if tier not in Tier.values:
        raise ValidationError(_("Choose a tier: good, better or best."), field="tier")
    plan = next((p for p in offering_plans(quote.offering_id) if p.tier == tier), None)
    if plan is None:
        raise ValidationError(_("This quote has no %(tier)s tier.") % {"tier": Tier(tier).label}, field="tier")
    authority = _authority(actor, quote)
    addons = list(quote.addons.select_related("service").order_by("service__name", "pk"))
    items = list(quote.items.order_by("pk"))
    accepted_on = timezone.localdate()
    who = _label(actor)
    note = str(_("From quote %(number)s, %(tier)s tier, accepted on %(date)s by %(who)s.") % {
        "number": quote.number, "tier": Tier(tier).label, "date": accepted_on.isoformat(), "who": who})
    if authority is not actor:
        note += " " + str(_("Made on the authority of the quote sent by %(sender)s.") % {
            "sender": _label(authority)})
    existing = _managed_contract_in_force(quote)
    if existing is not None:
        contract = existing
        effective = max(quote.start_date, existing.start_date)
        contract_services.addendum_create(actor=authority, contract=existing, data={
            "effective_date": effective, "description": note, "new_plan_id": plan.pk,
            "addon_changes": [{"service_id": a.service_id, "per_unit": a.per_unit, "quantity": a.quantity,
                               "unit_price": a.unit_price} for a in addons]})
        path = "addendum"
    else:
        contract = contract_services.contract_create(actor=authority, client=quote.client, data={
            "type": ContractType.MANAGED, "plan_id": plan.pk, "start_date": quote.start_date,
            "title": plan.name[:200], "notes": note})
        for addon in addons:
            contract_services.addon_create(actor=authority, contract=contract, data={
                "service_id": addon.service_id, "per_unit": addon.per_unit, "quantity": addon.quantity,
                "unit_price": addon.unit_price})
        contract = contract_services.contract_sign(actor=authority, contract=contract)
        path = "contract"
    quote.status, quote.accepted_at, quote.accepted_tier, quote.accepted_plan = (
        QuoteStatus.ACCEPTED, timezone.now(), tier, plan)
    quote.accepted_by = actor if getattr(actor, "pk", None) else None
    quote.contract = contract
    quote.save(update_fields=["status", "accepted_at", "accepted_by", "accepted_tier", "accepted_plan", "contract",
                              "updated_at"])
    changes: dict[str, Any] = {"status": ["sent", "accepted"], "tier": tier, "plan": plan.pk,
                               "contract": contract.pk, "made_as": path}
    if authority is not actor:
        changes["authority"] = {"user": authority.pk, "label": _label(authority), "why": "quote sent by"}
    audit.record(actor, "quote.accepted", quote, changes=changes)
    deal = Deal.objects.select_for_update().get(pk=quote.deal_id)
    if deal.is_open:
        _close(actor, deal, DealStage.WON, str(_("Quote %(number)s accepted (%(tier)s).") % {
            "number": quote.number, "tier": Tier(tier).label}), contract=contract)
    events.emit("quote.accepted", client_id=quote.client_id, payload={
        "quote_id": quote.pk, "deal_id": quote.deal_id, "contract_id": contract.pk, "client_id": quote.client_id,
        "tier": tier,
        "one_off_items": [{"index": i, "description": item.description, "quantity": str(item.quantity),
                           "unit_price": str(item.unit_price)} for i, item in enumerate(items)]})
    return quote


def expire_quotes(today: date | None = None) -> int:
    """Mark sent quotes past their validity date as expired (daily; a conditional update, safe to run twice)."""
    today = today or timezone.localdate()
    expired = 0
    for quote_id in list(Quote.objects.filter(status=QuoteStatus.SENT, valid_until__lt=today)
                         .values_list("pk", flat=True)[:1000]):
        with transaction.atomic():
            if not Quote.objects.filter(pk=quote_id, status=QuoteStatus.SENT).update(
                    status=QuoteStatus.EXPIRED, updated_at=timezone.now()):
                continue
            quote = Quote.objects.get(pk=quote_id)
            audit.record(None, "quote.expired", quote, changes={"status": ["sent", "expired"],
                                                                "valid_until": quote.valid_until.isoformat()})
            events.emit("quote.expired", client_id=quote.client_id, payload={
                "quote_id": quote.pk, "deal_id": quote.deal_id, "client_id": quote.client_id})
            expired += 1
    return expired
