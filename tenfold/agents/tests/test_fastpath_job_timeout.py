"""A job sent again (its answer may have been lost) keeps the deadline of its first send: automation's run sweep
times it out even though its agent keeps checking in without answering, through the full check-in path (the
ORM) and through the fast lane (raw SQL on PostgreSQL and on SQLite)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db.models import F
from django.test import Client as HttpClient
from django.test import RequestFactory
from django.utils import timezone

from tenfold.accounts.testing import make_staff
from tenfold.agents import auth, fastpath, services
from tenfold.agents.models import Job, JobStatus
from tenfold.agents.protocol import parse_checkin
from tenfold.agents.tests.helpers import checkin_body, enroll, heartbeat, post
from tenfold.assets.models import Device
from tenfold.automation import tasks
from tenfold.clients.models import Client
from tenfold.core.models import OutboxEvent
from tenfold.core.roles import Role

CHECKIN = "/agent/v1/checkin"
ONE_HOUR = 3600
FORTY_MINUTES = timedelta(minutes=40)


@pytest.fixture
def agent(db: None) -> dict[str, Any]:
    """An enrolled agent whose credential has been used once (its first check-in took the full path)."""
    enrolled = enroll(Client.objects.create(name="Boulangerie Martin", status="active"))
    assert post(HttpClient(), CHECKIN, checkin_body(heartbeat(1)), enrolled["credential"]).status_code == 200
    return enrolled


def _through_fast_lane(credential: str, seq: int) -> list[int]:
    answer = fastpath.checkin_fast(credential, parse_checkin(json.dumps(checkin_body(heartbeat(seq))).encode()))
    assert answer is not None  # the fast lane took it
    return [job["id"] for job in answer["jobs"]]


def _through_full_path(credential: str, seq: int) -> list[int]:
    caller = auth.authenticate(RequestFactory().post(CHECKIN, HTTP_AUTHORIZATION=f"Bearer {credential}"))
    answer = services.checkin_apply(caller=caller, checkin=parse_checkin(json.dumps(
        checkin_body(heartbeat(seq))).encode()))
    return [job["id"] for job in answer["jobs"]]


def _time_passes(job: Job, by: timedelta) -> None:
    """Age the job's send times as if `by` had passed since (the check-ins and the sweep use the real clock)."""
    Job.objects.filter(pk=job.pk).update(sent_at=F("sent_at") - by, first_sent_at=F("first_sent_at") - by)


def _sent_three_times_again(agent: dict[str, Any], check_in: Callable[[str, int], list[int]]) -> tuple[Job, datetime]:
    device = Device.objects.get(pk=agent["device_id"])
    job = services.job_create(actor=make_staff(Role.ADMIN, mfa=False), device=device, kind="run_script",
                              payload={"body": "sleep infinity"}, timeout_seconds=ONE_HOUR)
    # the first send
    assert check_in(agent["credential"], 2) == [job.pk]
    job.refresh_from_db()
    assert job.status == JobStatus.SENT and job.first_sent_at == job.sent_at and job.sent_at is not None
    _time_passes(job, FORTY_MINUTES)
    first = Job.objects.get(pk=job.pk).first_sent_at
    assert first is not None
    # three sends again, forty minutes apart, with no result in between
    for seq in (3, 4, 5):
        assert check_in(agent["credential"], seq) == [job.pk]
        again = Job.objects.get(pk=job.pk)
        assert again.status == JobStatus.SENT and again.first_sent_at == first
        assert again.sent_at is not None and timezone.now() - again.sent_at < timedelta(seconds=30)
        if seq != 5:
            _time_passes(job, FORTY_MINUTES)
            first -= FORTY_MINUTES
    return job, first


@pytest.mark.parametrize("check_in", [_through_full_path, _through_fast_lane], ids=["full-path", "fast-lane"])
def test_a_job_sent_again_and_again_is_timed_out_from_its_first_send(
        agent: dict[str, Any], check_in: Callable[[str, int], list[int]]) -> None:
    """Regression: each send again used to move the deadline, so a job whose agent kept checking in without
    answering was never timed out."""
    # given a job with a one-hour timeout, sent, then sent again three times over two hours
    job, first = _sent_three_times_again(agent, check_in)
    assert timezone.now() - first >= timedelta(hours=2)
    finished_before = OutboxEvent.objects.filter(name="job.finished").count()
    # when automation's run sweep runs
    swept = tasks.run_sweep.call()
    # then the job is timed out, though its latest send is only seconds old
    assert swept == {"timed_out": 1, "scheduled": 0}
    job.refresh_from_db()
    assert (job.status, job.get_status_display(), job.first_sent_at) == ("timed_out", "Timed out", first)
    assert job.finished_at is not None and job.sent_at is not None and job.finished_at >= job.sent_at
    event = OutboxEvent.objects.filter(name="job.finished").latest("pk")
    assert OutboxEvent.objects.filter(name="job.finished").count() == finished_before + 1
    assert event.payload == {"job_id": job.pk, "device_id": agent["device_id"], "status": "timed_out"}
    # and it is never sent again
    assert check_in(agent["credential"], 6) == []


@pytest.mark.parametrize("check_in", [_through_full_path, _through_fast_lane], ids=["full-path", "fast-lane"])
def test_a_job_sent_again_within_its_timeout_stays_open(
        agent: dict[str, Any], check_in: Callable[[str, int], list[int]]) -> None:
    # given a job with a one-hour timeout first sent forty minutes ago, then sent again now
    device = Device.objects.get(pk=agent["device_id"])
    job = services.job_create(actor=make_staff(Role.ADMIN, mfa=False), device=device, kind="run_script",
                              payload={}, timeout_seconds=ONE_HOUR)
    assert check_in(agent["credential"], 2) == [job.pk]
    _time_passes(job, FORTY_MINUTES)
    assert check_in(agent["credential"], 3) == [job.pk]
    # when the sweep runs, then the job is still out with its agent: the hour (and grace) has not passed
    assert tasks.run_sweep.call() == {"timed_out": 0, "scheduled": 0}
    assert Job.objects.get(pk=job.pk).status == "sent"
    # when twenty-three more minutes pass (past the hour and the two-minute grace), then it is timed out
    _time_passes(job, timedelta(minutes=23))
    assert tasks.run_sweep.call() == {"timed_out": 1, "scheduled": 0}
    assert Job.objects.get(pk=job.pk).status == "timed_out"
