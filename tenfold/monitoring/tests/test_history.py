"""Daily rollups, retention of the raw rows, the metrics JSON of the device charts, check availability."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.test import override_settings
from django.utils import timezone

from tenfold.accounts.testing import make_staff
from tenfold.assets.models import CheckResult, Device, MetricSample
from tenfold.conftest import DemoDatabase
from tenfold.monitoring import history
from tenfold.monitoring.history import day_bounds, prune_raw, rollup_day, rollup_recent
from tenfold.monitoring.models import CheckDaily, CheckState, DeviceMetricDaily, EvaluationCursor, HistoryDay
from tenfold.monitoring.selectors import device_check_states
from tenfold.monitoring.tests.factories import make_check, make_client, make_device, make_policy

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 10)
START = datetime(2026, 3, 10, tzinfo=UTC)
METRIC_FIELDS = ["client_id", "device_id", "day", "samples", "cpu_avg", "cpu_max", "mem_avg", "mem_max",
                 "disk_min_free"]
CHECK_FIELDS = ["client_id", "device_id", "check_id", "day", "runs", "passes", "warns", "fails", "errors"]


def sample(device: Device, at: datetime, cpu: float | None, mem: float | None, disk: float | None) -> MetricSample:
    return MetricSample.objects.create(client_id=device.client_id, device=device, at=at, cpu_pct=cpu, mem_pct=mem,
                                       disk_min_free_pct=disk)


def result(device: Device, check_id: int, at: datetime, status: int) -> CheckResult:
    return CheckResult.objects.create(client_id=device.client_id, device=device, check_id=check_id, at=at,
                                      status=status, seq=CheckResult.objects.count() + 1)


def dataset() -> tuple[Device, Device]:
    client = make_client()
    a, b = make_device(client, name="A"), make_device(client, name="B")
    sample(a, START, 10, 40, 50)
    sample(a, START + timedelta(hours=12), 30, 60, 45)
    sample(a, START + timedelta(hours=23, minutes=59, seconds=59), None, 50, 40)
    sample(a, START - timedelta(seconds=1), 99, 99, 1)           # the day before
    sample(a, START + timedelta(days=1), 99, 99, 1)              # the day after
    sample(b, START + timedelta(hours=3), 5, 10, 90)
    for minute, status in enumerate([0, 0, 1, 2, 3]):
        result(a, 7, START + timedelta(minutes=minute), status)
    result(a, 8, START + timedelta(hours=1), 0)
    result(a, 7, START + timedelta(days=1), 2)                   # the day after
    return a, b


def metric_rows() -> list[tuple[Any, ...]]:
    return list(DeviceMetricDaily.objects.order_by("device__name").values_list("pk", *METRIC_FIELDS))


def check_rows() -> list[tuple[Any, ...]]:
    return list(CheckDaily.objects.order_by("check_id").values_list("pk", *CHECK_FIELDS))


# --- rollups -------------------------------------------------------------------------------------


def test_rollup_day_computes_exact_values_and_is_idempotent() -> None:
    a, b = dataset()
    # when the day is rolled up
    report = rollup_day(DAY)
    # then one row per device and per (device, check), with exact aggregates of that UTC day only
    assert [row[1:] for row in metric_rows()] == [
        (a.client_id, a.pk, DAY, 3, 20.0, 30.0, 50.0, 60.0, 40.0),
        (b.client_id, b.pk, DAY, 1, 5.0, 5.0, 10.0, 10.0, 90.0)]
    assert [row[1:] for row in check_rows()] == [
        (a.client_id, a.pk, 7, DAY, 5, 2, 1, 1, 1),
        (a.client_id, a.pk, 8, DAY, 1, 1, 0, 0, 0)]
    assert report.skipped is False
    marker = HistoryDay.objects.get(day=DAY)
    assert marker.max_sample_id == MetricSample.objects.order_by("-pk").first().pk  # type: ignore[union-attr]
    assert marker.max_result_id == CheckResult.objects.order_by("-pk").first().pk  # type: ignore[union-attr]
    # and run twice it leaves the very same rows (same ids, same values)
    before = (metric_rows(), check_rows())
    rollup_day(DAY)
    assert (metric_rows(), check_rows()) == before
    assert HistoryDay.objects.count() == 1


def test_a_late_row_is_counted_by_the_next_rollup() -> None:
    a, _b = dataset()
    rollup_day(DAY)
    # when a result of that day arrives late (an agent's spool) and the day is rolled up again
    result(a, 8, START + timedelta(hours=2), 2)
    sample(a, START + timedelta(hours=6), 80, 20, 30)
    rollup_day(DAY)
    # then it is counted, in place
    assert CheckDaily.objects.get(device=a, check_id=8).runs == 2
    assert CheckDaily.objects.get(device=a, check_id=8).fails == 1
    row = DeviceMetricDaily.objects.get(device=a)
    assert (row.samples, row.cpu_avg, row.cpu_max, row.mem_avg, row.disk_min_free) == (4, 40.0, 80.0, 42.5, 30.0)
    assert DeviceMetricDaily.objects.count() == 2


def test_rollup_recent_rolls_today_yesterday_and_catches_up_missing_days() -> None:
    a, _b = dataset()
    today = DAY + timedelta(days=3)
    sample(a, day_bounds(today)[0] + timedelta(hours=1), 1, 2, 3)
    reports = rollup_recent(today)
    # three un-rolled older days at most (oldest first), then yesterday and today
    assert [r.day for r in reports][-2:] == [today - timedelta(days=1), today]
    assert len(reports) == history.CATCH_UP_DAYS + 2
    assert DeviceMetricDaily.objects.filter(day=today).count() == 1
    # the catch-up goes on from where it stopped, until DAY is rolled up
    for _ in range(20):
        rollup_recent(today)
    assert DeviceMetricDaily.objects.filter(day=DAY).count() == 2


# --- retention -----------------------------------------------------------------------------------


def set_cursor(result_id: int) -> None:
    EvaluationCursor.objects.update_or_create(pk=1, defaults={"last_result_id": result_id})


def day_rows(day: date) -> tuple[int, int]:
    start, end = day_bounds(day)
    return (MetricSample.objects.filter(at__gte=start, at__lt=end).count(),
            CheckResult.objects.filter(at__gte=start, at__lt=end).count())


@override_settings(TENFOLD_RAW_RETENTION_DAYS=30)
def test_retention_keeps_days_not_rolled_up() -> None:
    dataset()
    set_cursor(10**9)
    # when retention runs 40 days later, before any rollup
    report = prune_raw(DAY + timedelta(days=40))
    # then nothing is deleted
    assert (report.samples, report.results) == (0, 0)
    assert day_rows(DAY) == (4, 6)
    # and a day rolled up only while it was still running is not final either
    HistoryDay.objects.create(day=DAY, rolled_up_at=START + timedelta(hours=12), max_sample_id=10**9,
                              max_result_id=10**9)
    report = prune_raw(DAY + timedelta(days=40))
    assert (report.samples, report.results, report.waiting) == (0, 0, [DAY])
    assert day_rows(DAY) == (4, 6)


@override_settings(TENFOLD_RAW_RETENTION_DAYS=30)
def test_retention_deletes_rolled_up_days_past_the_retention_only() -> None:
    a, _b = dataset()
    rollup_day(DAY)
    rollup_day(DAY + timedelta(days=1))
    set_cursor(10**9)
    # when retention runs 30 days after the day after: DAY is past the retention, DAY + 1 is not
    report = prune_raw(DAY + timedelta(days=31))
    assert (report.samples, report.results, report.days) == (4, 6, [DAY])
    assert day_rows(DAY) == (0, 0)
    assert day_rows(DAY + timedelta(days=1)) == (1, 1)
    assert day_rows(DAY - timedelta(days=1)) == (1, 0)                # never rolled up: kept
    # and the rollups stay; rolling the pruned day up again changes nothing
    before = (metric_rows(), check_rows())
    assert rollup_day(DAY).skipped is True
    assert (metric_rows(), check_rows()) == before
    assert DeviceMetricDaily.objects.get(device=a, day=DAY).samples == 3


@override_settings(TENFOLD_RAW_RETENTION_DAYS=30)
def test_retention_never_deletes_results_the_evaluator_has_not_read() -> None:
    dataset()
    rollup_day(DAY)
    ids = list(CheckResult.objects.filter(at__lt=day_bounds(DAY)[1]).order_by("pk").values_list("pk", flat=True))
    # when the evaluator has read only the first three results of the day
    set_cursor(ids[2])
    report = prune_raw(DAY + timedelta(days=40))
    # then only those are deleted, and the day waits for the rest
    assert report.results == 3 and report.waiting == [DAY]
    assert sorted(CheckResult.objects.filter(at__lt=day_bounds(DAY)[1]).values_list("pk", flat=True)) == ids[3:]
    assert HistoryDay.objects.get(day=DAY).prune_done is False
    # and once the evaluator passed them, the next run finishes the day
    set_cursor(ids[-1])
    report = prune_raw(DAY + timedelta(days=40))
    assert report.results == 3 and report.days == [DAY]
    assert day_rows(DAY) == (0, 0)
    assert HistoryDay.objects.get(day=DAY).prune_done is True


@override_settings(TENFOLD_RAW_RETENTION_DAYS=30)
def test_retention_keeps_rows_that_arrived_after_the_rollup_and_deletes_in_batches(monkeypatch) -> None:
    a, _b = dataset()
    rollup_day(DAY)
    late = sample(a, START + timedelta(hours=5), 70, 70, 70)     # after the final rollup: not counted
    set_cursor(10**9)
    monkeypatch.setattr(history, "DELETE_BATCH", 2)
    report = prune_raw(DAY + timedelta(days=40))
    assert (report.samples, report.results) == (4, 6)
    assert list(MetricSample.objects.filter(at__gte=START, at__lt=day_bounds(DAY)[1])) == [late]


# --- the metrics JSON ----------------------------------------------------------------------------


def logged_in(role: str = "technician", **kwargs: Any) -> HttpClient:
    http = HttpClient()
    http.force_login(make_staff(role, **kwargs))
    return http


def test_metrics_json_series_for_each_range() -> None:
    client = make_client()
    device = make_device(client)
    other = make_device(client)
    now = timezone.now().astimezone(UTC).replace(microsecond=0)
    hour = now.replace(minute=0, second=0) - timedelta(hours=3)
    sample(device, hour + timedelta(minutes=10), 10, 20, 30)
    sample(device, hour + timedelta(minutes=20), 20, None, 40)
    sample(device, now - timedelta(hours=30), 50, 50, 50)             # in 7 days, not in 24 hours
    sample(other, hour + timedelta(minutes=15), 90, 90, 90)           # another device
    today = now.date()
    for back, cpu in [(40, 1.0), (20, 2.0), (1, 3.0)]:
        DeviceMetricDaily.objects.create(client=client, device=device, day=today - timedelta(days=back),
                                         samples=1, cpu_avg=cpu, cpu_max=cpu, mem_avg=cpu * 10, mem_max=cpu * 10,
                                         disk_min_free=None, computed_at=now)
    http = logged_in()
    url = f"/monitoring/devices/{device.pk}/metrics.json"

    def iso(at: datetime) -> str:
        return at.isoformat().replace("+00:00", "Z")

    day24 = http.get(url, {"range": "24h"}).json()
    assert day24 == {"range": "24h", "source": "raw", "labels": [
        iso(hour + timedelta(minutes=10)), iso(hour + timedelta(minutes=20))], "series": [
        {"key": "cpu", "label": "CPU %", "data": [10.0, 20.0]},
        {"key": "memory", "label": "Memory %", "data": [20.0, None]},
        {"key": "disk", "label": "Lowest free disk %", "data": [30.0, 40.0]}]}
    week = http.get(url, {"range": "7d"}).json()
    assert week["source"] == "hourly"
    assert week["labels"] == [iso((now - timedelta(hours=30)).replace(minute=0, second=0)), iso(hour)]
    assert [s["data"] for s in week["series"]] == [[50.0, 15.0], [50.0, 20.0], [50.0, 35.0]]
    month = http.get(url, {"range": "30d"}).json()
    assert month["source"] == "daily"
    assert month["labels"] == [(today - timedelta(days=20)).isoformat(), (today - timedelta(days=1)).isoformat()]
    assert [s["data"] for s in month["series"]] == [[2.0, 3.0], [20.0, 30.0], [None, None]]
    year = http.get(url, {"range": "1y"}).json()
    assert year["labels"][0] == (today - timedelta(days=40)).isoformat() and len(year["labels"]) == 3
    assert http.get(url).json()["range"] == "24h"
    bad = http.get(url, {"range": "5m"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


def test_metrics_json_of_another_clients_device_is_404() -> None:
    mine, theirs = make_client(), make_client()
    device = make_device(theirs)
    sample(device, timezone.now() - timedelta(minutes=5), 1, 2, 3)
    http = logged_in("technician", clients=[mine], restricted=True)
    assert http.get(f"/monitoring/devices/{device.pk}/metrics.json", {"range": "24h"}).status_code == 404
    assert logged_in("technician").get(f"/monitoring/devices/{device.pk}/metrics.json").status_code == 200


# --- availability and the page -------------------------------------------------------------------


def test_check_availability_over_30_days_from_the_rollups() -> None:
    client = make_client()
    device = make_device(client)
    check = make_check(make_policy(), "cpu", name="CPU")
    unrun = make_check(make_policy(), "memory", name="Memory")
    now = timezone.now()
    today = now.astimezone(UTC).date()
    for chk in (check, unrun):
        CheckState.objects.create(client=client, device=device, check_definition=chk, status=0, last_result_at=now)
    for back, runs, passes in [(0, 10, 9), (29, 10, 10), (30, 10, 0)]:   # the last one is 31 days ago
        CheckDaily.objects.create(client=client, device=device, check_id=check.pk, day=today - timedelta(days=back),
                                  runs=runs, passes=passes, warns=0, fails=runs - passes, errors=0, computed_at=now)
    states = {s.check_definition.name: s for s in device_check_states(device)}
    assert (states["CPU"].runs_30d, states["CPU"].passes_30d, states["CPU"].availability_30d) == (20, 19, 95.0)
    assert states["Memory"].availability_30d is None
    page = logged_in().get(f"/monitoring/devices/{device.pk}/policy/").content.decode()
    assert "95.0 %" in page and 'data-testid="performance"' in page
    assert f'data-chart-url="/monitoring/devices/{device.pk}/metrics.json"' in page


def assert_no_inline_script_or_style(html: str) -> None:
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S):
        assert 'src="' in attrs and body.strip() == "", attrs
    assert not re.search(r"<[^>]+\sstyle=", html)
    assert not re.search(r"<[^>]+\son[a-z]+=", html)
    assert "<style" not in html


def test_device_page_and_its_monitoring_panel_run_no_inline_script() -> None:
    device = make_device(make_client())
    http = logged_in()
    page = http.get(f"/devices/{device.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "script-src 'self';" in page.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    assert "/static/vendor/chart.umd.min.js" in html and "/static/tenfold/charts.js" in html
    assert_no_inline_script_or_style(html)
    assert_no_inline_script_or_style(http.get(f"/monitoring/devices/{device.pk}/policy/").content.decode())


# --- demo ----------------------------------------------------------------------------------------


def test_demo_has_30_days_of_rollups_and_24_hours_of_raw_samples(demo: DemoDatabase) -> None:
    today = demo.started_at.astimezone(UTC).date()
    devices = list(DeviceMetricDaily.objects.order_by("device_id").values_list("device_id", flat=True).distinct())
    assert len(devices) == 8
    device = devices[0]
    days = list(DeviceMetricDaily.objects.filter(device_id=device).values_list("day", flat=True))
    assert days[0] == today - timedelta(days=30) and days[-1] == today and len(days) == 31
    assert MetricSample.objects.filter(device_id=device).count() == 289
    # today's and yesterday's rollups are the real ones, from the raw rows
    start, end = day_bounds(today)
    assert DeviceMetricDaily.objects.get(device_id=device, day=today).samples == MetricSample.objects.filter(
        device_id=device, at__gte=start, at__lt=end).count()
    assert CheckDaily.objects.filter(day=today).exists()
    # the seeded results are history: the evaluator starts after them
    assert EvaluationCursor.objects.get(pk=1).last_result_id == CheckResult.objects.order_by("-pk").first().pk  # type: ignore[union-attr]


@override_settings(TENFOLD_RAW_RETENTION_DAYS=30)
def test_rollup_history_command_rolls_given_days_and_prunes() -> None:
    import json
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    dataset()
    set_cursor(10**9)
    out = StringIO()
    call_command("rollup_history", "--day", DAY.isoformat(), "--prune", stdout=out)
    report = json.loads(out.getvalue())
    assert report["rolled_up"] == [{"day": DAY.isoformat(), "skipped": False, "metric_rows": 2, "check_rows": 2}]
    assert report["pruned"]["days"] == [DAY.isoformat()] and report["pruned"]["samples"] == 4
    with pytest.raises(CommandError):
        call_command("rollup_history", "--day", "yesterday")
