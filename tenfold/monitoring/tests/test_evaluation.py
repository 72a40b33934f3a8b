"""Alert evaluation from raw results, and offline detection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from tenfold.agents.models import Agent
from tenfold.assets.models import CheckResult
from tenfold.core.models import OutboxEvent
from tenfold.monitoring.evaluation import detect_offline, evaluate_new_results, offline_devices
from tenfold.monitoring.models import Alert, CheckState, EvaluationCursor, MaintenanceWindow, PolicyScope
from tenfold.monitoring.tests.factories import add_results, make_check, make_client, make_device, make_policy

pytestmark = pytest.mark.django_db


def _setup(failures: int = 3, severity: str = "critical") -> tuple:
    client = make_client()
    device = make_device(client, name="SRV-FICHIERS-01")
    check = make_check(make_policy(PolicyScope.CLIENT, client=client), "disk_free", name="Disk /",
                       failures_before_alert=failures, severity=severity)
    return client, device, check


def _events(name: str) -> list[dict]:
    return [e.payload for e in OutboxEvent.objects.filter(name=name).order_by("pk")]


def test_failures_below_the_threshold_raise_nothing() -> None:
    # given two failures of a check that alerts after three
    _client, device, check = _setup()
    add_results(device, check, ["fail", "fail"])
    # when
    report = evaluate_new_results()
    # then the state counts two failures, and no alert nor event exists
    state = CheckState.objects.get(device=device, check_definition=check)
    assert (state.status, state.consecutive_failures, state.last_message) == (2, 2, "fail #1")
    assert report.results == 2
    assert Alert.objects.count() == 0
    assert _events("alert.raised") == []


def test_the_threshold_opens_one_alert_and_later_failures_add_occurrences() -> None:
    # given a pass, then five failures in a row
    client, device, check = _setup()
    add_results(device, check, ["pass", "fail", "warn", "fail", "fail", "error"])
    # when
    evaluate_new_results()
    # then one open alert, raised at the third failure, seen three times since
    alert = Alert.objects.get()
    assert (alert.status, alert.kind, alert.severity, alert.occurrences) == ("open", "check", "critical", 3)
    assert alert.title == "Disk / failing on SRV-FICHIERS-01"
    assert alert.message == "error #5"
    assert _events("alert.raised") == [{
        "alert_id": alert.pk, "client_id": client.pk, "device_id": device.pk, "kind": "check",
        "check_id": check.pk, "check_type": "disk_free", "severity": "critical",
        "title": "Disk / failing on SRV-FICHIERS-01"}]


def test_a_pass_resets_the_count_before_the_threshold() -> None:
    _client, device, check = _setup()
    add_results(device, check, ["fail", "fail", "pass", "fail", "fail"])
    evaluate_new_results()
    assert CheckState.objects.get().consecutive_failures == 2
    assert Alert.objects.count() == 0


def test_a_later_batch_de_duplicates_into_the_open_alert_then_a_pass_resolves_it() -> None:
    # given an alert opened by a first batch
    _client, device, check = _setup(failures=1)
    add_results(device, check, ["fail"])
    evaluate_new_results()
    # when a second batch fails twice more, and a third one passes
    add_results(device, check, ["fail", "fail"])
    evaluate_new_results()
    alert = Alert.objects.get()
    occurrences = alert.occurrences
    add_results(device, check, ["pass"])
    report = evaluate_new_results()
    # then it was the same alert all along, now resolved, with one event each way
    alert.refresh_from_db()
    assert occurrences == 3
    assert (alert.status, Alert.objects.count()) == ("resolved", 1)
    assert alert.resolved_at is not None
    assert report.resolved == [alert.pk]
    assert [e["alert_id"] for e in _events("alert.raised")] == [alert.pk]
    assert [(e["alert_id"], e["reason"]) for e in _events("alert.resolved")] == [(alert.pk, "check_passed")]


def test_failing_again_after_resolution_opens_a_new_alert_in_the_same_batch() -> None:
    _client, device, check = _setup(failures=1)
    add_results(device, check, ["fail", "pass", "fail"])
    evaluate_new_results()
    assert list(Alert.objects.order_by("pk").values_list("status", flat=True)) == ["resolved", "open"]
    assert len(_events("alert.raised")) == 2
    assert len(_events("alert.resolved")) == 1


def test_warn_caps_the_severity_at_warning() -> None:
    _client, device, check = _setup(failures=1, severity="critical")
    add_results(device, check, ["warn"])
    evaluate_new_results()
    assert Alert.objects.get().severity == "warning"


def test_cursor_advances_and_running_twice_duplicates_nothing() -> None:
    # given four results
    _client, device, check = _setup()
    rows = add_results(device, check, ["fail", "fail", "fail", "fail"])
    # when evaluated twice
    first = evaluate_new_results()
    second = evaluate_new_results()
    # then the second run reads nothing, and there is one alert and one event
    assert EvaluationCursor.objects.get().last_result_id == rows[-1].pk
    assert (first.results, second.results, second.read) == (4, 0, 0)
    assert Alert.objects.get().occurrences == 2
    assert CheckState.objects.get().consecutive_failures == 4
    assert len(_events("alert.raised")) == 1


def test_limit_splits_the_work_in_batches_in_id_order() -> None:
    _client, device, check = _setup()
    rows = add_results(device, check, ["fail", "fail", "fail", "pass", "fail"])
    assert evaluate_new_results(limit=2).cursor == rows[1].pk
    assert Alert.objects.count() == 0
    assert evaluate_new_results(limit=2).cursor == rows[3].pk
    assert Alert.objects.get().status == "resolved"
    evaluate_new_results(limit=2)
    assert CheckState.objects.get().consecutive_failures == 1


def test_results_of_unknown_or_other_clients_checks_are_skipped_but_passed_over() -> None:
    # given a result naming a missing check, and one naming another client's check
    client, device, _check = _setup(failures=1)
    foreign = make_check(make_policy(PolicyScope.CLIENT, client=make_client()), "cpu", failures_before_alert=1)
    rows = add_results(device, foreign, ["fail"])
    from tenfold.assets.models import CheckResult

    CheckResult.objects.create(client=client, device=device, check_id=999999, at=timezone.now(), status=2, seq=1)
    # when
    report = evaluate_new_results()
    # then nothing is evaluated, the cursor still moves on
    assert (report.results, report.read) == (0, 2)
    assert report.cursor > rows[0].pk
    assert CheckState.objects.count() == 0
    assert Alert.objects.count() == 0


def test_maintenance_window_mutes_then_raises_when_it_ends() -> None:
    # given a window over the device's client covering the failures
    client, device, check = _setup(failures=1)
    now = timezone.now()
    MaintenanceWindow.objects.create(client=client, starts_at=now - timedelta(hours=1), ends_at=now - timedelta(
        minutes=2), reason="Migration")
    add_results(device, check, ["fail", "fail"], start=now - timedelta(minutes=10))
    evaluate_new_results()
    alert = Alert.objects.get()
    muted = alert.muted
    # when it still fails after the window
    add_results(device, check, ["fail"], start=now)
    evaluate_new_results()
    alert.refresh_from_db()
    # then it was muted without an event, and raised once the window ended
    assert muted is True
    assert alert.muted is False
    assert [e["alert_id"] for e in _events("alert.raised")] == [alert.pk]


def test_a_muted_alert_that_resolves_emits_nothing() -> None:
    client, device, check = _setup(failures=1)
    now = timezone.now()
    MaintenanceWindow.objects.create(client=client, device=device, starts_at=now - timedelta(hours=1),
                                     ends_at=now + timedelta(hours=1), reason="Reboot")
    add_results(device, check, ["fail", "pass"])
    evaluate_new_results()
    assert Alert.objects.get().status == "resolved"
    assert OutboxEvent.objects.filter(name__startswith="alert.").count() == 0


def test_window_of_another_site_does_not_mute() -> None:
    from tenfold.monitoring.tests.factories import make_site

    client, device, check = _setup(failures=1)
    now = timezone.now()
    MaintenanceWindow.objects.create(client=client, site=make_site(client, "Annex"),
                                     starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1),
                                     reason="Annex works")
    add_results(device, check, ["fail"])
    evaluate_new_results()
    assert Alert.objects.get().muted is False


# --- offline -----------------------------------------------------------------------------------

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_offline_detection_uses_three_intervals_of_each_agent() -> None:
    # given devices last seen at T0: one with a 60 s agent, one with a 600 s agent, one without an agent
    with time_machine.travel(T0, tick=False):
        client = make_client()
        fast = make_device(client, name="FAST", last_seen_at=T0)
        slow = make_device(client, name="SLOW", kind="server", last_seen_at=T0)
        make_device(client, name="BARE", last_seen_at=T0)
        Agent.objects.create(device=fast, client=client, checkin_interval=60)
        Agent.objects.create(device=slow, client=client, checkin_interval=600)
        make_device(client, name="RETIRED", last_seen_at=T0 - timedelta(days=1), state="retired")
        make_device(client, name="UNMANAGED", last_seen_at=T0 - timedelta(days=1), managed=False)
    # when 181 s later, then 1801 s later
    with time_machine.travel(T0 + timedelta(seconds=181), tick=False):
        first = detect_offline()
        names_first = sorted(Alert.objects.values_list("device__name", flat=True))
    with time_machine.travel(T0 + timedelta(seconds=1801), tick=False):
        second = detect_offline()
    # then the 60 s devices (agent or default) went offline first, the 600 s one later
    assert names_first == ["BARE", "FAST"]
    assert len(first.raised) == 2
    assert len(second.raised) == 1
    slow_alert = Alert.objects.get(device=slow)
    assert (slow_alert.kind, slow_alert.severity, slow_alert.status) == ("offline", "critical", "open")
    assert Alert.objects.get(device=fast).severity == "warning"
    assert slow_alert.message == "No check-in since 2026-03-02T09:00:00+00:00."


def test_offline_detection_is_one_query_and_opens_no_duplicate(django_assert_num_queries) -> None:
    with time_machine.travel(T0, tick=False):
        client = make_client()
        for _ in range(5):
            make_device(client, last_seen_at=T0)
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        assert len(list(offline_devices())) == 5
        with django_assert_num_queries(1):
            list(offline_devices())
        detect_offline()
        again = detect_offline()
    assert again.raised == []
    assert Alert.objects.filter(kind="offline", status="open").count() == 5
    assert OutboxEvent.objects.filter(name="alert.raised").count() == 5


def test_a_device_seen_again_resolves_its_offline_alert() -> None:
    with time_machine.travel(T0, tick=False):
        client = make_client()
        device = make_device(client, last_seen_at=T0)
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        detect_offline()
        device.last_seen_at = timezone.now()
        device.save(update_fields=["last_seen_at"])
        report = detect_offline()
    alert = Alert.objects.get()
    assert (alert.status, report.resolved) == ("resolved", [alert.pk])
    assert [(e["alert_id"], e["reason"]) for e in _events("alert.resolved")] == [(alert.pk, "device_back")]


def test_a_result_committed_after_the_cursor_passed_its_id_is_counted_once() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("late commits happen on PostgreSQL only (SQLite serialises writers)")
    # given two devices with the same check (alert on the first failure)
    client, server, check = _setup(failures=1)
    laptop = make_device(client, name="PORTABLE-COMPTA")
    add_results(laptop, check, ["pass"])
    # and an id the evaluator will pass before its row commits (taken, then its row held back)
    held = add_results(server, check, ["fail"])[0]
    CheckResult.objects.filter(pk=held.pk).delete()
    later = add_results(laptop, check, ["pass"])[0]
    assert evaluate_new_results().cursor == later.pk
    assert not Alert.objects.exists()
    # when that row commits late, below the cursor
    CheckResult.objects.create(pk=held.pk, client_id=client.pk, device=server, check_id=check.pk, at=held.at,
                               status=held.status, value=held.value, message=held.message, seq=held.seq)
    report = evaluate_new_results()
    # then it is evaluated: its failure raises the alert, and the cursor stays where it was
    assert report.cursor == later.pk and len(report.raised) == 1
    state = CheckState.objects.get(device=server, check_definition=check)
    assert (state.consecutive_failures, state.last_result_id) == (1, held.pk)
    # and never counted twice
    assert evaluate_new_results().raised == []
    assert CheckState.objects.get(device=server, check_definition=check).consecutive_failures == 1
    assert Alert.objects.get().occurrences == 1
