"""The scorecard on a hand-built client (tests/dataset.py), every figure worked out by hand."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenfold.assets.models import Device, DevicePostureDaily
from tenfold.clients.models import Client
from tenfold.reporting.scorecard import NO_HISTORY, NOTHING, Period, compute
from tenfold.reporting.tests.dataset import NOW, Dataset, at, build

pytestmark = pytest.mark.django_db

Q1, Q4 = Period("quarter", date(2026, 1, 1)), Period("quarter", date(2025, 10, 1))


def figures(card: Any) -> dict[str, tuple[int, int, str]]:
    return {m.key: (m.numerator, m.denominator, m.reason) for m in card.metrics}


def values(card: Any) -> dict[str, Decimal | None]:
    return {m.key: m.value for m in card.metrics}


def test_current_quarter_by_hand() -> None:
    # given the hand-built client, as of 2026-02-15 12:00
    ds = build()
    # when its 2026-Q1 scorecard is computed
    card, _records = compute(ds.client.pk, Q1, now=NOW)
    # then each metric is the share worked out below
    assert figures(card) == {
        # managed, in service: SRV1 SRV2 WS1 WS2 WS3 = 5 (WS4 retired, FW1 and MOB1 unmanaged);
        # discovered with no managed match: D1, D3 = 2 (D2 is WS1, D4 ignored) → 5 / 7
        "managed_devices": (5, 7, ""),
        # SRV1 (to 2026-12-31) yes, SRV2 (ended 2025-11-30) no, FW1 (ended 2026-01-31 < 2026-02-15) no → 1 / 3
        "warranty_server_network": (1, 3, ""),
        # WS1 yes, WS2 (ended 2025-12-15) no, WS3 yes, MOB1 (unknown) no → 2 / 4
        "warranty_end_user": (2, 4, ""),
        # reporting a state: SRV1 ok, SRV2 definitions 10 days old, WS1 ok, WS2 disabled (WS3 reports none) → 2 / 4
        "antivirus": (2, 4, ""),
        # listed: SRV1 WS1 WS2; SRV1 misses KB5034441 since 01-05 (> 14 days before 02-15); WS1 installed it;
        # WS2's KB5000001 was rejected → 2 / 3
        "os_updates": (2, 3, ""),
        # WS2 misses Firefox since 2025-10-01 → 2 / 3
        "third_party_updates": (2, 3, ""),
        # Head office has FW1 (a FortiGate) with ping results in the quarter; Warehouse has none → 1 / 2
        "hardware_firewall": (1, 2, ""),
        # SRV1 backed up 2 h ago, SRV2 3 days ago (window 26 h) → 1 / 2
        "data_protection": (1, 2, ""),
        # SRV1 service check: 01-15 95 passes + 3 warnings of 100, 02-01 100 of 100 → 198 / 200
        "service_availability": (198, 200, ""),
        # FW1 ping: 280 / 288
        "network_reliability": (280, 288, ""),
        # device-seconds: SRV1 SRV2 WS1 WS2 from 01-01 to 02-15 12:00 = 45.5 d = 3,931,200 s each → 15,724,800;
        # WS3 from 01-10 = 36.5 d = 3,153,600 → 18,878,400. Under alert: SRV2 cpu 02-01→02-02 and memory
        # 02-01 12:00→02-03 merged = 48 h = 172,800; WS1 disk 00:00→06:00 on 01-01 = 21,600 → 194,400.
        # 18,878,400 − 194,400 = 18,684,000
        "performance": (18_684_000, 18_878_400, ""),
        # check states now: SRV1 all pass, SRV2 cpu failing → 1 / 2
        "servers": (1, 2, ""),
        # resolved in the quarter with SLA targets: T1 met, T2 resolution missed (T3 no SLA, T4 open) → 1 / 2
        "ticket_summary": (1, 2, ""),
    }
    assert values(card)["managed_devices"] == Decimal("71.4")  # 500 / 7 = 71.43
    assert values(card)["network_reliability"] == Decimal("97.2")  # 28000 / 288 = 97.22
    assert values(card)["performance"] == Decimal("99.0")  # 1,868,400,000 / 18,878,400 = 98.97
    # overall, every weight 1: (5/7 + 1/3 + 1/2 + 1/2 + 2/3 + 2/3 + 1/2 + 1/2 + 0.99 + 0.97222 + 0.98970 + 1/2 + 1/2)
    # = 8.33288 over 13 measured metrics = 0.640990 → 64.1 %
    assert card.overall == Decimal("64.1")
    areas = {a["key"]: a["score"] for a in card.areas()}
    # asset management: (5/7 + 1/3 + 1/2) / 3 = 1.54762 / 3 = 51.6 %
    assert areas["asset_management"] == Decimal("51.6")


def test_past_quarter_recomputed_from_history() -> None:
    # given the same client
    ds = build()
    # when the closed quarter 2025-Q4 is recomputed (as of 2026-01-01 00:00)
    card, _records = compute(ds.client.pk, Q4, now=NOW)
    # then
    assert figures(card) == {
        # SRV1 SRV2 WS1 WS2 (WS3 did not exist, WS4 retired on 12-01); discovered before 01-01: D1 → 4 / 5
        "managed_devices": (4, 5, ""),
        # on 12-31: SRV1 yes, SRV2 no, FW1 (to 2026-01-31) yes → 2 / 3
        "warranty_server_network": (2, 3, ""),
        # WS1 yes, WS2 (ended 12-15) no, MOB1 no → 1 / 3
        "warranty_end_user": (1, 3, ""),
        # no device has a daily posture row (no agent reported one): N/A "no history", not 0 % nor 100 %
        "antivirus": (0, 0, NO_HISTORY),
        # on 01-01: WS1 still missed KB5034441 (first seen 11-01, installed 01-10); SRV1 saw it only on 01-05
        "os_updates": (2, 3, ""),
        "third_party_updates": (2, 3, ""),
        # FW1 had no check results in Q4: not monitored → 0 / 2 (a measured 0 %)
        "hardware_firewall": (0, 2, ""),
        "data_protection": (0, 0, NO_HISTORY),
        # SRV1 service: 11-01 150 / 200, 12-31 100 / 100 → 250 / 300
        "service_availability": (250, 300, ""),
        # no network check ran in Q4: N/A
        "network_reliability": (0, 0, NOTHING),
        # 92 days = 7,948,800 s × 4 = 31,795,200 + WS4 10-01→12-01 61 d = 5,270,400 → 37,065,600;
        # WS1 disk alert 12-31 18:00→24:00 = 21,600 → 37,044,000
        "performance": (37_044_000, 37_065_600, ""),
        # last rolled-up day of each server: SRV1 12-31 all passed, SRV2 12-20 all passed → 2 / 2
        "servers": (2, 2, ""),
        # T5 met, T6 first response missed, T7 met → 2 / 3
        "ticket_summary": (2, 3, ""),
    }
    assert values(card)["antivirus"] is None and values(card)["network_reliability"] is None
    # overall of the 10 measured: (4/5 + 2/3 + 1/3 + 2/3 + 2/3 + 0 + 250/300 + 0.999417 + 1 + 2/3) = 6.63275 / 10
    assert card.overall == Decimal("66.3")


def _posture(ds: Dataset, device: str, day: date, state: str, definitions: datetime | None, tool: str = "",
             backup: datetime | None = None) -> None:
    DevicePostureDaily.objects.create(client=ds.client, device=ds.devices[device], day=day, antivirus_state=state,
                                      antivirus_definitions_at=definitions, backup_tool=tool, last_backup_at=backup,
                                      recorded_at=at(day.year, day.month, day.day, 23))


def _posture_history(ds: Dataset) -> None:
    # SRV1: disabled on 11-01, then fine on 12-31 (definitions and backup exactly at their limits), disabled
    # again after the quarter (01-05: not read for Q4)
    _posture(ds, "SRV1", date(2025, 11, 1), "disabled", None, "restic", at(2025, 10, 31, 23))
    _posture(ds, "SRV1", date(2025, 12, 31), "running", at(2025, 12, 29), "restic", at(2025, 12, 30, 22))
    _posture(ds, "SRV1", date(2026, 1, 5), "disabled", None, "restic", at(2026, 1, 5, 1))
    # SRV2: last row 12-20; definitions and backup each one minute too old at 01-01 00:00
    _posture(ds, "SRV2", date(2025, 12, 20), "running", at(2025, 12, 28, 23, 59), "restic", at(2025, 12, 30, 21, 59))
    # WS1: fine, no backup tool
    _posture(ds, "WS1", date(2025, 12, 31), "running", at(2025, 12, 31, 8))
    # WS2: its first row is after the quarter; WS4: a row before its retirement on 12-01
    _posture(ds, "WS2", date(2026, 1, 2), "disabled", None)
    _posture(ds, "WS4", date(2025, 11, 15), "running", at(2025, 11, 15, 6), "Veeam", at(2025, 11, 15, 1))


def test_past_periods_read_the_daily_posture_history() -> None:
    # given the client with daily posture rows
    ds = build()
    _posture_history(ds)
    # when the closed quarter 2025-Q4 is recomputed (as of 2026-01-01 00:00, last day 12-31)
    card, records = compute(ds.client.pk, Q4, now=NOW, collect=True)
    # then each device in service reads its latest row on or before 12-31:
    # antivirus (limit 01-01 − 3 days = 12-29 00:00): SRV1 12-31 running, definitions 12-29 00:00 → ok;
    # SRV2 12-20 definitions 12-28 23:59 → too old; WS1 running 12-31 08:00 → ok. WS2 has no row by then and
    # WS4 was retired: not counted → 2 / 3
    # data protection (window 26 h → 12-30 22:00): SRV1 backup 12-30 22:00 → ok; SRV2 21:59 → late; WS1 reports
    # no backup tool → 1 / 2
    assert (figures(card)["antivirus"], figures(card)["data_protection"]) == ((2, 3, ""), (1, 2, ""))
    assert sorted((r.label, r.ok) for r in records["antivirus"]) == [("SRV1", True), ("SRV2", False), ("WS1", True)]
    assert sorted((r.label, r.ok) for r in records["data_protection"]) == [("SRV1", True), ("SRV2", False)]
    # and the overall now has 12 measured metrics: (6.63275 + 2/3 + 1/2) / 12 = 7.79942 / 12 = 64.995 % → 65.0 %
    assert card.overall == Decimal("65.0")
    # when November 2025 is recomputed (as of 12-01 00:00, last day 11-30)
    november, _records = compute(ds.client.pk, Period.parse("2025-11"), now=NOW)
    # then SRV1 reads its 11-01 row (disabled; backup 10-31 23:00, older than 26 h) and WS4, still in service on
    # 11-30, its 11-15 row (definitions and backup two weeks old): antivirus 0 / 2, data protection 0 / 2, measured
    assert (figures(november)["antivirus"], figures(november)["data_protection"]) == ((0, 2, ""), (0, 2, ""))
    # when October 2025 is recomputed: no device had a row by 10-31 → "no history", not 0 %
    october, _records = compute(ds.client.pk, Period.parse("2025-10"), now=NOW)
    assert (figures(october)["antivirus"], figures(october)["data_protection"]) == (
        (0, 0, NO_HISTORY), (0, 0, NO_HISTORY))
    # and the period in progress still reads the devices' current fields, not the rows (SRV1's 01-05 row says
    # disabled, its current field says running): the same 2 / 4 and 1 / 2 as without history
    current, _records = compute(ds.client.pk, Q1, now=NOW)
    assert (figures(current)["antivirus"], figures(current)["data_protection"]) == ((2, 4, ""), (1, 2, ""))
    assert current.overall == Decimal("64.1")


def test_past_period_posture_is_one_query_whatever_the_device_count() -> None:
    # given the client with its posture rows; Q4's query count taken; then twenty more devices, each with a row
    ds = build()
    _posture_history(ds)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            compute(ds.client.pk, Q4, now=NOW)
        return len(captured)

    before = queries()
    for index in range(20):
        device = Device.objects.create(
            client=ds.client, name=f"PC{index}", kind="workstation", managed=True, created_at=at(2025, 6, 1))
        DevicePostureDaily.objects.create(client=ds.client, device=device, day=date(2025, 12, 30),
                                          antivirus_state="running", antivirus_definitions_at=at(2025, 12, 30),
                                          recorded_at=at(2025, 12, 30, 23))
    # when Q4 is recomputed, then the number of queries is the same, and the twenty count as good
    assert queries() == before
    assert figures(compute(ds.client.pk, Q4, now=NOW)[0])["antivirus"] == (22, 23, "")


def test_weights_change_the_overall_only() -> None:
    # given the client and weights: antivirus left out (0), ticket summary counted three times
    ds = build()
    # when computed with those weights
    card, _records = compute(ds.client.pk, Q1, now=NOW, weights={"antivirus": 0, "ticket_summary": 3})
    # then the antivirus share is still shown, but the overall is (8.33288 − 1/2 + 2 × 1/2) / (13 − 1 + 2) = 63.1 %
    assert card.metric("antivirus").value == Decimal("50.0")
    assert card.overall == Decimal("63.1")


def test_month_period_and_drill_down_records() -> None:
    # given the client
    ds = build()
    # when January 2026 is computed with its records
    card, records = compute(ds.client.pk, Period.parse("2026-01"), now=NOW, collect=True)
    # then only T1 was resolved in January (met) → 1 / 1, and the records say which devices count
    assert figures(card)["ticket_summary"] == (1, 1, "")
    assert sorted((r.label, r.ok) for r in records["managed_devices"]) == [
        ("10.0.0.51", False), ("10.0.0.53", False), ("SRV1", True), ("SRV2", True), ("WS1", True), ("WS2", True),
        ("WS3", True)]


def test_client_without_data_is_all_na() -> None:
    # given a client with nothing at all
    client = Client.objects.create(name="Empty SAS", status="active")
    # when its quarter is computed
    card, _records = compute(client.pk, Q1, now=NOW)
    # then every metric is N/A (never 0 % or 100 %) and so is the overall score
    assert {m.reason for m in card.metrics} == {NOTHING}
    assert all(m.value is None for m in card.metrics)
    assert card.overall is None


def test_period_codes() -> None:
    assert Period.parse("2025-Q4") == Q4 and Q4.end == date(2026, 1, 1) and Q1.previous() == Q4
    assert Period.parse("2026-01").previous() == Period("month", date(2025, 12, 1))
    for bad in ("2026-Q5", "2026-13", "26-Q1", "", "2026-Q1; drop"):
        with pytest.raises(ValueError):
            Period.parse(bad)
