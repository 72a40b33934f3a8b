"""A ticket's SLA clocks: targets copied from the contract's SLA policy at opening, counted in business time
of the contract's calendar; waiting statuses pause the clocks and push the due times back by the paused
business time. Pure bookkeeping on a Ticket instance: the services save it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from tenfold.contracts.businesstime import add_business_time, business_seconds_between
from tenfold.contracts.models import BusinessCalendar, Contract, ContractStatus, ContractType, SlaPolicy
from tenfold.contracts.selectors import default_sla_policy
from tenfold.core.errors import NotFound
from tenfold.servicedesk.models import Ticket

# Order in which a ticket's contract is picked (lower first).
CONTRACT_PREFERENCE = {ContractType.MANAGED: 0, ContractType.BLOCK_HOURS: 1, ContractType.TIME_MATERIALS: 2,
                       ContractType.FIXED_PRICE: 3}


def contracts_in_force(client_id: int, on: date | None = None) -> list[Contract]:
    """A client's active contracts on a day, in the order a ticket would pick them."""
    day = on or timezone.localdate()
    rows = list(Contract.objects.filter(client_id=client_id, status=ContractStatus.ACTIVE, start_date__lte=day)
                .filter(Q(end_date__isnull=True) | Q(end_date__gte=day))
                .select_related("sla_policy", "sla_policy__calendar", "calendar", "rounding_rule")
                .order_by("-start_date", "-pk"))
    rows.sort(key=lambda c: CONTRACT_PREFERENCE.get(ContractType(c.type), 9))
    return rows


def pick_contract(client_id: int, device_ids: list[int] | None = None, on: date | None = None) -> Contract | None:
    """The contract a new ticket links to: the managed-services contract covering one of its devices, else the
    client's managed-services contract, else block hours, else time and materials (else any in force)."""
    contracts = contracts_in_force(client_id, on)
    if device_ids:
        managed = [c for c in contracts if c.type == ContractType.MANAGED]
        covering = set(Contract.objects.filter(pk__in=[c.pk for c in managed], coverage__device_id__in=device_ids,
                                               coverage__ended_at__isnull=True).values_list("pk", flat=True))
        for contract in managed:
            if contract.pk in covering:
                return contract
    return contracts[0] if contracts else None


@dataclass(frozen=True)
class Terms:
    """The policy and calendar a ticket's clocks run on."""

    policy: SlaPolicy
    calendar: BusinessCalendar


def terms_for(contract: Contract | None) -> Terms | None:
    """The contract's SLA policy and calendar (contract calendar → policy calendar), the default policy without
    a contract or policy; None when the MSP has no default policy either."""
    policy = contract.sla_policy if contract is not None and contract.sla_policy_id else None
    if policy is None:
        try:
            policy = default_sla_policy()
        except NotFound:
            return None
    calendar: BusinessCalendar = policy.calendar
    if contract is not None and contract.calendar is not None:
        calendar = contract.calendar
    return Terms(policy=policy, calendar=calendar)


def start(ticket: Ticket, terms: Terms | None, at: datetime) -> None:
    """Start (or restart, after the priority or contract changed) the clocks from `at` with the terms' targets
    for the ticket's priority; pause bookkeeping is kept."""
    if terms is None:
        ticket.sla_policy = None
        ticket.sla_calendar = None
        ticket.first_response_target_minutes = ticket.resolution_target_minutes = None
        ticket.first_response_due_at = ticket.resolution_due_at = None
        ticket.first_response_warn_at = ticket.resolution_warn_at = None
        return
    first, resolution = terms.policy.targets(ticket.priority)
    ticket.sla_policy = terms.policy
    ticket.sla_calendar = terms.calendar
    ticket.sla_warning_pct = terms.policy.warning_threshold_pct
    ticket.first_response_target_minutes = first
    ticket.resolution_target_minutes = resolution
    if ticket.sla_started_at is None:
        ticket.sla_started_at = at
    recompute(ticket)


def _calendar(ticket: Ticket) -> Any:
    calendar = ticket.sla_calendar
    return calendar.spec() if calendar is not None else None


def recompute(ticket: Ticket) -> None:
    """Due and warning times from the start, the targets and the business time paused so far. A clock that
    already stopped (responded, resolved) keeps its due time."""
    spec = _calendar(ticket)
    if spec is None or ticket.sla_started_at is None:
        return
    start_at, paused, share = ticket.sla_started_at, ticket.paused_seconds, ticket.sla_warning_pct
    if ticket.first_response_target_minutes is not None and ticket.first_responded_at is None:
        seconds = ticket.first_response_target_minutes * 60
        ticket.first_response_due_at = add_business_time(spec, start_at, seconds + paused)
        ticket.first_response_warn_at = add_business_time(spec, start_at, seconds * share // 100 + paused)
    if ticket.resolution_target_minutes is not None and ticket.resolved_at is None:
        seconds = ticket.resolution_target_minutes * 60
        ticket.resolution_due_at = add_business_time(spec, start_at, seconds + paused)
        ticket.resolution_warn_at = add_business_time(spec, start_at, seconds * share // 100 + paused)


def pause(ticket: Ticket, at: datetime) -> None:
    """Stop the clocks (waiting on someone, or resolved)."""
    if ticket.paused_at is None:
        ticket.paused_at = at


def resume(ticket: Ticket, at: datetime) -> None:
    """Restart the clocks: the business time they stood still moves the due times back by as much."""
    if ticket.paused_at is None:
        return
    spec = _calendar(ticket)
    if spec is not None:
        ticket.paused_seconds += business_seconds_between(spec, ticket.paused_at, at)
    ticket.paused_at = None
    recompute(ticket)


def used_seconds(ticket: Ticket, at: datetime) -> int | None:
    """Business seconds the clock ran between opening and `at`, pauses excluded (None without an SLA)."""
    spec = _calendar(ticket)
    if spec is None or ticket.sla_started_at is None:
        return None
    used = business_seconds_between(spec, ticket.sla_started_at, at) - ticket.paused_seconds
    if ticket.paused_at is not None and ticket.paused_at < at:
        used -= business_seconds_between(spec, ticket.paused_at, at)
    return max(used, 0)


def record_first_response(ticket: Ticket, at: datetime) -> None:
    """The first public answer: whether it came within the first-response target."""
    if ticket.first_responded_at is not None:
        return
    ticket.first_responded_at = at
    used = used_seconds(ticket, at)
    if used is not None and ticket.first_response_target_minutes is not None:
        ticket.sla_first_response_met = used <= ticket.first_response_target_minutes * 60


def record_resolution(ticket: Ticket, at: datetime) -> None:
    """The ticket resolved: whether within the resolution target (and the first response, if never answered)."""
    used = used_seconds(ticket, at)
    ticket.resolved_at = at
    if used is None:
        return
    if ticket.resolution_target_minutes is not None:
        ticket.sla_resolution_met = used <= ticket.resolution_target_minutes * 60
    if ticket.first_responded_at is None and ticket.first_response_target_minutes is not None:
        # Resolving answers the request: the first response is measured then too.
        ticket.first_responded_at = at
        ticket.sla_first_response_met = used <= ticket.first_response_target_minutes * 60


def state(ticket: Ticket, at: datetime | None = None) -> str:
    """One word for lists and filters: none, met, missed, breached, warning, paused, ok."""
    at = at or timezone.now()
    if ticket.sla_started_at is None or ticket.resolution_due_at is None:
        return "none"
    if ticket.resolved_at is not None:
        ok = ticket.sla_resolution_met is not False and ticket.sla_first_response_met is not False
        return "met" if ok else "missed"
    if ticket.sla_first_response_breached or ticket.sla_resolution_breached or ticket.sla_first_response_met is False:
        return "breached"
    if ticket.paused_at is not None:
        return "paused"
    if ticket.sla_first_response_warned or ticket.sla_resolution_warned:
        return "warning"
    return "ok"


SLA_STATES = ("ok", "warning", "breached", "paused", "met", "missed", "none")


def state_filter(value: str) -> Q:
    """The ORM filter equivalent to `state(ticket) == value`."""
    breached = Q(sla_first_response_breached=True) | Q(sla_resolution_breached=True) | Q(sla_first_response_met=False)
    running = Q(sla_started_at__isnull=False, resolution_due_at__isnull=False, resolved_at__isnull=True)
    if value == "none":
        return Q(sla_started_at__isnull=True) | Q(resolution_due_at__isnull=True)
    if value == "met":
        return (Q(resolved_at__isnull=False, resolution_due_at__isnull=False) & ~Q(sla_resolution_met=False)
                & ~Q(sla_first_response_met=False))
    if value == "missed":
        return (Q(resolved_at__isnull=False, resolution_due_at__isnull=False)
                & (Q(sla_resolution_met=False) | Q(sla_first_response_met=False)))
    if value == "breached":
        return running & breached
    if value == "paused":
        return running & ~breached & Q(paused_at__isnull=False)
    if value == "warning":
        return (running & ~breached & Q(paused_at__isnull=True)
                & (Q(sla_first_response_warned=True) | Q(sla_resolution_warned=True)))
    if value == "ok":
        return (running & ~breached & Q(paused_at__isnull=True) & Q(sla_first_response_warned=False)
                & Q(sla_resolution_warned=False))
    raise ValueError(value)
