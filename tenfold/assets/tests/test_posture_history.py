"""The daily posture history: each posture report the check-in applies is kept as the device's posture of that
UTC day (one row per device and day, the day's last report wins), and a refused report keeps nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from django.test import Client as HttpClient

from tenfold.agents.tests.helpers import checkin_body, enroll, post
from tenfold.assets.models import Device, DevicePostureDaily
from tenfold.clients.models import Client

pytestmark = pytest.mark.django_db

CHECKIN = "/agent/v1/checkin"


def posture(seq: int, *, state: str = "running", definitions: str = "2026-11-26T06:00:00Z",
            backup: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"antivirus": {"product": "Microsoft Defender", "state": state,
                                          "definitions_at": definitions}}
    if backup is not None:
        data["backup"] = backup
    return {"seq": seq, "kind": "posture", "at": "2026-11-26T16:01:00Z", "data": data}


def rows() -> list[tuple[Any, ...]]:
    return [(r.day, r.antivirus_state, r.antivirus_definitions_at and r.antivirus_definitions_at.isoformat(),
             r.backup_tool, r.last_backup_at and r.last_backup_at.isoformat(), r.recorded_at.isoformat())
            for r in DevicePostureDaily.objects.order_by("day")]


@pytest.fixture
def agent() -> dict[str, Any]:
    return enroll(Client.objects.create(name="Boulangerie Martin", status="active"))


def test_two_postures_the_same_day_keep_one_row_with_the_later_values(agent: dict[str, Any]) -> None:
    # given the agent reports its posture at 09:00 (antivirus and backup)
    with time_machine.travel(datetime(2026, 11, 26, 9, 0, tzinfo=UTC), tick=False):
        post(HttpClient(), CHECKIN, checkin_body(posture(1, backup={
            "tool": "restic", "last_success": "2026-11-26T02:00:00Z"})), agent["credential"])
    # when it reports again at 23:30 the same UTC day: antivirus disabled, no backup part in this report
    with time_machine.travel(datetime(2026, 11, 26, 23, 30, tzinfo=UTC), tick=False):
        response = post(HttpClient(), CHECKIN, checkin_body(posture(2, state="disabled")), agent["credential"])
    # then one row for the day: the later antivirus, the backup the device still has (from 09:00's report)
    assert response.status_code == 200, response.content
    assert rows() == [(date(2026, 11, 26), "disabled", "2026-11-26T06:00:00+00:00", "restic",
                       "2026-11-26T02:00:00+00:00", "2026-11-26T23:30:00+00:00")]
    row = DevicePostureDaily.objects.get()
    assert (row.device_id, row.client_id) == (agent["device_id"], Device.objects.get(pk=agent["device_id"]).client_id)


def test_the_next_day_adds_a_second_row(agent: dict[str, Any]) -> None:
    # given a posture on 11-26 at 23:59
    with time_machine.travel(datetime(2026, 11, 26, 23, 59, tzinfo=UTC), tick=False):
        post(HttpClient(), CHECKIN, checkin_body(posture(1)), agent["credential"])
    # when the next report comes on 11-27 at 00:01 with a new backup
    with time_machine.travel(datetime(2026, 11, 27, 0, 1, tzinfo=UTC), tick=False):
        post(HttpClient(), CHECKIN, checkin_body(posture(2, definitions="2026-11-27T00:00:00Z", backup={
            "tool": "Veeam", "last_success": "2026-11-27T00:00:00Z"})), agent["credential"])
    # then each day has its own row; the first day's is untouched
    assert rows() == [
        (date(2026, 11, 26), "running", "2026-11-26T06:00:00+00:00", "", None, "2026-11-26T23:59:00+00:00"),
        (date(2026, 11, 27), "running", "2026-11-27T00:00:00+00:00", "Veeam", "2026-11-27T00:00:00+00:00",
         "2026-11-27T00:01:00+00:00")]


def test_a_check_in_without_posture_keeps_no_row(agent: dict[str, Any]) -> None:
    # when the agent only sends a heartbeat
    post(HttpClient(), CHECKIN, checkin_body({"seq": 1, "kind": "heartbeat", "at": "2026-11-26T16:01:00Z",
                                              "data": {"uptime_s": 60}}), agent["credential"])
    # then no posture day is kept
    assert DevicePostureDaily.objects.count() == 0


@pytest.mark.parametrize("data", [
    {"antivirus": {"product": "Defender", "state": "sleeping", "definitions_at": "2026-11-26T06:00:00Z"}},
    {"antivirus": {"product": "Defender", "state": "running", "definitions_at": "yesterday"}},
    {"backup": {"tool": "restic", "last_success": "2026-11-26T02:00:00Z", "device_id": 1}},
    {"pending_updates": -1},
])
def test_bad_posture_is_refused_and_keeps_nothing(agent: dict[str, Any], data: dict[str, Any]) -> None:
    # given a posture already kept for today
    with time_machine.travel(datetime(2026, 11, 26, 9, 0, tzinfo=UTC), tick=False):
        post(HttpClient(), CHECKIN, checkin_body(posture(1)), agent["credential"])
    before = rows(), list(Device.objects.values_list("antivirus_state", "backup_tool", "pending_updates"))
    # when a later report of the same day is malformed
    with time_machine.travel(datetime(2026, 11, 26, 10, 0, tzinfo=UTC), tick=False):
        response = post(HttpClient(), CHECKIN, checkin_body(
            {"seq": 2, "kind": "posture", "at": "2026-11-26T10:00:00Z", "data": data}), agent["credential"])
    # then it is refused as before (422) and neither the device nor its posture day changed
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"
    assert (rows(), list(Device.objects.values_list("antivirus_state", "backup_tool", "pending_updates"))) == before
