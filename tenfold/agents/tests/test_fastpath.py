"""The check-in's fast path (tenfold.agents.fastpath) and the WSGI lane in front of Django
(tenfold.agents.wsgi): the same effects and answers as the full path, one statement on PostgreSQL,
nothing written when it declines, replays and concurrent duplicates applied once, jobs sent again
when their answer may have been lost."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core.signals import request_started
from django.db import close_old_connections, connection, connections
from django.test import Client as HttpClient
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from werkzeug.test import Client as WsgiClient

from tenfold.agents import auth, fastpath, services
from tenfold.agents.models import Agent, AgentCredential, Job, JobStatus
from tenfold.agents.protocol import parse_checkin
from tenfold.agents.tests.helpers import checkin_body, enroll, heartbeat, metrics, post, result
from tenfold.agents.wsgi import CheckinFastLane
from tenfold.assets.models import CheckResult, Device, MetricSample
from tenfold.clients.models import Client
from tenfold.monitoring import policies
from tenfold.monitoring.models import CheckDefinition, Policy, PolicyScope

CHECKIN = "/agent/v1/checkin"


def written() -> tuple[Any, ...]:
    return (CheckResult.objects.count(), MetricSample.objects.count(),
            sorted(Device.objects.values_list("pk", "last_seen_at", "uptime_seconds", "logged_in_user")),
            sorted(Agent.objects.values_list("pk", "last_seq", "last_checkin_at", "agent_version")),
            sorted(Job.objects.values_list("pk", "status", "sent_at")))


def fast(credential: str, body: dict[str, Any], ip: str = "192.0.2.10") -> dict[str, Any] | None:
    return fastpath.checkin_fast(credential, parse_checkin(json.dumps(body).encode()), ip)


@pytest.fixture
def agent(db: None) -> dict[str, Any]:
    """An enrolled agent whose credential has been used once (its first check-in took the full path)."""
    enrolled = enroll(Client.objects.create(name="Boulangerie Martin", status="active"))
    assert post(HttpClient(), CHECKIN, checkin_body(heartbeat(1)), enrolled["credential"]).status_code == 200
    return enrolled


def test_a_common_checkin_is_applied_by_the_fast_path(agent: dict[str, Any]) -> None:
    # given an agent in its steady state, when it sends a heartbeat, metrics and five results
    body = checkin_body(heartbeat(2, uptime=3600), metrics(3), *[result(seq, check_id=seq) for seq in range(4, 9)])
    answer = fast(agent["credential"], body)
    # then the fast path took it: acknowledged up to 8, every row written with the device and client
    assert answer is not None and answer["ack_seq"] == 8
    device = Device.objects.get(pk=agent["device_id"])
    assert list(CheckResult.objects.order_by("seq").values_list("device_id", "client_id", "check_id", "seq",
                                                                "status", "value", "message")) == [
        (device.pk, device.client_id, seq, seq, 0, 63.2, "63.2 % free on /") for seq in range(4, 9)]
    assert list(MetricSample.objects.values_list("cpu_pct", "mem_pct", "disk_min_free_pct")) == [(12.5, 41.0, 18.5)]
    assert (device.uptime_seconds, device.last_ip) == (3600, "192.0.2.10")
    assert device.last_seen_at is not None and timezone.now() - device.last_seen_at < timedelta(seconds=5)
    assert Agent.objects.get(device=device).last_seq == 8
    assert (answer["checkin_interval"], answer["checkin_jitter"], answer["jobs"]) == (60, 10, [])


def test_the_fast_answer_is_the_full_answer(agent: dict[str, Any]) -> None:
    # given a global check, so the agent's policy differs from the one it holds (none)
    policy = Policy.objects.create(name="Everywhere", scope=PolicyScope.GLOBAL)
    CheckDefinition.objects.create(policy=policy, check_type="cpu", params={"max_pct": 90})
    policies._bump()  # what the monitoring services do on commit
    # when one check-in takes the fast path and another, with the same items, the full path
    fast_answer = fast(agent["credential"], checkin_body(heartbeat(2)))
    caller = auth.authenticate(RequestFactory().post(CHECKIN, HTTP_AUTHORIZATION=f"Bearer {agent['credential']}"))
    full_answer = services.checkin_apply(caller=caller, checkin=parse_checkin(json.dumps(
        checkin_body(heartbeat(3))).encode()))
    # then both carry the same policy, interval and jobs (the times and seqs differ)
    assert fast_answer is not None
    assert set(fast_answer) == set(full_answer)
    for key in ("policy", "checkin_interval", "checkin_jitter", "jobs"):
        assert fast_answer[key] == full_answer[key], key
    assert [c["type"] for c in fast_answer["policy"]["checks"]] == ["cpu"]
    # and an agent already holding that policy version is not sent it again
    again = fast(agent["credential"], checkin_body(heartbeat(4), policy_version=fast_answer["policy"]["version"]))
    assert again is not None and again["policy"] is None


def test_replays_and_overlaps_are_applied_once(agent: dict[str, Any]) -> None:
    body = checkin_body(heartbeat(2, uptime=100), result(3), result(4))
    assert fast(agent["credential"], body)["ack_seq"] == 4  # type: ignore[index]
    # when the same check-in comes again (its answer was lost), then nothing is written twice
    assert fast(agent["credential"], body)["ack_seq"] == 4  # type: ignore[index]
    assert CheckResult.objects.count() == 2
    # when the next one overlaps it, then only the new items are written, and the stale heartbeat
    # does not set the uptime back
    overlap = checkin_body(heartbeat(2, uptime=5), result(4), result(5), metrics(6))
    assert fast(agent["credential"], overlap)["ack_seq"] == 6  # type: ignore[index]
    assert list(CheckResult.objects.order_by("seq").values_list("seq", flat=True)) == [3, 4, 5]
    assert MetricSample.objects.count() == 1
    assert Device.objects.get(pk=agent["device_id"]).uptime_seconds == 100


@pytest.mark.parametrize("case", ["unknown prefix", "wrong secret", "revoked", "never used", "rotation",
                                  "inventory", "job result", "not a credential"])
def test_the_fast_path_declines_and_writes_nothing(agent: dict[str, Any], case: str) -> None:
    credential = agent["credential"]
    body = checkin_body(heartbeat(2), result(3))
    if case == "unknown prefix":
        credential = "tfa_0badc0de_" + credential.split("_", 2)[2]
    elif case == "wrong secret":
        credential = credential[:-4] + ("AAAA" if not credential.endswith("AAAA") else "BBBB")
    elif case == "revoked":
        AgentCredential.objects.update(revoked_at=timezone.now())
    elif case == "never used":
        AgentCredential.objects.update(last_used_at=None)
    elif case == "rotation":
        Agent.objects.update(rotation_requested_at=timezone.now())
    elif case == "inventory":
        body["items"].append({"seq": 4, "kind": "posture", "at": "2026-11-26T16:01:00Z",
                              "data": {"pending_updates": 3}})
    elif case == "job result":
        body["items"].append({"seq": 4, "kind": "job_result", "at": "2026-11-26T16:01:00Z",
                              "data": {"job_id": 1, "status": "succeeded"}})
    elif case == "not a credential":
        credential = "tfe_00000000_" + "A" * 43
    before = written()
    # when the fast path is offered the check-in, then it declines and nothing changed
    assert fast(credential, body) is None
    assert written() == before


def test_the_declined_checkin_is_applied_by_the_full_path_through_the_view(agent: dict[str, Any]) -> None:
    # given a check-in with a posture (full path only), when posted to the endpoint
    body = checkin_body(heartbeat(2), result(3), {"seq": 4, "kind": "posture", "at": "2026-11-26T16:01:00Z",
                                                  "data": {"pending_updates": 3}})
    response = post(HttpClient(), CHECKIN, body, agent["credential"])
    # then the full path applied all of it
    assert response.status_code == 200 and response.json()["ack_seq"] == 4
    assert Device.objects.get(pk=agent["device_id"]).pending_updates == 3
    assert CheckResult.objects.count() == 1


def test_jobs_are_sent_and_sent_again_only_while_no_result_came(agent: dict[str, Any]) -> None:
    device = Device.objects.get(pk=agent["device_id"])
    job = Job.objects.create(client_id=device.client_id, device=device, kind="run_checks_now")
    # when the agent checks in, then the queued job rides on the answer and is marked sent
    answer = fast(agent["credential"], checkin_body(heartbeat(2)))
    assert answer is not None and answer["jobs"] == [{"id": job.pk, "kind": "run_checks_now", "payload": {}}]
    job.refresh_from_db()
    assert job.status == JobStatus.SENT and job.sent_at is not None
    # when it checks in again soon after, then the job is not sent again
    assert fast(agent["credential"], checkin_body(heartbeat(3)))["jobs"] == []  # type: ignore[index]
    # when two intervals passed with no result (the answer carrying it was lost), then it is sent again
    Job.objects.filter(pk=job.pk).update(sent_at=timezone.now() - timedelta(seconds=121))
    assert [j["id"] for j in fast(agent["credential"], checkin_body(heartbeat(4)))["jobs"]] == [job.pk]  # type: ignore[index]
    # the full path follows the same rule
    Job.objects.filter(pk=job.pk).update(sent_at=timezone.now() - timedelta(seconds=121))
    posture = {"seq": 6, "kind": "posture", "at": "2026-11-26T16:01:00Z", "data": {"pending_updates": 0}}
    full = post(HttpClient(), CHECKIN, checkin_body(heartbeat(5), posture), agent["credential"]).json()
    assert [j["id"] for j in full["jobs"]] == [job.pk]
    # when its result has come back, then it is never sent again
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, sent_at=timezone.now() - timedelta(days=1))
    assert fast(agent["credential"], checkin_body(heartbeat(7)))["jobs"] == []  # type: ignore[index]


def test_one_statement_on_postgresql_and_a_bounded_few_on_sqlite(agent: dict[str, Any]) -> None:
    fast(agent["credential"], checkin_body(heartbeat(2)))  # loads this process's policy index
    body = checkin_body(heartbeat(3), metrics(4), *[result(seq) for seq in range(5, 10)])
    with CaptureQueriesContext(connection) as captured:
        assert fast(agent["credential"], body) is not None
    statements = [q["sql"] for q in captured.captured_queries]
    if connection.vendor == "postgresql":
        assert len(statements) == 1, statements
    else:  # SAVEPOINT/RELEASE of the test's transaction, lookup, agent, credential, device, 2 inserts, jobs
        assert len(statements) <= 10, statements
    assert CheckResult.objects.count() == 5


# --- The WSGI lane ------------------------------------------------------------------------------------


@pytest.fixture
def lane() -> Any:
    """The production WSGI application (lane + Django) in a WSGI test client. Django's request signal
    would close the test's database connection, as Django's own test client avoids too."""
    from tenfold.config.wsgi import application

    assert isinstance(application, CheckinFastLane)
    request_started.disconnect(close_old_connections)
    yield WsgiClient(application)
    request_started.connect(close_old_connections)


def wsgi_post(lane: Any, body: Any, credential: str | None, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {credential}"} if credential else {}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return lane.post(CHECKIN, data=data, headers=headers, content_type="application/json", **kwargs)


def test_the_lane_answers_a_common_checkin_itself(agent: dict[str, Any], lane: Any) -> None:
    response = wsgi_post(lane, checkin_body(heartbeat(2), result(3)), agent["credential"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store, max-age=0"
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.data)["ack_seq"] == 3
    assert CheckResult.objects.count() == 1


def test_the_lane_hands_everything_else_to_django_with_the_body(agent: dict[str, Any], lane: Any) -> None:
    before = written()
    # garbage from an unknown caller: 401; from the agent: 422 naming the problem
    assert wsgi_post(lane, b"{not json", "tfa_0badc0de_" + "A" * 43).status_code == 401
    bad = wsgi_post(lane, b"{not json", agent["credential"])
    assert (bad.status_code, json.loads(bad.data)["code"]) == (422, "validation_error")
    # no credential, a GET, a body over the limit
    assert wsgi_post(lane, checkin_body(heartbeat(2)), None).status_code == 401
    assert lane.get(CHECKIN).status_code == 405
    huge = wsgi_post(lane, b"x", agent["credential"], environ_overrides={"CONTENT_LENGTH": str(10**9)})
    assert huge.status_code == 413
    assert written() == before
    # a posture needs the full path: Django's view gets the body the lane already read, and applies it
    posture = {"seq": 3, "kind": "posture", "at": "2026-11-26T16:01:00Z", "data": {"pending_updates": 7}}
    response = wsgi_post(lane, checkin_body(heartbeat(2), posture), agent["credential"])
    assert response.status_code == 200 and json.loads(response.data)["ack_seq"] == 3
    assert Device.objects.get(pk=agent["device_id"]).pending_updates == 7


# --- Concurrent duplicates --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_same_checkin_sent_twice_at_once_is_applied_once() -> None:
    if connection.vendor != "postgresql":
        # The suite's SQLite database is in memory with a shared cache, where a second writer fails at once
        # ("table is locked") instead of waiting; the product's SQLite file waits (busy timeout, IMMEDIATE
        # transactions serialise writers) and the agent fault tests run it with real processes.
        pytest.skip("concurrent writers need PostgreSQL here (see the comment)")
    enrolled = enroll(Client.objects.create(name="Pharmacie du Port", status="active"))
    assert post(HttpClient(), CHECKIN, checkin_body(heartbeat(1)), enrolled["credential"]).status_code == 200
    body = checkin_body(heartbeat(2), *[result(seq, check_id=seq) for seq in range(3, 8)])
    answers: list[Any] = []
    barrier = threading.Barrier(4)

    def send() -> None:
        try:
            barrier.wait(timeout=10)
            answers.append(fast(enrolled["credential"], body))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # every copy was acknowledged up to 7, and the five results were written once
    assert [a["ack_seq"] for a in answers] == [7, 7, 7, 7]
    assert sorted(CheckResult.objects.values_list("seq", flat=True)) == [3, 4, 5, 6, 7]
