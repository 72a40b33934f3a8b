"""Sales services: quote prices per tier (exact Decimals), acceptance making exactly one contract (plan, add-ons,
baseline), the portal administrator's acceptance and its authority, leads from tickets (idempotent), conversion,
and the refusals that change nothing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tenfold.accounts.testing import make_portal_user, make_staff
from tenfold.catalog.pricing import UnitCounts
from tenfold.clients.models import Contact
from tenfold.contracts.models import Contract, ContractAddendum, ContractAddOn
from tenfold.contracts.services import contract_create, contract_sign
from tenfold.core import events
from tenfold.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from tenfold.core.models import AuditEntry, OutboxEvent
from tenfold.monitoring.models import ClientBaseline
from tenfold.sales import selectors, services
from tenfold.sales.models import Deal, Lead, Quote, QuoteAddOn, QuoteItem
from tenfold.sales.tests.factories import make_catalog, make_client, make_deal, make_quote
from tenfold.servicedesk.models import Ticket
from tenfold.servicedesk.services import ticket_flag_opportunity

pytestmark = pytest.mark.django_db


def _priced_quote(status: str = "draft") -> tuple[Quote, dict[str, object]]:
    parts = make_catalog()
    deal = make_deal(make_client())
    quote = make_quote(deal, parts["offering"], status=status)
    QuoteAddOn.objects.create(client=deal.client, quote=quote, service=parts["m365"], unit_price=Decimal("3.20"))
    QuoteAddOn.objects.create(client=deal.client, quote=quote, service=parts["dark_web"], per_unit=False,
                              quantity=Decimal("1.5"))
    QuoteItem.objects.create(client=deal.client, quote=quote, description="Onboarding project",
                             quantity=Decimal("1"), unit_price=Decimal("1800.00"))
    QuoteItem.objects.create(client=deal.client, quote=quote, description="Firewall appliance",
                             quantity=Decimal("3"), unit_price=Decimal("249.90"))
    return quote, parts


def _state() -> tuple[int, ...]:
    return (Quote.objects.count(), QuoteAddOn.objects.count(), QuoteItem.objects.count(), Contract.objects.count(),
            ContractAddOn.objects.count(), AuditEntry.objects.count(), OutboxEvent.objects.count(),
            ClientBaseline.objects.count(), Deal.objects.filter(stage="won").count())


# --- Prices --------------------------------------------------------------------------------------------------


def test_each_tier_is_priced_at_the_quote_counts_with_the_add_ons_rounded_once() -> None:
    # given 12 workstations, 2 servers, 15 users; M365 backup at 3.20 per user; dark-web watch 1.5 × 49.99
    quote, _parts = _priced_quote()
    # when the quote is priced
    pricing = selectors.quote_pricing(quote)
    # then Good = 12×25 + 2×60 + 15×3.20 + 74.985 = 542.985 → 542.99; Better +12×(6+4); Best +2×55
    totals = {tier.plan.tier: tier.monthly_total for tier in pricing.tiers}
    assert totals == {"good": Decimal("542.99"), "better": Decimal("662.99"), "best": Decimal("772.99")}
    assert [line.name for line in pricing.tier("better").lines] == [  # type: ignore[union-attr]
        "Server monitoring", "Workstation monitoring", "Antivirus", "Patching", "Microsoft 365 backup",
        "Dark web watch"]
    # and the one-off items: 1800.00 + 3 × 249.90
    assert pricing.one_off_total == Decimal("2549.70")
    assert pricing.counts == UnitCounts(workstations=12, servers=2, users=15, sites=1)


def test_a_new_quote_takes_the_clients_live_counts() -> None:
    # given 12 workstations (laptops count as workstations), 2 servers, a retired PC, 3 contacts, 1 site
    parts = make_catalog()
    deal = make_deal(make_client())
    # when a quote is drafted without counts
    quote = services.quote_create(actor=deal.owner, deal=deal, data={"offering_id": parts["offering"].pk})
    # then it is priced at the live counts (the retired PC left out) and numbered
    assert selectors.quote_counts(quote) == UnitCounts(workstations=12, servers=2, users=3, sites=1)
    assert quote.number == f"Q-{timezone.localdate().year}-0001"
    assert quote.status == "draft" and quote.client_id == deal.client_id
    assert selectors.quote_pricing(quote).tier("good").monthly_total == Decimal("420.00")  # type: ignore[union-attr]


# --- Acceptance ----------------------------------------------------------------------------------------------


def test_accepting_makes_exactly_one_signed_contract_with_the_plan_add_ons_and_baseline() -> None:
    # given a sent quote, accepted by the account manager on the client's behalf in the Better tier
    quote, parts = _priced_quote(status="sent")
    manager = quote.deal.owner
    # when accepted
    services.quote_accept(actor=manager, quote=quote, tier="better")
    # then one contract, signed, on the Better plan, with both add-ons, from the quote's start date
    contract = Contract.objects.get()
    assert (contract.client_id, contract.plan_id, contract.status, contract.type) == (
        quote.client_id, parts["better"].pk, "active", "managed")  # type: ignore[attr-defined]
    assert contract.start_date == quote.start_date and contract.signed_by == manager
    addons = {(a.service.code, a.per_unit, a.quantity, a.unit_price) for a in contract.addons.all()}
    assert addons == {("m365-backup", True, Decimal("1.00"), Decimal("3.20")),
                      ("dark-web", False, Decimal("1.50"), None)}
    # and the Better baseline is applied on the contract's authority
    assert ClientBaseline.objects.get(client=quote.client).tier == "better"
    baseline = AuditEntry.objects.get(action="baseline.applied")
    assert baseline.changes == {"tier": [None, "better"], "authority": f"contract {contract.number}"}
    # and the quote and deal record it
    quote.refresh_from_db()
    deal = Deal.objects.get(pk=quote.deal_id)
    assert (quote.status, quote.accepted_tier, quote.contract_id, quote.accepted_by) == (
        "accepted", "better", contract.pk, manager)
    assert (deal.stage, deal.contract_id) == ("won", contract.pk)
    # and billing hears of the one-off items
    event = OutboxEvent.objects.get(name="quote.accepted")
    assert event.payload == {
        "quote_id": quote.pk, "deal_id": deal.pk, "contract_id": contract.pk, "client_id": quote.client_id,
        "tier": "better", "one_off_items": [
            {"index": 0, "description": "Onboarding project", "quantity": "1.00", "unit_price": "1800.00"},
            {"index": 1, "description": "Firewall appliance", "quantity": "3.00", "unit_price": "249.90"}]}
    # when accepted a second time, in any tier
    before = _state()
    with pytest.raises(Conflict):
        services.quote_accept(actor=manager, quote=Quote.objects.get(pk=quote.pk), tier="best")
    # then nothing more: still one contract
    assert _state() == before


def test_a_portal_administrator_accepts_on_the_senders_authority_and_the_audit_says_so() -> None:
    # given a quote sent by the account manager, and the client's portal administrator
    quote, parts = _priced_quote(status="sent")
    sender = quote.sent_by
    admin = make_portal_user(quote.client, "portal_admin", email="claire@boulangerie.example")
    # when the portal administrator accepts the Good tier
    services.quote_accept(actor=admin, quote=quote, tier="good")
    # then the contract is made and signed under the sender's right
    contract = Contract.objects.get()
    assert contract.plan_id == parts["good"].pk and contract.signed_by == sender  # type: ignore[attr-defined]
    assert ClientBaseline.objects.get(client=quote.client).tier == "good"
    # and the audit log names the portal administrator as the one who accepted, the sender as the authority
    accepted = AuditEntry.objects.get(action="quote.accepted")
    assert accepted.actor_id == admin.pk
    assert accepted.changes["authority"]["user"] == sender.pk  # type: ignore[union-attr]
    created = AuditEntry.objects.get(action="contract.created")
    assert created.actor_id == sender.pk  # type: ignore[union-attr]
    assert "claire@boulangerie.example" in created.changes["notes"]
    assert Quote.objects.get(pk=quote.pk).accepted_by == admin
    # and the portal administrator's own rights did not change
    admin.refresh_from_db()
    assert admin.role == "portal_admin"


def test_portal_users_cannot_accept_anothers_quote_a_draft_or_without_the_right() -> None:
    quote, _parts = _priced_quote(status="sent")
    other = make_client("Cabinet Dupuis")
    draft = make_quote(quote.deal, quote.offering)
    before = _state()
    # a portal user (not administrator) of the client: 403
    with pytest.raises(PermissionDenied):
        services.quote_accept(actor=make_portal_user(quote.client, "portal_user"), quote=quote, tier="good")
    # another company's portal administrator: 404, by the selector and by the service
    stranger = make_portal_user(other, "portal_admin")
    with pytest.raises(NotFound):
        selectors.portal_quote(stranger, quote.pk)
    with pytest.raises(NotFound):
        services.quote_accept(actor=stranger, quote=quote, tier="good")
    # a draft is not the client's to see
    with pytest.raises(NotFound):
        selectors.portal_quote(make_portal_user(quote.client, "portal_admin"), draft.pk)
    # staff without the right to sell (service manager: read only)
    with pytest.raises(PermissionDenied):
        services.quote_accept(actor=make_staff("service_manager", mfa=False), quote=quote, tier="good")
    assert _state()[:5] == before[:5] and _state()[7:] == before[7:]
    assert Quote.objects.get(pk=quote.pk).status == "sent"


def test_portal_acceptance_is_refused_when_the_sender_can_no_longer_commit() -> None:
    quote, _parts = _priced_quote(status="sent")
    sender = quote.sent_by
    sender.is_active = False  # type: ignore[union-attr]
    sender.save()  # type: ignore[union-attr]
    admin = make_portal_user(quote.client, "portal_admin")
    before = _state()
    with pytest.raises(Conflict):
        services.quote_accept(actor=admin, quote=Quote.objects.get(pk=quote.pk), tier="good")
    assert _state() == before
    assert Quote.objects.get(pk=quote.pk).status == "sent"


def test_an_expired_quote_cannot_be_accepted_and_expires_once() -> None:
    quote, _parts = _priced_quote(status="sent")
    Quote.objects.filter(pk=quote.pk).update(valid_until=timezone.localdate() - timedelta(days=1))
    before = _state()
    with pytest.raises(Conflict):
        services.quote_accept(actor=quote.deal.owner, quote=Quote.objects.get(pk=quote.pk), tier="good")
    assert _state() == before
    assert services.expire_quotes() == 1
    assert services.expire_quotes() == 0
    assert Quote.objects.get(pk=quote.pk).status == "expired"


def test_a_client_under_contract_gets_an_addendum_not_a_second_contract() -> None:
    # given a client already on a signed Good contract since January
    quote, parts = _priced_quote(status="sent")
    admin_user = make_staff("admin", mfa=False)
    current = contract_create(actor=admin_user, client=quote.client, data={
        "type": "managed", "plan_id": parts["good"].pk, "start_date": date(2026, 1, 1)})  # type: ignore[attr-defined]
    contract_sign(actor=admin_user, contract=current)
    # when the upsell quote is accepted in the Best tier
    services.quote_accept(actor=quote.deal.owner, quote=quote, tier="best")
    # then the same contract moves to the Best plan through an addendum, with the add-ons; no second contract
    assert Contract.objects.count() == 1
    current.refresh_from_db()
    assert current.plan_id == parts["best"].pk  # type: ignore[attr-defined]
    addendum = ContractAddendum.objects.get(contract=current)
    assert addendum.status == "applied" and addendum.new_plan_id == parts["best"].pk  # type: ignore[attr-defined]
    assert {a.service.code for a in current.addons.all()} == {"m365-backup", "dark-web"}
    assert ClientBaseline.objects.get(client=quote.client).tier == "best"
    assert Quote.objects.get(pk=quote.pk).contract_id == current.pk


# --- Leads ---------------------------------------------------------------------------------------------------


def test_a_flagged_ticket_makes_one_lead_however_often_the_event_is_delivered() -> None:
    # given a technician who flags an opportunity on a ticket
    client = make_client()
    tech = make_staff("technician", mfa=False)
    ticket = Ticket.objects.create(client=client, title="Printer offline", number="T-000042")
    ticket_flag_opportunity(actor=tech, ticket=ticket, note="Their firewall is out of support.")
    event = OutboxEvent.objects.get(name="ticket.opportunity_flagged")
    # when the event is delivered, then delivered again (at least once), and the handler runs a third time
    events.deliver_pending()
    services.lead_from_ticket(event)
    OutboxEvent.objects.filter(pk=event.pk).update(delivered_at=None)
    events.deliver_pending()
    # then one lead, for the ticket's client, credited to the technician
    lead = Lead.objects.get()
    assert (lead.client_id, lead.ticket_id, lead.technician_id, lead.source, lead.status) == (
        client.pk, ticket.pk, tech.pk, "ticket", "open")
    assert lead.note == "Their firewall is out of support."
    assert lead.title == "Opportunity on ticket T-000042"


def test_converting_a_technicians_lead_credits_them_on_the_deal() -> None:
    client = make_client()
    tech = make_staff("technician", mfa=False)
    lead = services.lead_create(actor=tech, client=client, data={"title": "Backup for the NAS", "note": ""})
    assert lead.technician_id == tech.pk
    manager = make_staff("account_manager", mfa=False)
    deal = services.lead_convert(actor=manager, lead=lead, data={
        "monthly_value": Decimal("120.00"), "close_date": date(2026, 10, 1)})
    assert (deal.client_id, deal.source, deal.credited_technician_id, deal.owner_id, deal.lead_id, deal.title) == (
        client.pk, "technician_lead", tech.pk, manager.pk, lead.pk, "Backup for the NAS")
    assert Lead.objects.get(pk=lead.pk).status == "converted"
    with pytest.raises(Conflict):
        services.lead_convert(actor=manager, lead=lead, data={"close_date": date(2026, 10, 1)})
    assert Deal.objects.count() == 1


def test_a_technician_enters_leads_but_not_deals_or_quotes() -> None:
    parts = make_catalog()
    client = make_client()
    tech = make_staff("technician", mfa=False)
    deal = make_deal(client)
    with pytest.raises(PermissionDenied):
        services.deal_create(actor=tech, client=client, data={"title": "Mine", "close_date": date(2026, 9, 1)})
    with pytest.raises(PermissionDenied):
        services.quote_create(actor=tech, deal=deal, data={"offering_id": parts["offering"].pk})
    with pytest.raises(PermissionDenied):
        services.lead_convert(actor=tech, lead=Lead.objects.create(client=client, title="x"), data={})
    assert Deal.objects.count() == 1 and Quote.objects.count() == 0


def test_dismissing_a_lead_needs_a_reason_and_losing_a_deal_too() -> None:
    client = make_client()
    manager = make_staff("account_manager", mfa=False)
    lead = Lead.objects.create(client=client, title="Wi-Fi upgrade")
    with pytest.raises(ValidationError):
        services.lead_dismiss(actor=manager, lead=lead, reason="  ")
    assert Lead.objects.get(pk=lead.pk).status == "open"
    services.lead_dismiss(actor=manager, lead=lead, reason="Bought elsewhere")
    deal = make_deal(client, owner=manager)
    with pytest.raises(ValidationError):
        services.deal_close(actor=manager, deal=deal, outcome="lost", reason="")
    services.deal_close(actor=manager, deal=deal, outcome="lost", reason="Price")
    deal.refresh_from_db()
    assert (deal.stage, deal.outcome_reason) == ("lost", "Price")
    with pytest.raises(Conflict):
        services.deal_update(actor=manager, deal=deal, data={"title": "Reopened"})


# --- Validation ----------------------------------------------------------------------------------------------


def test_negative_quantities_and_prices_are_refused_and_change_nothing() -> None:
    quote, parts = _priced_quote()
    manager = quote.deal.owner
    before = _state()
    for data, field in (({"service_id": parts["m365"].pk, "quantity": "-1"}, "quantity"),  # type: ignore[attr-defined]
                        ({"service_id": parts["m365"].pk, "unit_price": "-0.01"}, "unit_price")):  # type: ignore[attr-defined]
        QuoteAddOn.objects.filter(quote=quote, service=parts["m365"]).delete()
        with pytest.raises(ValidationError) as error:
            services.quote_addon_add(actor=manager, quote=quote, data=data)
        assert field in error.value.errors
    QuoteAddOn.objects.create(client=quote.client, quote=quote, service=parts["m365"], unit_price=Decimal("3.20"))
    for data, field in (({"description": "x", "quantity": "-2", "unit_price": "10"}, "quantity"),
                        ({"description": "x", "quantity": "1", "unit_price": "-10"}, "unit_price")):
        with pytest.raises(ValidationError) as error:
            services.quote_item_add(actor=manager, quote=quote, data=data)
        assert error.value.errors[field] in (["Quantities cannot be negative."], ["Amounts cannot be negative."])
    with pytest.raises(ValidationError):
        services.deal_update(actor=manager, deal=quote.deal, data={"monthly_value": Decimal("-5")})
    assert _state()[1:3] == before[1:3]
    assert Deal.objects.get(pk=quote.deal_id).monthly_value == Decimal("0.00")


def test_another_clients_contact_or_deal_is_refused_with_a_clear_message() -> None:
    parts = make_catalog()
    deal = make_deal(make_client())
    other = make_client("Cabinet Dupuis")
    foreign = Contact.objects.filter(client=other).first()
    with pytest.raises(ValidationError) as error:
        services.quote_create(actor=deal.owner, deal=deal, data={"offering_id": parts["offering"].pk,
                                                                  "contact_id": foreign.pk})  # type: ignore[union-attr]
    assert error.value.errors == {"contact": ["Choose one of this client's contacts."]}
    with pytest.raises(ValidationError) as error:
        services.quote_create(actor=deal.owner, deal=deal, data={"offering_id": parts["offering"].pk,
                                                                  "client_id": other.pk})
    assert error.value.errors == {"deal": ["A quote is for its deal's client: this deal belongs to another client."]}
    with pytest.raises(ValidationError) as error:
        services.quote_create(actor=deal.owner, deal=deal, data={"offering_id": 999999})
    assert "offering" in error.value.errors
    assert Quote.objects.count() == 0


def test_a_sent_quote_is_fixed_and_an_unknown_tier_or_add_on_is_refused() -> None:
    quote, parts = _priced_quote(status="sent")
    manager = quote.deal.owner
    with pytest.raises(Conflict):
        services.quote_update(actor=manager, quote=quote, data={"workstations": 3})
    with pytest.raises(Conflict):
        services.quote_item_add(actor=manager, quote=quote, data={"description": "x", "unit_price": "1"})
    with pytest.raises(ValidationError):
        services.quote_accept(actor=manager, quote=quote, tier="platinum")
    draft = make_quote(quote.deal, quote.offering)
    with pytest.raises(ValidationError) as error:
        services.quote_addon_add(actor=manager, quote=draft, data={"service_id": parts["ws"].pk})  # type: ignore[attr-defined]
    assert error.value.errors == {"service": ["Choose an active add-on service of the catalog."]}
    assert Quote.objects.get(pk=quote.pk).workstations == 12 and Contract.objects.count() == 0


def test_sending_moves_the_deal_to_proposal() -> None:
    quote, _parts = _priced_quote()
    services.quote_send(actor=quote.deal.owner, quote=quote)
    quote.refresh_from_db()
    assert (quote.status, quote.sent_by) == ("sent", quote.deal.owner)
    assert Deal.objects.get(pk=quote.deal_id).stage == "proposal"
    assert OutboxEvent.objects.filter(name="quote.sent").count() == 1
