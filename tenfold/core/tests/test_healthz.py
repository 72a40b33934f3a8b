"""GET /healthz: no authentication, database and worker state."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection

from tenfold.core.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 3, 3, 9, 0, 0, tzinfo=dt.UTC)


def test_healthz_without_a_worker_reports_the_database_ok_and_no_worker(client):
    # when
    response = client.get("/healthz")

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "degraded", "database": "ok", "database_vendor": connection.vendor,
                               "workers": 0, "worker": "none", "worker_last_seen": None}


def test_healthz_with_a_live_worker_reports_ok(client):
    # given
    WorkerHeartbeat.objects.create(worker_id="host-12-abcdef", hostname="host", pid=12, backend="database",
                                   started_at=T0, last_seen_at=T0)

    # when
    with time_machine.travel(T0 + dt.timedelta(seconds=5), tick=False):
        response = client.get("/healthz")

    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "database_vendor": connection.vendor,
                               "workers": 1, "worker": "ok", "worker_last_seen": "2025-03-03T09:00:00+00:00"}


def test_healthz_with_a_silent_worker_reports_it_stale(client):
    # given
    WorkerHeartbeat.objects.create(worker_id="host-12-abcdef", hostname="host", pid=12, backend="database",
                                   started_at=T0, last_seen_at=T0)

    # when
    with time_machine.travel(T0 + dt.timedelta(seconds=91), tick=False):
        response = client.get("/healthz")

    # then
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert (response.json()["workers"], response.json()["worker"]) == (0, "stale")
