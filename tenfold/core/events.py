"""Domain events through an outbox: `emit` writes a row in the writer's transaction; the worker
delivers each row to its registered handlers at least once, and each handler applies it once.

A lower app emits (`client.created`); a higher app registers a handler in its `apps.py`:

    events.register("client.created", "billing.open_account", open_account)
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from tenfold.core.models import EventDelivery, OutboxEvent, as_jsonable

logger = logging.getLogger("tenfold.events")

Handler = Callable[[OutboxEvent], None]


@dataclass(frozen=True)
class Registration:
    """A handler registered for one event name under a stable name (the idempotence key)."""

    event: str
    name: str
    func: Handler


_registry: dict[str, list[Registration]] = {}
CLAIM_SECONDS = 120  # the default of settings.TENFOLD_OUTBOX_CLAIM_SECONDS
MAX_BACKOFF_SECONDS = 3600


def register(event: str, name: str, func: Handler) -> None:
    """Register `func` for `event`; `name` must stay stable across releases."""
    handlers = _registry.setdefault(event, [])
    if any(r.name == name for r in handlers):
        return
    handlers.append(Registration(event, name, func))


def unregister(event: str, name: str) -> None:
    """Remove a handler (tests)."""
    _registry[event] = [r for r in _registry.get(event, []) if r.name != name]


def handlers_for(event: str) -> list[Registration]:
    """The handlers registered for an event name."""
    return list(_registry.get(event, []))


def emit(name: str, *, payload: dict[str, Any] | None = None, client_id: int | None = None) -> OutboxEvent:
    """Record an event in the outbox, in the caller's transaction; delivery is kicked after commit."""
    event = OutboxEvent.objects.create(
        name=name, client_id=client_id,
        payload={k: as_jsonable(v) for k, v in (payload or {}).items()},
    )
    # One kick per transaction, however many events it records (a demo seed or an import emits many).
    pending = transaction.get_connection().run_on_commit
    if not any(entry[1] is _kick_delivery for entry in pending):
        transaction.on_commit(_kick_delivery)
    return event


def _kick_delivery() -> None:
    from tenfold.core.tasks import deliver_outbox

    try:
        deliver_outbox.enqueue()
    except Exception:  # the periodic sweep delivers it if the queue is unreachable
        logger.warning("could not enqueue outbox delivery; the periodic sweep will deliver", exc_info=True)


def claim_seconds() -> int:
    """How long a worker holds an event it is delivering (`TENFOLD_OUTBOX_CLAIM_SECONDS`): an event whose worker
    was killed mid-delivery is taken again by another after this long. Shorter than the slowest delivery, two
    workers run the same handlers at once (each still applied once, the second rolled back)."""
    return int(getattr(settings, "TENFOLD_OUTBOX_CLAIM_SECONDS", CLAIM_SECONDS))


def _claim(event_id: int, token: str) -> bool:
    now = timezone.now()
    claimed = OutboxEvent.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), pk=event_id, delivered_at__isnull=True,
    ).update(claimed_until=now + timedelta(seconds=claim_seconds()), claim_token=token)
    return claimed == 1


class _AppliedElsewhereError(Exception):
    """Another worker recorded this handler's delivery first: roll back what this one did."""


def deliver_event(event: OutboxEvent) -> bool:
    """Run every handler of one event not yet applied; True when all have applied it."""
    all_ok = True
    for registration in handlers_for(event.name):
        try:
            with transaction.atomic():
                if EventDelivery.objects.filter(event=event, handler=registration.name).exists():
                    continue
                registration.func(event)
                try:
                    with transaction.atomic():
                        EventDelivery.objects.create(event=event, handler=registration.name)
                except IntegrityError as exc:
                    raise _AppliedElsewhereError from exc
        except _AppliedElsewhereError:
            # Another worker applied it concurrently; its transaction won, ours rolled back. Only this
            # insert means that: an IntegrityError raised by the handler itself is a failure below.
            continue
        except Exception as exc:  # a failing handler must not block the others
            all_ok = False
            logger.exception("event %s #%s: handler %s failed", event.name, event.pk, registration.name)
            OutboxEvent.objects.filter(pk=event.pk).update(last_error=f"{registration.name}: {exc!r}"[:2000])
    return all_ok


def deliver_pending(limit: int = 200) -> int:
    """Deliver due events (oldest first); returns how many were fully delivered."""
    now = timezone.now()
    token = secrets.token_hex(8)
    ids = list(OutboxEvent.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        delivered_at__isnull=True, available_at__lte=now,
    ).order_by("id").values_list("id", flat=True)[:limit])
    delivered = 0
    for event_id in ids:
        if not _claim(event_id, token):
            continue
        event = OutboxEvent.objects.get(pk=event_id)
        if deliver_event(event):
            OutboxEvent.objects.filter(pk=event_id, claim_token=token).update(
                delivered_at=timezone.now(), claimed_until=None, attempts=F("attempts") + 1)
            delivered += 1
        else:
            backoff = min(MAX_BACKOFF_SECONDS, 5 * 2 ** min(event.attempts, 12))
            OutboxEvent.objects.filter(pk=event_id, claim_token=token).update(
                claimed_until=None, attempts=F("attempts") + 1,
                available_at=timezone.now() + timedelta(seconds=backoff))
    return delivered
