"""The domain-event outbox: written in the writer's transaction, delivered at least once, applied once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction

from tenfold.core import events
from tenfold.core.models import EventDelivery, OutboxEvent, Schedule

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 3, 3, 9, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def handlers() -> Iterator[Callable[[str, str, events.Handler], None]]:
    """Register handlers for the test only."""
    registered: list[tuple[str, str]] = []

    def add(event: str, name: str, func: events.Handler) -> None:
        events.register(event, name, func)
        registered.append((event, name))

    yield add
    for event, name in registered:
        events.unregister(event, name)


def deliver_at(moment: dt.datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return events.deliver_pending()


def test_an_event_emitted_in_a_rolled_back_transaction_leaves_nothing(django_capture_on_commit_callbacks):
    # given
    class AbortError(Exception):
        pass

    # when
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(AbortError), transaction.atomic():
        events.emit("test.rolled_back", payload={"client": 1})
        raise AbortError

    # then
    assert OutboxEvent.objects.count() == 0
    assert callbacks == []


def test_an_event_emitted_in_a_committed_transaction_is_stored_with_its_payload(
        django_capture_on_commit_callbacks):
    # when
    with (time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks() as callbacks,
          transaction.atomic()):
        event = events.emit("test.committed", payload={"amount": Decimal("12.50")}, client_id=4)

    # then
    stored = OutboxEvent.objects.get(pk=event.pk)
    assert (stored.name, stored.payload, stored.client_id, stored.available_at, stored.delivered_at) == (
        "test.committed", {"amount": "12.50"}, 4, T0, None)
    assert len(callbacks) == 1


def test_a_handler_runs_once_when_delivery_runs_twice(handlers):
    # given
    seen: list[int] = []
    handlers("test.once", "test.record", lambda event: seen.append(event.pk))
    with time_machine.travel(T0, tick=False):
        event = events.emit("test.once")

    # when
    first = deliver_at(T0 + dt.timedelta(seconds=1))
    second = deliver_at(T0 + dt.timedelta(seconds=2))

    # then
    assert (first, second) == (1, 0)
    assert seen == [event.pk]
    stored = OutboxEvent.objects.get(pk=event.pk)
    assert (stored.delivered_at, stored.attempts, stored.claimed_until) == (
        T0 + dt.timedelta(seconds=1), 1, None)
    assert list(EventDelivery.objects.filter(event=event).values_list("handler", flat=True)) == [
        "test.record"]


def test_an_event_reclaimed_after_a_crashed_delivery_is_not_applied_again(handlers):
    # given: a worker applied the handler, then died before marking the event delivered
    seen: list[int] = []
    handlers("test.crash", "test.record", lambda event: seen.append(event.pk))
    with time_machine.travel(T0, tick=False):
        event = events.emit("test.crash")
        OutboxEvent.objects.filter(pk=event.pk).update(
            claimed_until=T0 + dt.timedelta(seconds=events.CLAIM_SECONDS), claim_token="deadworker")
        assert events.deliver_event(OutboxEvent.objects.get(pk=event.pk)) is True

    # when
    while_claimed = deliver_at(T0 + dt.timedelta(seconds=events.CLAIM_SECONDS - 1))
    after_claim_expired = deliver_at(T0 + dt.timedelta(seconds=events.CLAIM_SECONDS + 1))

    # then
    assert (while_claimed, after_claim_expired) == (0, 1)
    assert seen == [event.pk]
    stored = OutboxEvent.objects.get(pk=event.pk)
    assert stored.delivered_at == T0 + dt.timedelta(seconds=events.CLAIM_SECONDS + 1)
    assert EventDelivery.objects.filter(event=event).count() == 1


def test_a_failing_handler_is_retried_with_backoff_without_blocking_the_others(handlers):
    # given
    calls: list[str] = []

    def flaky(event: OutboxEvent) -> None:
        calls.append("flaky")
        if calls.count("flaky") <= 2:
            raise RuntimeError("mail server down")

    handlers("test.flaky", "test.flaky", flaky)
    handlers("test.flaky", "test.steady", lambda event: calls.append("steady"))
    with time_machine.travel(T0, tick=False):
        event = events.emit("test.flaky")

    # when
    first = deliver_at(T0)
    after_first = OutboxEvent.objects.get(pk=event.pk)
    too_early = deliver_at(T0 + dt.timedelta(seconds=4))
    second = deliver_at(T0 + dt.timedelta(seconds=5))
    after_second = OutboxEvent.objects.get(pk=event.pk)
    third = deliver_at(T0 + dt.timedelta(seconds=15))

    # then
    assert (first, too_early, second, third) == (0, 0, 0, 1)
    assert (after_first.attempts, after_first.available_at, after_first.delivered_at) == (
        1, T0 + dt.timedelta(seconds=5), None)
    assert after_first.last_error == "test.flaky: RuntimeError('mail server down')"
    assert (after_second.attempts, after_second.available_at) == (2, T0 + dt.timedelta(seconds=15))
    assert calls == ["flaky", "steady", "flaky", "flaky"]
    final = OutboxEvent.objects.get(pk=event.pk)
    assert (final.attempts, final.delivered_at) == (3, T0 + dt.timedelta(seconds=15))
    assert sorted(EventDelivery.objects.filter(event=event).values_list("handler", flat=True)) == [
        "test.flaky", "test.steady"]


def test_a_failing_event_does_not_hold_up_the_next_one(handlers):
    # given
    handlers("test.broken", "test.broken", lambda event: 1 / 0)
    seen: list[str] = []
    handlers("test.fine", "test.fine", lambda event: seen.append(event.name))
    with time_machine.travel(T0, tick=False):
        broken = events.emit("test.broken")
        fine = events.emit("test.fine")

    # when
    delivered = deliver_at(T0)

    # then
    assert delivered == 1
    assert seen == ["test.fine"]
    assert OutboxEvent.objects.get(pk=broken.pk).delivered_at is None
    assert OutboxEvent.objects.get(pk=fine.pk).delivered_at == T0


def test_a_handler_that_breaks_a_constraint_is_a_failure_and_its_writes_are_undone(handlers):
    """Regression: an IntegrityError raised inside a handler was taken for a concurrent delivery by
    another worker, so the event was marked delivered although the handler never applied it."""
    # given
    def create_twice(event: OutboxEvent) -> None:
        for _ in range(2):
            Schedule.objects.create(name="test.dup", task_path="tenfold.core.tasks.prune_workers",
                                    cron="* * * * *")

    handlers("test.constraint", "test.create_twice", create_twice)
    with time_machine.travel(T0, tick=False):
        event = events.emit("test.constraint")

    # when
    delivered = deliver_at(T0)

    # then
    assert delivered == 0
    stored = OutboxEvent.objects.get(pk=event.pk)
    assert (stored.delivered_at, stored.attempts) == (None, 1)
    assert stored.last_error.startswith("test.create_twice: IntegrityError(")
    assert EventDelivery.objects.filter(event=event).count() == 0
    assert Schedule.objects.filter(name="test.dup").count() == 0


def test_an_event_without_handlers_is_marked_delivered():
    # given
    with time_machine.travel(T0, tick=False):
        event = events.emit("test.nobody_listens")

    # when
    delivered = deliver_at(T0)

    # then
    assert delivered == 1
    assert OutboxEvent.objects.get(pk=event.pk).delivered_at == T0


def test_one_transaction_with_many_events_kicks_delivery_once(django_capture_on_commit_callbacks) -> None:
    """Regression: every emit registered its own on-commit kick, so a seed or an import enqueued one
    delivery task per event."""
    from django.db import transaction

    from tenfold.core import events as core_events
    from tenfold.core.models import OutboxEvent

    # given a transaction that records three events
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for n in range(3):
            core_events.emit("test.many", payload={"n": n})
    # then three events are in the outbox and one delivery kick was registered
    assert OutboxEvent.objects.filter(name="test.many").count() == 3
    assert len(callbacks) == 1
