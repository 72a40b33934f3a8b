"""Overload shedding of check-ins (tenfold.agents.overload): the limiter's exact behaviour at its limit,
its release whatever happens, the Retry-After it computes, and a refused check-in through the WSGI lane
and through Django's view: 429, Retry-After, nothing written."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.signals import request_started
from django.db import close_old_connections
from django.test import Client as HttpClient
from django.test import override_settings
from werkzeug.test import Client as WsgiClient

from tenfold.agents import overload
from tenfold.agents.models import AgentCredential
from tenfold.agents.overload import RETRY_AFTER_MAX, RETRY_AFTER_MIN, CheckinLimiter, default_limit
from tenfold.agents.tests.helpers import checkin_body, enroll, heartbeat, metrics, post, result
from tenfold.agents.tests.test_fastpath import written
from tenfold.agents.wsgi import CheckinFastLane
from tenfold.clients.models import Client

CHECKIN = "/agent/v1/checkin"


class Clock:
    """A hand-driven monotonic clock."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- The limiter -------------------------------------------------------------------------------------


def test_the_limit_admits_exactly_limit_checkins_and_refuses_the_next() -> None:
    limiter = CheckinLimiter(2, clock=Clock())
    first, second = limiter.try_enter(), limiter.try_enter()
    assert first is not None and second is not None
    assert limiter.try_enter() is None  # the third, while two are in flight
    assert limiter.try_enter() is None
    figures = limiter.figures()
    assert (figures.in_flight, figures.peak, figures.admitted, figures.refused) == (2, 2, 2, 2)
    # one leaves: exactly one more gets in, the next is refused again
    limiter.leave(first)
    assert limiter.try_enter() is not None
    assert limiter.try_enter() is None
    assert limiter.figures().as_dict() == {"limit": 2, "in_flight": 2, "peak": 2, "admitted": 3, "refused": 3,
                                           "mean_service_ms": 49.0}  # the 50 ms prior moved 2 % towards 0


def test_at_the_limit_a_fast_server_admits_and_a_slow_one_sheds() -> None:
    # given a limit of one, shedding only while check-ins take 100 ms or more on average (50 ms prior)
    clock = Clock()
    limiter = CheckinLimiter(1, shed_after_s=0.1, clock=clock)
    first = limiter.try_enter()
    assert first is not None
    # then while check-ins are fast, one over the limit still gets in (the queue drains in milliseconds)
    second = limiter.try_enter()
    assert second is not None and limiter.figures().in_flight == 2
    # when one check-in is slow the mean barely moves: still no shedding
    clock.now += 1.0
    limiter.leave(first)
    assert limiter.figures().mean_service_ms < 100
    assert limiter.try_enter() is not None  # two in flight again, over the limit of one
    # when check-ins stay slow (each of the next ones takes a second), the mean passes 100 ms
    limiter.leave(second)
    while limiter.figures().in_flight:
        limiter.leave(clock.now)
    for _ in range(4):
        started = limiter.try_enter()
        assert started is not None
        clock.now += 1.0
        limiter.leave(started)
    assert limiter.figures().mean_service_ms >= 100
    # then at the limit the next one is refused, and below it admitted
    held = limiter.try_enter()
    assert held is not None
    assert limiter.try_enter() is None
    assert limiter.figures().refused == 1


def test_the_shedding_threshold_comes_from_the_settings() -> None:
    with override_settings(TENFOLD_CHECKIN_MAX_INFLIGHT=3, TENFOLD_CHECKIN_SHED_AFTER_MS=250):
        overload.reset_checkin_limiter()
        limiter = overload.checkin_limiter()
        assert (limiter.limit, limiter.shed_after_s) == (3, 0.25)
    overload.reset_checkin_limiter()


def test_a_slot_is_released_whatever_the_block_raises() -> None:
    limiter = CheckinLimiter(1, clock=Clock())
    for error in (ValueError("bad body"), KeyboardInterrupt(), SystemExit(1)):
        with pytest.raises(type(error)), limiter.slot() as admitted:
            assert admitted
            raise error
        assert limiter.figures().in_flight == 0
    # a refused slot releases nothing (the one in flight stays counted)
    holder = limiter.try_enter()
    assert holder is not None
    with limiter.slot() as admitted:
        assert not admitted
    assert limiter.figures().in_flight == 1
    limiter.leave(holder)
    with pytest.raises(RuntimeError):
        limiter.leave(holder)  # more releases than entries is a bug, not a silent negative count


def test_a_limit_under_one_is_refused_and_the_default_keeps_two_threads_free() -> None:
    with pytest.raises(ValueError):
        CheckinLimiter(0)
    assert [default_limit(t) for t in (1, 2, 3, 5, 8, 16)] == [1, 2, 2, 3, 6, 14]
    with override_settings(TENFOLD_CHECKIN_MAX_INFLIGHT=7):
        assert overload.configured_limit() == 7
    with override_settings(TENFOLD_CHECKIN_MAX_INFLIGHT=0):
        assert overload.configured_limit() == default_limit()


def test_retry_after_spreads_the_refused_over_a_window_that_widens_with_the_pressure() -> None:
    clock = Clock()
    draw = [0.0]
    limiter = CheckinLimiter(1, clock=clock, rand=lambda: draw[0])
    held = limiter.try_enter()
    assert held is not None
    # one refusal: the narrowest window, [2, 10] seconds
    assert limiter.try_enter() is None
    assert limiter.window() == 8
    assert limiter.retry_after() == RETRY_AFTER_MIN
    draw[0] = 0.99999
    assert limiter.retry_after() == RETRY_AFTER_MIN + 8
    # 1,000 refused in the same second at 20 check-ins/s (one at a time, 50 ms each): 50 s to absorb them
    for _ in range(999):
        assert limiter.try_enter() is None
    assert limiter.recent_refusals() == 1000
    assert limiter.window() == 50
    assert limiter.retry_after() == RETRY_AFTER_MIN + 50
    draw[0] = 0.5
    assert limiter.retry_after() == RETRY_AFTER_MIN + 25
    # a slower server spreads the same pressure wider: the check-in held 5 s moves the mean from 50 ms to
    # 149 ms (2 % of the way), so the 1,000 refused need 149 s (150 once rounded up)
    clock.now += 5.0
    limiter.leave(held)
    assert limiter.figures().mean_service_ms == pytest.approx(149.0)
    assert limiter.window() == 150
    # and 1,500 more refused need more than five minutes: capped at five minutes in all
    held = limiter.try_enter()
    assert held is not None
    for _ in range(1500):
        assert limiter.try_enter() is None
    assert limiter.window() == RETRY_AFTER_MAX - RETRY_AFTER_MIN
    draw[0] = 0.99999
    assert limiter.retry_after() == RETRY_AFTER_MAX
    limiter.leave(held)
    # the pressure is forgotten after ten quiet seconds
    clock.now += 10.0
    assert limiter.recent_refusals() == 0
    assert limiter.window() == 8


def test_a_fleet_refused_together_is_not_sent_back_together() -> None:
    limiter = CheckinLimiter(1, clock=Clock(), rand=random.Random(20261126).random)
    assert limiter.try_enter() is not None
    for _ in range(200):
        limiter.try_enter()
    delays = [limiter.retry_after() for _ in range(1000)]
    # 200 refused at 20/s: a 10 s window, every second of it used, none more than a fifth of the fleet
    assert limiter.window() == 10
    assert min(delays) == RETRY_AFTER_MIN and max(delays) == RETRY_AFTER_MIN + 10
    assert set(delays) == set(range(RETRY_AFTER_MIN, RETRY_AFTER_MIN + 11))
    assert max(delays.count(d) for d in set(delays)) < 200


def test_concurrent_threads_never_exceed_the_limit() -> None:
    limiter = CheckinLimiter(3)
    inside = 0
    highest = 0
    guard = threading.Lock()
    barrier = threading.Barrier(12)

    def worker() -> None:
        nonlocal inside, highest
        barrier.wait(timeout=10)
        for _ in range(300):
            with limiter.slot() as admitted:
                if admitted:
                    with guard:
                        inside += 1
                        highest = max(highest, inside)
                    with guard:
                        inside -= 1

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    figures = limiter.figures()
    assert highest <= 3 and figures.peak <= 3 and figures.in_flight == 0
    assert figures.admitted + figures.refused == 12 * 300


# --- Through the WSGI lane and the view -------------------------------------------------------------------


@pytest.fixture
def limit_one() -> Iterator[CheckinLimiter]:
    """This process's limiter, rebuilt with a limit of one check-in in flight."""
    with override_settings(TENFOLD_CHECKIN_MAX_INFLIGHT=1, TENFOLD_CHECKIN_SHED_AFTER_MS=0):
        overload.reset_checkin_limiter()
        yield overload.checkin_limiter()
    overload.reset_checkin_limiter()


@pytest.fixture
def lane() -> Iterator[Any]:
    from tenfold.config.wsgi import application

    assert isinstance(application, CheckinFastLane)
    request_started.disconnect(close_old_connections)
    yield WsgiClient(application)
    request_started.connect(close_old_connections)


@pytest.fixture
def agent(db: None) -> dict[str, Any]:
    """An enrolled agent whose credential has been used once (its check-ins now take the fast path)."""
    enrolled = enroll(Client.objects.create(name="Boulangerie Martin", status="active"))
    assert post(HttpClient(), CHECKIN, checkin_body(heartbeat(1)), enrolled["credential"]).status_code == 200
    return enrolled


def wsgi_post(lane: Any, body: Any, credential: str | None) -> Any:
    headers = {"Authorization": f"Bearer {credential}"} if credential else {}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return lane.post(CHECKIN, data=data, headers=headers, content_type="application/json")


def credentials_used() -> list[Any]:
    return sorted(AgentCredential.objects.values_list("pk", "last_used_at", "revoked_at"))


def test_a_checkin_refused_by_the_lane_wrote_nothing_and_says_when_to_come_back(
        agent: dict[str, Any], lane: Any, limit_one: CheckinLimiter) -> None:
    body = checkin_body(heartbeat(2, uptime=7200), metrics(3), *[result(seq, check_id=seq) for seq in range(4, 9)])
    before, credentials = written(), credentials_used()
    # given one check-in in flight in this process
    held = limit_one.try_enter()
    assert held is not None
    # when another arrives: 429 with a Retry-After in the narrowest window, the protocol's error body
    refused = wsgi_post(lane, body, agent["credential"])
    assert refused.status_code == 429
    assert RETRY_AFTER_MIN <= int(refused.headers["Retry-After"]) <= RETRY_AFTER_MIN + 8
    assert refused.headers["Cache-Control"] == "no-store, max-age=0"
    assert json.loads(refused.data) == {"code": "too_many_requests",
                                        "message": "The server is busy: check in again after Retry-After seconds."}
    # then nothing at all was written: no result, no sample, no seq, no last-seen, no credential use
    assert written() == before and credentials_used() == credentials
    assert limit_one.figures().refused == 1
    # when the slot is free again, the very same check-in is applied (so it was refused, not invalid)
    limit_one.leave(held)
    accepted = wsgi_post(lane, body, agent["credential"])
    assert accepted.status_code == 200 and json.loads(accepted.data)["ack_seq"] == 8
    assert written() != before
    assert limit_one.figures().in_flight == 0


def test_a_checkin_handed_to_django_holds_its_slot_until_answered_and_takes_only_one(
        agent: dict[str, Any], lane: Any, limit_one: CheckinLimiter) -> None:
    # the full path through the lane (a posture needs Django's view) is admitted with a limit of one:
    # the view does not take a second slot for the request the lane already counted
    posture = {"seq": 2, "kind": "posture", "at": "2026-11-26T16:01:00Z", "data": {"pending_updates": 3}}
    assert wsgi_post(lane, checkin_body(posture), agent["credential"]).status_code == 200
    # while a check-in is inside Django (held in the request_started signal), another one is refused
    inside, release = threading.Event(), threading.Event()
    answers: list[int] = []

    def hold(**kwargs: Any) -> None:
        if not inside.is_set():
            inside.set()
            release.wait(timeout=20)

    def slow_checkin() -> None:
        # no credential: the lane hands it to Django, whose view answers 401 without the database
        answers.append(wsgi_post(lane, checkin_body(heartbeat(3)), None).status_code)

    request_started.connect(hold)
    thread = threading.Thread(target=slow_checkin)
    try:
        thread.start()
        assert inside.wait(timeout=20)
        assert limit_one.figures().in_flight == 1
        refused = wsgi_post(lane, checkin_body(heartbeat(3)), agent["credential"])
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= RETRY_AFTER_MIN
    finally:
        release.set()
        thread.join(timeout=20)
        request_started.disconnect(hold)
    assert answers == [401]
    assert limit_one.figures().in_flight == 0


def test_the_lane_releases_the_slot_when_the_application_raises(limit_one: CheckinLimiter) -> None:
    def broken(environ: dict[str, Any], start_response: Any) -> Any:
        raise RuntimeError("the application failed")

    client = WsgiClient(CheckinFastLane(broken))
    with pytest.raises(RuntimeError):
        client.post(CHECKIN, data=b"{}", content_type="application/json")
    assert limit_one.figures().in_flight == 0
    assert limit_one.figures().admitted == 1


def test_the_view_refuses_over_the_limit_when_reached_without_the_lane(
        agent: dict[str, Any], limit_one: CheckinLimiter) -> None:
    before = written()
    held = limit_one.try_enter()
    assert held is not None
    response = post(HttpClient(), CHECKIN, checkin_body(heartbeat(2), result(3)), agent["credential"])
    assert response.status_code == 429 and response.json()["code"] == "too_many_requests"
    assert RETRY_AFTER_MIN <= int(response["Retry-After"]) <= RETRY_AFTER_MIN + 8
    assert written() == before
    limit_one.leave(held)
    # an invalid check-in (422) and a valid one both give their slot back
    bad = post(HttpClient(), CHECKIN, b"{not json", agent["credential"])
    assert bad.status_code == 422
    assert post(HttpClient(), CHECKIN, checkin_body(heartbeat(2), result(3)), agent["credential"]).status_code == 200
    assert limit_one.figures().in_flight == 0 and limit_one.figures().admitted == 3


def test_healthz_shows_this_process_shedding_counters_and_no_secret(
        agent: dict[str, Any], lane: Any, limit_one: CheckinLimiter) -> None:
    # given one check-in in flight in this process and one refused
    held = limit_one.try_enter()
    assert held is not None
    assert wsgi_post(lane, checkin_body(heartbeat(2)), agent["credential"]).status_code == 429
    # when /healthz is asked (no authentication)
    answer = lane.get("/healthz")
    # then it shows the limiter's counters since the process started, by name
    assert answer.status_code == 200
    body = json.loads(answer.data)
    assert body["checkin"] == {"limit": 1, "in_flight": 1, "peak": 1, "admitted": 1, "refused": 1,
                               "mean_service_ms": 50.0, "shed_after_ms": 0}
    # and nothing secret: no credential, no key, nothing but the state and the counters
    assert agent["credential"] not in answer.data.decode()
    assert set(body) == {"status", "database", "database_vendor", "workers", "worker", "worker_last_seen",
                         "checkin"}
    # when the slot is given back, the next answer shows it
    limit_one.leave(held)
    assert json.loads(lane.get("/healthz").data)["checkin"]["in_flight"] == 0
