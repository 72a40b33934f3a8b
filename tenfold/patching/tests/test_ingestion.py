"""The `updates` item from the agent to patching: validated (422, nothing stored), declined by the fast path,
handed over through the outbox, and applied as a snapshot that replaces the previous one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client as HttpClient

from tenfold.agents import fastpath
from tenfold.agents.models import Agent
from tenfold.agents.protocol import parse_checkin
from tenfold.agents.tests.helpers import checkin_body, enroll, heartbeat, post
from tenfold.core import events
from tenfold.core.models import OutboxEvent
from tenfold.patching.models import DeviceUpdate, DeviceUpdateScan, Update
from tenfold.patching.services import snapshot_apply
from tenfold.patching.tests.factories import make_client

CHECKIN = "/agent/v1/checkin"


def entry(identifier: str, available: str = "2.0", *, source: str = "apt", category: str = "security",
          installed: bool = False, **extra: Any) -> dict[str, Any]:
    return {"source": source, "identifier": identifier, "title": identifier, "installed_version": "1.0",
            "available_version": available, "category": category, "severity": extra.pop("severity", ""),
            "released_on": extra.pop("released_on", None), "reboot_required": False, "installed": installed, **extra}


def updates_item(seq: int, entries: list[dict[str, Any]], sources: list[str] | None = None,
                 at: str = "2026-11-26T16:01:00Z", errors: dict[str, str] | None = None) -> dict[str, Any]:
    return {"seq": seq, "kind": "updates", "at": at,
            "data": {"sources": ["apt"] if sources is None else sources, "updates": entries,
                     "errors": errors or {}, "digest": "0" * 64}}


@pytest.fixture
def agent(db: None) -> dict[str, Any]:
    return enroll(make_client("Boulangerie Martin"))


def send(agent: dict[str, Any], *items: dict[str, Any]) -> Any:
    response = post(HttpClient(), CHECKIN, checkin_body(*items), agent["credential"])
    events.deliver_pending()
    return response


def states(device_id: int) -> dict[tuple[str, str], str]:
    return {(du.update.identifier, du.update.version): du.state
            for du in DeviceUpdate.objects.filter(device_id=device_id).select_related("update")}


def test_a_snapshot_is_stored_and_the_next_one_replaces_it(agent: dict[str, Any]) -> None:
    # given a first snapshot: openssl, curl and tzdata missing
    first = [entry("openssl", "3.0.17"), entry("curl", "7.88.1-10+deb12u15", category="bugfix"),
             entry("tzdata", "2025b", category="bugfix")]
    assert send(agent, heartbeat(1), updates_item(2, first)).status_code == 200
    device_id = agent["device_id"]
    assert states(device_id) == {("openssl", "3.0.17"): "missing", ("curl", "7.88.1-10+deb12u15"): "missing",
                                 ("tzdata", "2025b"): "missing"}
    # when the next snapshot no longer lists curl, and lists a newer openssl
    second = [entry("openssl", "3.0.18"), entry("tzdata", "2025b", category="bugfix")]
    assert send(agent, updates_item(3, second, at="2026-11-27T16:01:00Z")).status_code == 200
    # then curl is installed (at the snapshot's time), the older openssl superseded, the newer one missing
    assert states(device_id) == {("openssl", "3.0.17"): "superseded", ("curl", "7.88.1-10+deb12u15"): "installed",
                                 ("openssl", "3.0.18"): "missing", ("tzdata", "2025b"): "missing"}
    curl = DeviceUpdate.objects.get(device_id=device_id, update__identifier="curl")
    assert curl.installed_at is not None and curl.installed_at.isoformat() == "2026-11-27T16:01:00+00:00"
    scan = DeviceUpdateScan.objects.get(device_id=device_id)
    assert (scan.seq, scan.sources, scan.scanned_at.isoformat()) == (3, ["apt"], "2026-11-27T16:01:00+00:00")
    # one catalog row per (source, identifier, version)
    assert Update.objects.filter(identifier="openssl").count() == 2


def test_a_source_that_failed_leaves_its_updates_alone(agent: dict[str, Any]) -> None:
    send(agent, updates_item(1, [entry("openssl"), entry("Mozilla.Firefox", "133.0", source="winget",
                                                               category="application")], sources=["apt", "winget"]))
    # when apt fails this time (not among the sources) and winget lists nothing
    send(agent, updates_item(2, [], sources=["winget"], errors={"apt": "E: Could not open lock file"},
                             at="2026-11-27T16:01:00Z"))
    assert states(agent["device_id"]) == {("openssl", "2.0"): "missing", ("Mozilla.Firefox", "133.0"): "installed"}
    assert DeviceUpdateScan.objects.get(device_id=agent["device_id"]).errors == {"apt": "E: Could not open lock file"}


def test_installed_entries_and_an_older_snapshot_delivered_late(agent: dict[str, Any]) -> None:
    send(agent, updates_item(1, [entry("KB5046617", "", source="windows_update"),
                                 entry("KB5044285", "", source="windows_update", installed=True)],
                             sources=["windows_update"], at="2026-11-27T10:00:00Z"))
    assert states(agent["device_id"]) == {("KB5046617", ""): "missing", ("KB5044285", ""): "installed"}
    # an older snapshot applied afterwards (the outbox delivers at least once, in any order) changes nothing
    device = agent["device_id"]
    client_id = Agent.objects.get(device_id=device).device.client_id
    assert snapshot_apply(device_id=device, client_id=client_id, at=datetime(2026, 11, 26, tzinfo=UTC), seq=1,
                          sources=["windows_update"], errors={}, updates=[]) is None
    assert states(device) == {("KB5046617", ""): "missing", ("KB5044285", ""): "installed"}


@pytest.mark.parametrize("bad", [
    {"category": "urgent"},                       # not a category
    {"source": "chocolatey"},                     # not a source
    {"identifier": ""},                           # empty identifier
    {"identifier": "x" * 201},                    # too long
    {"title": "nul\x00byte"},                     # NUL
    {"released_on": "26/11/2026"},                # not a date
    {"device_id": 4},                             # unknown field
])
def test_a_malformed_updates_item_is_a_422_and_nothing_is_stored(agent: dict[str, Any], bad: dict[str, Any]) -> None:
    # when a check-in carries a heartbeat and an updates item with one bad entry
    response = send(agent, heartbeat(1), updates_item(2, [{**entry("openssl"), **bad}]))
    # then the whole check-in is refused, naming the item, and nothing was written
    assert response.status_code == 422
    assert "seq:2" in response.json()["errors"]
    assert Agent.objects.get(device_id=agent["device_id"]).last_seq == 0
    assert (OutboxEvent.objects.filter(name="device.updates_reported").count(), DeviceUpdate.objects.count(),
            Update.objects.count()) == (0, 0, 0)


def test_too_many_updates_are_refused(agent: dict[str, Any]) -> None:
    entries = [entry(f"pkg-{i}") for i in range(5001)]
    response = send(agent, updates_item(1, entries))
    assert response.status_code in (413, 422)
    assert (OutboxEvent.objects.filter(name="device.updates_reported").count(), DeviceUpdate.objects.count()) == (0, 0)


def test_the_fast_path_declines_an_updates_item(agent: dict[str, Any]) -> None:
    # given an agent in its steady state (its credential used once by the full path)
    assert post(HttpClient(), CHECKIN, checkin_body(heartbeat(1)), agent["credential"]).status_code == 200
    body = checkin_body(heartbeat(2), updates_item(3, [entry("openssl")]))
    # when the fast path is offered a check-in with an updates item, it declines having written nothing
    assert fastpath.checkin_fast(agent["credential"], parse_checkin(json.dumps(body).encode())) is None
    assert Agent.objects.get(device_id=agent["device_id"]).last_seq == 1
    assert OutboxEvent.objects.filter(name="device.updates_reported").count() == 0
    # and the full path takes it: one outbox row for the snapshot, applied by the worker
    assert send(agent, *body["items"]).status_code == 200
    assert states(agent["device_id"]) == {("openssl", "2.0"): "missing"}


def test_only_the_newest_snapshot_of_a_checkin_is_handed_over(agent: dict[str, Any]) -> None:
    send(agent, updates_item(1, [entry("openssl")]), updates_item(2, [entry("curl")], at="2026-11-26T17:00:00Z"))
    assert OutboxEvent.objects.filter(name="device.updates_reported").count() == 1
    assert states(agent["device_id"]) == {("curl", "2.0"): "missing"}
