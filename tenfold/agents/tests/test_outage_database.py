"""The fast path when the database drops its connection (PostgreSQL restarted, a session terminated): the
driver's error must reach the lane and the view as Django's `DatabaseError`, so the lane closes the broken
connection and hands the check-in to Django (which reconnects), instead of raising out of the WSGI
application and keeping a dead connection for every later check-in of that thread."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.core.signals import request_started
from django.db import DatabaseError, close_old_connections, connection
from django.test import Client as HttpClient
from werkzeug.test import Client as WsgiClient

from tenfold.agents import fastpath
from tenfold.agents.protocol import parse_checkin
from tenfold.agents.tests.helpers import checkin_body, enroll, heartbeat, post, result
from tenfold.assets.models import CheckResult
from tenfold.clients.models import Client

CHECKIN = "/agent/v1/checkin"


@pytest.fixture
def lane() -> Iterator[Any]:
    from tenfold.config.wsgi import application

    request_started.disconnect(close_old_connections)
    yield WsgiClient(application)
    request_started.connect(close_old_connections)


def terminate_this_session() -> None:
    """End this thread's database session from another connection, as a PostgreSQL restart would."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)


@pytest.mark.django_db(transaction=True)
def test_a_connection_lost_under_the_fast_path_is_handed_on_and_the_lane_recovers(lane: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the fast path's raw statement is PostgreSQL's; SQLite goes through Django's cursors")
    enrolled = enroll(Client.objects.create(name="Garage Lefèvre", status="active"))
    assert post(HttpClient(), CHECKIN, checkin_body(heartbeat(1)), enrolled["credential"]).status_code == 200
    try:
        # the fast path itself: the driver's error arrives as Django's
        terminate_this_session()
        body = checkin_body(heartbeat(2), result(3))
        with pytest.raises(DatabaseError):
            fastpath.checkin_fast(enrolled["credential"], parse_checkin(json.dumps(body).encode()))
        connection.close()

        # through the lane: the check-in is applied (Django's view reconnects), then the next one too
        terminate_this_session()
        first = lane.post(CHECKIN, data=json.dumps(body), content_type="application/json",
                          headers={"Authorization": f"Bearer {enrolled['credential']}"})
        assert first.status_code == 200 and json.loads(first.data)["ack_seq"] == 3
        second = lane.post(CHECKIN, data=json.dumps(checkin_body(heartbeat(4), result(5))),
                           content_type="application/json",
                           headers={"Authorization": f"Bearer {enrolled['credential']}"})
        assert second.status_code == 200 and json.loads(second.data)["ack_seq"] == 5
        assert sorted(CheckResult.objects.values_list("seq", flat=True)) == [3, 5]
    finally:
        connection.close()
