"""The client scorecard for a client with 1,000 devices and two years of history: device lifecycle changes,
discovered devices, daily check rollups (a service check on every server and a CPU check on every device for 730
days), performance alerts, tickets with SLA outcomes and listed updates, generated in bulk in a throw-away
database; then the scorecard is timed server-side (the computation, as the page and the API run it) for the
quarter in progress and for a closed quarter recomputed from history. Target: < 1 s. Never run in CI.

    python -m bench.scorecard                 # PostgreSQL at postgres://postgres@127.0.0.1:5432 (dropped after)
    python -m bench.scorecard --sqlite        # the embedded default
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.common import DEFAULT_PG, log, migrate, setup_django, workspace

TARGET_SECONDS = 1.0
KINDS = ["workstation"] * 60 + ["laptop"] * 25 + ["server"] * 8 + ["network_device"] * 4 + ["mobile"] * 3


def generate(devices: int = 1000, days: int = 730, seed: int = 11) -> tuple[int, dict[str, int]]:
    """Write one client's two years of records with bulk inserts; returns the client id and row counts."""
    from tenfold.assets.models import Device, DevicePostureDaily, DeviceStateChange, DiscoveredDevice
    from tenfold.clients.models import Client, Site
    from tenfold.monitoring.models import Alert, CheckDaily, CheckDefinition, CheckState, Policy
    from tenfold.patching.models import DeviceUpdate, DeviceUpdateScan, Update
    from tenfold.servicedesk.models import Ticket

    rng = random.Random(seed)  # noqa: S311  (benchmark data, not secrets)
    now = datetime.now(UTC)
    start = now - timedelta(days=days)
    client = Client.objects.create(name="Bench scorecard client", status="active")
    sites = [Site.objects.create(client=client, name=f"Site {i}", created_at=start) for i in range(10)]
    rows = []
    for i in range(devices):
        kind = KINDS[i % len(KINDS)]
        rows.append(Device(
            client=client, site=sites[i % len(sites)], name=f"{kind[:3].upper()}-{i:04d}", kind=kind,
            model="FortiGate 60F" if kind == "network_device" and i % 2 == 0 else "", state="active",
            managed=kind != "mobile", created_at=start + timedelta(days=rng.randrange(0, days // 2)),
            warranty_end=(now + timedelta(days=rng.randrange(-400, 900))).date(),
            antivirus_state=rng.choice(["running"] * 9 + ["disabled"]),
            antivirus_definitions_at=now - timedelta(hours=rng.randrange(1, 120)),
            backup_tool="restic" if kind in ("server", "workstation") else "",
            last_backup_at=now - timedelta(hours=rng.randrange(1, 60))))
    Device.objects.bulk_create(rows, batch_size=1000)
    device_rows = list(Device.objects.filter(client=client).values_list("pk", "kind", "created_at").order_by("pk"))
    retired = rng.sample(device_rows, devices // 20)
    changes = []
    for pk, _kind, created in retired:
        at = created + timedelta(days=rng.randrange(30, 200))
        changes.append(DeviceStateChange(client=client, device_id=pk, at=at, from_state="active", to_state="retired"))
    DeviceStateChange.objects.bulk_create(changes)
    Device.objects.filter(pk__in=[r[0] for r in retired]).update(state="retired")
    DiscoveredDevice.objects.bulk_create([
        DiscoveredDevice(client=client, ip=f"10.1.{i // 250}.{i % 250}", first_seen_at=start + timedelta(days=i),
                         last_seen_at=now) for i in range(120)])
    policy = Policy.objects.create(name="Bench", scope="client", client=client)
    checks = {kind: CheckDefinition.objects.create(policy=policy, check_type=kind, name=kind, params=params)
              for kind, params in (("service", {"name": "svc"}), ("cpu", {}), ("ping", {"host": "10.1.0.1"}))}
    daily = []
    first_day = start.date()
    for pk, kind, _created in device_rows:
        for offset in range(days):
            day = first_day + timedelta(days=offset)
            fails = 1 if rng.random() < 0.05 else 0
            daily.append(CheckDaily(client=client, device_id=pk, check_id=checks["cpu"].pk, day=day, runs=288,
                                    passes=288 - fails, warns=0, fails=fails, errors=0, computed_at=now))
            if kind == "server":
                daily.append(CheckDaily(client=client, device_id=pk, check_id=checks["service"].pk, day=day,
                                        runs=288, passes=286, warns=1, fails=1, errors=0, computed_at=now))
            if kind == "network_device":
                daily.append(CheckDaily(client=client, device_id=pk, check_id=checks["ping"].pk, day=day,
                                        runs=1440, passes=1436, warns=0, fails=4, errors=0, computed_at=now))
        if len(daily) >= 50_000:
            CheckDaily.objects.bulk_create(daily, batch_size=5000)
            daily = []
    CheckDaily.objects.bulk_create(daily, batch_size=5000)
    # A posture row per device per day (antivirus and backups as reported), read by past periods.
    posture: list[DevicePostureDaily] = []
    for pk, kind, _created in device_rows:
        for offset in range(days):
            day = first_day + timedelta(days=offset)
            at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
            posture.append(DevicePostureDaily(
                client=client, device_id=pk, day=day, recorded_at=at, antivirus_state="running",
                antivirus_definitions_at=at - timedelta(hours=rng.randrange(1, 96)),
                backup_tool="restic" if kind == "server" else "",
                last_backup_at=at - timedelta(hours=rng.randrange(1, 60)) if kind == "server" else None))
        if len(posture) >= 50_000:
            DevicePostureDaily.objects.bulk_create(posture, batch_size=5000)
            posture = []
    DevicePostureDaily.objects.bulk_create(posture, batch_size=5000)
    CheckState.objects.bulk_create([CheckState(client=client, device_id=pk, check_definition=checks["cpu"],
                                               status=rng.choice([0] * 19 + [2]), last_result_at=now)
                                    for pk, _kind, _c in device_rows])
    alerts = []
    for _ in range(5000):
        pk = rng.choice(device_rows)[0]
        opened = start + timedelta(minutes=rng.randrange(0, days * 1440))
        alerts.append(Alert(client=client, device_id=pk, check_definition=checks["cpu"], title="CPU",
                            status="resolved", opened_at=opened,
                            resolved_at=opened + timedelta(hours=rng.randrange(1, 30))))
    Alert.objects.bulk_create(alerts, batch_size=2000)
    tickets = []
    for _ in range(6000):
        resolved = start + timedelta(minutes=rng.randrange(0, days * 1440))
        tickets.append(Ticket(client=client, title="Bench ticket", resolved_at=resolved, resolution_due_at=resolved,
                              sla_first_response_met=rng.random() < 0.95, sla_resolution_met=rng.random() < 0.9,
                              created_at=resolved - timedelta(hours=6)))
    Ticket.objects.bulk_create(tickets, batch_size=2000)
    updates = [Update.objects.create(source=src, identifier=f"bench-{i}", title=f"Update {i}", category=cat)
               for i, (src, cat) in enumerate([("windows_update", "security"), ("winget", "application")] * 10)]
    DeviceUpdateScan.objects.bulk_create([DeviceUpdateScan(client=client, device_id=pk, scanned_at=now,
                                                           created_at=start)
                                          for pk, kind, _c in device_rows if kind != "mobile"])
    device_updates = []
    for pk, kind, created in device_rows:
        if kind == "mobile":
            continue
        for update in rng.sample(updates, 10):
            first = created + timedelta(days=rng.randrange(0, 300))
            installed = first + timedelta(days=rng.randrange(1, 40)) if rng.random() < 0.9 else None
            device_updates.append(DeviceUpdate(client=client, device_id=pk, update=update, first_seen_at=first,
                                               last_seen_at=now, installed_at=installed,
                                               state="installed" if installed else "missing"))
    DeviceUpdate.objects.bulk_create(device_updates, batch_size=5000)
    counts = {"devices": devices, "check_days": CheckDaily.objects.filter(client=client).count(),
              "alerts": len(alerts), "tickets": len(tickets), "device_updates": len(device_updates)}
    return client.pk, counts


def time_it(client_id: int, runs: int) -> dict[str, float]:
    from tenfold.reporting.scorecard import Period, compute

    current = Period.containing("quarter", date.today())
    results: dict[str, float] = {}
    for label, period in (("quarter in progress", current), ("closed quarter from history", current.previous()),
                          ("quarter a year ago", Period.containing("quarter", date.today() - timedelta(days=365)))):
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            card, _records = compute(client_id, period)
            samples.append(time.perf_counter() - started)
        results[label] = statistics.median(samples)
        log(f"{label}: median {results[label]:.3f} s over {runs} runs (overall {card.overall} %)")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    with workspace(sqlite=args.sqlite, pg_url=args.pg, keep=args.keep) as ws:
        setup_django(ws)
        migrate()
        started = time.perf_counter()
        client_id, counts = generate(args.devices, args.days)
        log(f"generated {counts} in {time.perf_counter() - started:.1f} s")
        results: dict[str, Any] = time_it(client_id, args.runs)
    worst = max(results.values())
    print(f"scorecard, {args.devices} devices, {args.days} days of history ({ws.vendor}):")
    for label, seconds in results.items():
        print(f"  {label:30} {seconds * 1000:8.1f} ms")
    print(f"  target < {TARGET_SECONDS:.1f} s: {'met' if worst < TARGET_SECONDS else 'NOT met'}")


if __name__ == "__main__":
    main()
