"""Demo history: 30 days of daily rollups and the last 24 hours of raw metric samples and check results
for a handful of demo devices, written in bulk; then today's and yesterday's rollups are computed from the
raw rows by the real `rollup_day`. Deterministic for a seed (apart from `now`)."""

from __future__ import annotations

import math
import random
from datetime import UTC, timedelta

from django.utils import timezone

from tenfold.assets.models import CheckResult, Device, MetricSample
from tenfold.monitoring.history import day_bounds, rollup_day
from tenfold.monitoring.models import CheckDaily, CheckState, DeviceMetricDaily, EvaluationCursor, HistoryDay

DEVICES = 8
DAYS = 30
SAMPLE_EVERY = timedelta(minutes=5)
CHECK_EVERY = timedelta(minutes=5)


def _clamp(value: float) -> float:
    return round(max(0.0, min(100.0, value)), 1)


def seed_history(rng: random.Random, devices: int = DEVICES) -> dict[str, int]:
    """Write the demo history; returns the row counts written."""
    now = timezone.now().astimezone(UTC)
    today = now.date()
    # Devices with check states (the demo alerts) first, so their availability shows too.
    with_states = list(CheckState.objects.order_by("device_id").values_list("device_id", flat=True).distinct())
    chosen = list(Device.objects.filter(pk__in=with_states[:devices]).order_by("pk"))
    if len(chosen) < devices:
        chosen += list(Device.objects.filter(managed=True).exclude(pk__in=[d.pk for d in chosen])
                       .order_by("pk")[:devices - len(chosen)])
    checks: dict[int, list[int]] = {}
    for device_id, check_id in CheckState.objects.filter(device__in=chosen).values_list(
            "device_id", "check_definition_id"):
        checks.setdefault(device_id, []).append(check_id)

    daily: list[DeviceMetricDaily] = []
    check_daily: list[CheckDaily] = []
    samples: list[MetricSample] = []
    results: list[CheckResult] = []
    seq = 1
    for device in chosen:
        base_cpu, base_mem, disk = rng.uniform(8, 45), rng.uniform(30, 70), rng.uniform(25, 80)
        # Daily rollups for the 30 days before yesterday (yesterday and today come from the raw rows).
        for back in range(DAYS, 1, -1):
            day = today - timedelta(days=back)
            cpu = base_cpu + rng.uniform(-6, 6)
            mem = base_mem + rng.uniform(-5, 5)
            disk = max(3.0, disk - rng.uniform(0, 0.6))
            daily.append(DeviceMetricDaily(
                client_id=device.client_id, device=device, day=day, samples=288, cpu_avg=_clamp(cpu),
                cpu_max=_clamp(cpu + rng.uniform(20, 50)), mem_avg=_clamp(mem),
                mem_max=_clamp(mem + rng.uniform(5, 20)), disk_min_free=_clamp(disk), computed_at=now))
            for check_id in checks.get(device.pk, []):
                fails = rng.choices([0, 0, 0, 1, 3, 12], k=1)[0]
                warns = rng.choice([0, 0, 2])
                check_daily.append(CheckDaily(
                    client_id=device.client_id, device=device, check_id=check_id, day=day, runs=288,
                    passes=288 - fails - warns, warns=warns, fails=fails, errors=0, computed_at=now))
        # The last 24 hours of raw samples and results, every five minutes, with a daily curve.
        at = now - timedelta(hours=24)
        while at <= now:
            hour = at.hour + at.minute / 60
            wave = math.sin((hour - 8) / 24 * 2 * math.pi)
            samples.append(MetricSample(
                client_id=device.client_id, device=device, at=at,
                cpu_pct=_clamp(base_cpu + 15 * wave + rng.uniform(-5, 5)),
                mem_pct=_clamp(base_mem + 6 * wave + rng.uniform(-2, 2)), disk_min_free_pct=_clamp(disk)))
            for check_id in checks.get(device.pk, []):
                status = rng.choices([0, 1, 2], weights=[96, 3, 1])[0]
                results.append(CheckResult(client_id=device.client_id, device=device, check_id=check_id, at=at,
                                           status=status, value=None, message="", seq=seq))
                seq += 1
            at += SAMPLE_EVERY
    DeviceMetricDaily.objects.bulk_create(daily, batch_size=2000)
    CheckDaily.objects.bulk_create(check_daily, batch_size=2000)
    MetricSample.objects.bulk_create(samples, batch_size=2000)
    CheckResult.objects.bulk_create(results, batch_size=2000)
    # The seeded days count as rolled up after they ended (so retention treats them like real ones).
    HistoryDay.objects.bulk_create([HistoryDay(day=today - timedelta(days=back),
                                               rolled_up_at=day_bounds(today - timedelta(days=back))[1])
                                    for back in range(DAYS, 1, -1)], ignore_conflicts=True)
    # The seeded results are history: the evaluator starts after them (the demo alerts stay as seeded).
    last = CheckResult.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    EvaluationCursor.objects.update_or_create(pk=1, defaults={"last_result_id": last})
    rolled = [rollup_day(today - timedelta(days=1)), rollup_day(today)]
    return {"daily": len(daily), "check_daily": len(check_daily), "samples": len(samples),
            "results": len(results), "rolled_rows": sum(r.metric_rows + r.check_rows for r in rolled)}
