"""GET /healthz: no authentication, database and worker state."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import OperationalError, connection

from tenfold.core import selectors
from tenfold.core.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 3, 3, 9, 0, 0, tzinfo=dt.UTC)


def without_sections(state: dict[str, Any]) -> dict[str, Any]:
    """The core part of the answer: the sections other apps register (agents' `checkin`) have their own tests."""
    assert set(state) >= {"checkin"}
    return {key: value for key, value in state.items() if key != "checkin"}


def test_healthz_without_a_worker_reports_the_database_ok_and_no_worker(client):
    # when
    response = client.get("/healthz")

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert without_sections(response.json()) == {
        "status": "degraded", "database": "ok", "database_vendor": connection.vendor, "workers": 0, "worker": "none",
        "worker_last_seen": None}


def test_healthz_with_a_live_worker_reports_ok(client):
    # given
    WorkerHeartbeat.objects.create(worker_id="host-12-abcdef", hostname="host", pid=12, backend="database",
                                   started_at=T0, last_seen_at=T0)

    # when
    with time_machine.travel(T0 + dt.timedelta(seconds=5), tick=False):
        response = client.get("/healthz")

    # then
    assert response.status_code == 200
    assert without_sections(response.json()) == {
        "status": "ok", "database": "ok", "database_vendor": connection.vendor, "workers": 1, "worker": "ok",
        "worker_last_seen": "2025-03-03T09:00:00+00:00"}


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


def test_a_registered_section_is_shown_even_when_the_database_is_down(client, monkeypatch):
    # given a section registered by another app, and a database that fails
    monkeypatch.setitem(selectors._health_sections, "test", lambda: {"in_flight": 3})

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("server closed the connection")

    monkeypatch.setattr(connection, "cursor", broken)
    # when
    response = client.get("/healthz")
    # then
    assert response.status_code == 503
    assert {k: response.json()[k] for k in ("status", "database", "test")} == {
        "status": "error", "database": "error: OperationalError", "test": {"in_flight": 3}}
