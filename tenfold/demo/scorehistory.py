"""Two years of the raw history the client scorecard reads, so past quarters are recomputed, not invented.

Written in bulk, in one pass, deterministic for a seed (apart from `now`), after the rest of the demo:
- clients join the MSP when their invoice history starts (`kpis.seed_history`); their sites open then, their
  managed contract starts then;
- devices come under management over the two years (a core at the start, more added month after month), each
  with its lifecycle (onboarding, then active; a few old workstations retired along the way), and the contract
  covers each device from the day it arrived (so "managed services growth" has a real curve);
- network discovery saw each device a little before its agent was installed;
- daily check rollups of the availability, network and server checks the devices' real policies run;
- CPU, memory and disk alerts opened and resolved over the two years;
- monthly operating-system and third-party updates, each installed some days after it was listed;
- each managed device's daily posture (antivirus state and definitions, backup tool and last backup), as its
  agent would have reported it every day: definitions mostly fresh and nightly backups, with lapses (stale
  definitions, a disabled antivirus, backups failing for a few days) that grow rarer as the service improves;
- (the tickets and their SLA outcomes come from `kpis.seed_history`.)

Service quality improves over the two years for every client except one (`data.WORSENING_CLIENT`), whose
service slips over the last year: more check failures, more alerts, later patches, more missed SLA targets.
The daily posture rows are what a real deployment keeps, so closed quarters measure antivirus and data
protection too.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import Min
from django.utils import timezone

from tenfold.assets.models import (
    AntivirusState,
    Device,
    DeviceKind,
    DevicePostureDaily,
    DeviceState,
    DeviceStateChange,
    DiscoveredDevice,
    SoftwareItem,
)
from tenfold.billing.models import Invoice
from tenfold.clients.models import Client, ClientStatus, Site
from tenfold.contracts.models import Contract, ContractCoverage, ContractType, CoverageKind
from tenfold.demo import data
from tenfold.monitoring.checktypes import CheckType
from tenfold.monitoring.history import day_bounds
from tenfold.monitoring.models import Alert, CheckDaily, HistoryDay
from tenfold.monitoring.policies import effective_policies
from tenfold.patching.models import DeviceUpdate, DeviceUpdateScan, DeviceUpdateState, Update
from tenfold.reporting.models import PeriodKind
from tenfold.reporting.scorecard import Period

QUARTERS = 8  # closed quarters recomputed from this history
INSERT_BATCH = 5000
ROLLED_CHECKS = (CheckType.SERVICE, CheckType.PROCESS, CheckType.HTTP, CheckType.TCP_PORT, CheckType.PING)
ALERT_CHECKS = (CheckType.CPU, CheckType.MEMORY, CheckType.DISK_FREE)
RETIRED_NAMES = ["PC-ANCIEN", "PC-RECEPTION-XP", "LAPTOP-PRET"]
# (family, source, identifier pattern, title pattern, category, severity)
MONTHLY_UPDATES = [
    ("windows", "windows_update", "KB5{yy:02d}{mm:02d}11",
     "Mise à jour cumulative {ym} pour Windows (KB5{yy:02d}{mm:02d}11)", "security", "critical"),
    ("windows", "winget", "Mozilla.Firefox", "Mozilla Firefox", "application", ""),
    ("linux", "apt", "linux-image-generic", "linux-image-generic", "security", ""),
    ("macos", "softwareupdate", "macOS Security Response {ym}", "macOS Security Response {ym}", "security", ""),
]


def _insert(model: Any, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Write tens of thousands of new history rows fast: PostgreSQL's COPY, SQLite's `executemany` of one prepared
    INSERT (either is several times faster than `bulk_create` building model instances; the rows are new, so no
    signal or default is missed)."""
    qn = connection.ops.quote_name
    table, names = qn(model._meta.db_table), ", ".join(qn(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        # Names come from the model's metadata and the code, never from input; values are parameters.
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608  # nosec B608
        for index in range(0, len(rows), INSERT_BATCH):
            cursor.executemany(sql, rows[index:index + INSERT_BATCH])


def history_start(now: datetime) -> datetime:
    """The first instant of the oldest closed quarter the demo recomputes."""
    period = Period.containing(PeriodKind.QUARTER, now.date())
    for _back in range(QUARTERS):
        period = period.previous()
    return period.start_dt


def quality(worsening: bool, age: float) -> float:
    """How well the MSP runs a client's service at `age` (0 at the start of the history, 1 today): 0 to 1.
    It improves steadily; for the client that gets worse, it improves for a year and then slips."""
    age = min(1.0, max(0.0, age))
    if not worsening:
        return 0.80 + 0.16 * age
    return 0.82 + 0.12 * min(age, 0.5) * 2 - (0.34 * (age - 0.5) * 2 if age > 0.5 else 0.0)


def _age(at: datetime, start: datetime, now: datetime) -> float:
    return (at - start).total_seconds() / max(1.0, (now - start).total_seconds())


def _joins(clients: list[Client], start: datetime, now: datetime) -> dict[int, datetime]:
    """When each client joined: its first invoice of the history, no earlier than three months before it."""
    first = dict(Invoice.objects.filter(client__in=clients).values("client_id").annotate(m=Min("period_start"))
                 .values_list("client_id", "m"))
    joins = {}
    for client in clients:
        day = first.get(client.pk)
        at = datetime.combine(day, time(8), tzinfo=UTC) if day else start
        joins[client.pk] = min(max(at, start - timedelta(days=90)), now - timedelta(days=120))
    return joins


def seed_score_history(rng: random.Random, now: datetime | None = None) -> dict[str, int]:
    """Write the history; returns the counts written."""
    now = (now or timezone.now()).astimezone(UTC)
    start = history_start(now)
    clients = list(Client.objects.filter(status=ClientStatus.ACTIVE).order_by("pk"))
    if not clients:
        return {}
    joins = _joins(clients, start, now)
    worsening = {c.pk for c in clients if c.name == data.WORSENING_CLIENT}
    _sites_and_contracts(rng, clients, joins)
    counts = _devices(rng, clients, joins, now)
    devices = list(Device.objects.filter(client__in=clients).order_by("pk"))
    _discovery(rng, devices)
    counts["coverage"] = _coverage(devices, now)
    counts["check_daily"] = _check_rollups(rng, devices, start, now, worsening)
    counts["alerts"] = _alerts(rng, devices, start, now, worsening)
    counts["device_updates"] = _updates(rng, devices, start, now, worsening)
    counts["posture_days"] = _posture_days(rng, devices, start, now, worsening)
    return counts


def _sites_and_contracts(rng: random.Random, clients: list[Client], joins: dict[int, datetime]) -> None:
    sites = list(Site.objects.filter(client__in=clients).order_by("client_id", "pk"))
    first_of: dict[int, int] = {}
    for site in sites:
        joined = joins[site.client_id]
        # The first site is there when the client joins; others open later (a branch, a warehouse).
        site.created_at = joined if first_of.setdefault(site.client_id, site.pk) == site.pk else (
            joined + timedelta(days=rng.randint(30, 300)))
    Site.objects.bulk_update(sites, ["created_at"], batch_size=500)
    contracts = list(Contract.objects.filter(client__in=clients, type=ContractType.MANAGED))
    for contract in contracts:
        joined = joins[contract.client_id]
        contract.start_date = joined.date().replace(day=1)
        contract.signed_at = joined - timedelta(days=14)
        contract.created_at = joined - timedelta(days=14)
    Contract.objects.bulk_update(contracts, ["start_date", "signed_at", "created_at"], batch_size=500)


def _devices(rng: random.Random, clients: list[Client], joins: dict[int, datetime],
             now: datetime) -> dict[str, int]:
    """Back-date each device's arrival, write its lifecycle, and add a few retired old workstations."""
    devices = list(Device.objects.filter(client__in=clients).order_by("pk"))
    by_client: dict[int, list[Device]] = defaultdict(list)
    for device in devices:
        by_client[device.client_id].append(device)
    retired: list[Device] = []
    for client in clients:
        joined = joins[client.pk]
        span = max(1, int((now - timedelta(days=25) - joined).total_seconds()))
        for device in by_client[client.pk]:
            if device.state == DeviceState.ONBOARDING:
                device.created_at = now - timedelta(days=rng.randint(2, 20), hours=rng.randint(0, 23))
            elif rng.random() < 0.55:  # the core of the fleet, onboarded in the first weeks
                device.created_at = joined + timedelta(days=rng.randint(0, 40), hours=rng.randint(0, 9))
            else:  # added over time: the client grows
                device.created_at = joined + timedelta(seconds=rng.randint(0, span))
        template = next((d for d in by_client[client.pk] if d.kind == DeviceKind.WORKSTATION and d.managed), None)
        if template is None:
            continue
        for index in range(rng.randint(1, 2)):
            created = joined + timedelta(days=rng.randint(0, 20))
            gone = min(created + timedelta(days=rng.randint(120, max(121, (now - created).days - 30))),
                       now - timedelta(days=5))
            retired.append(Device(
                client=client, site_id=template.site_id, name=f"{RETIRED_NAMES[index]}-{index + 1:02d}",
                hostname=f"{RETIRED_NAMES[index].lower()}-{index + 1:02d}", kind=DeviceKind.WORKSTATION,
                state=DeviceState.RETIRED, managed=True, os_family="windows", os_name="Windows 10 Pro",
                os_version="21H2", vendor="HP", model="ProDesk 400 G4",
                serial_number=f"HP{rng.randint(10**7, 10**8 - 1)}", machine_id=f"demo-{client.pk}-r{index}",
                cpu_model="Intel Core i3-7100", cpu_cores=2, memory_bytes=8 * 1024**3, last_seen_at=gone,
                purchase_date=date(2017, 3, 1) + timedelta(days=rng.randint(0, 600)),
                warranty_end=date(2020, 3, 1) + timedelta(days=rng.randint(0, 600)), inventory_at=gone,
                created_at=created))
    Device.objects.bulk_update(devices, ["created_at"], batch_size=500)
    Device.objects.bulk_create(retired, batch_size=500)
    old = {d.name: d for d in retired}
    saved_retired = list(Device.objects.filter(state=DeviceState.RETIRED, client__in=clients,
                                               name__in=list(old)).order_by("pk"))
    SoftwareItem.objects.bulk_create([
        SoftwareItem(client_id=d.client_id, device=d, name=name, version=version, publisher=publisher)
        for d in saved_retired for name, version, publisher in (
            ("Microsoft Office 2016", "16.0.4266", "Microsoft Corporation"),
            ("Mozilla Firefox", "115.0", "Mozilla"), ("7-Zip", "19.00", "Igor Pavlov"))], batch_size=500)
    # The lifecycle: the seed's single "created" row becomes the real sequence of moves.
    DeviceStateChange.objects.filter(client__in=clients).delete()
    changes = []
    for device in [*devices, *saved_retired]:
        arrived = device.created_at
        changes.append(DeviceStateChange(client_id=device.client_id, device=device, at=arrived, from_state="",
                                         to_state=DeviceState.ONBOARDING, reason="Demo"))
        if device.state == DeviceState.ONBOARDING:
            continue
        active = arrived + timedelta(days=rng.randint(1, 5))
        changes.append(DeviceStateChange(client_id=device.client_id, device=device, at=active,
                                         from_state=DeviceState.ONBOARDING, to_state=DeviceState.ACTIVE,
                                         reason="Agent installed"))
        if device.state == DeviceState.MAINTENANCE:
            changes.append(DeviceStateChange(client_id=device.client_id, device=device,
                                             at=now - timedelta(days=rng.randint(1, 6)), from_state=DeviceState.ACTIVE,
                                             to_state=DeviceState.MAINTENANCE, reason="Repair"))
        elif device.state == DeviceState.RETIRED:
            changes.append(DeviceStateChange(client_id=device.client_id, device=device, at=device.last_seen_at or now,
                                             from_state=DeviceState.ACTIVE, to_state=DeviceState.RETIRED,
                                             reason="Replaced"))
    DeviceStateChange.objects.bulk_create(changes, batch_size=1000)
    return {"devices": len(devices), "retired": len(saved_retired), "state_changes": len(changes)}


def _discovery(rng: random.Random, devices: list[Device]) -> None:
    """The network saw each device a few days before its agent, and the devices no agent runs on from the
    start: the share of the environment under management grows as devices are added."""
    arrived = {d.pk: d.created_at for d in devices}
    joined: dict[int, datetime] = {}
    for device in devices:
        joined[device.client_id] = min(joined.get(device.client_id, device.created_at), device.created_at)
    rows = list(DiscoveredDevice.objects.filter(client_id__in=list(joined)).order_by("pk"))
    for row in rows:
        if row.matched_device_id in arrived:
            row.first_seen_at = arrived[row.matched_device_id] - timedelta(days=rng.randint(1, 20))
        else:  # printers, phones, a NAS: on the network from the start, never managed
            row.first_seen_at = joined[row.client_id] + timedelta(days=rng.randint(0, 60), hours=rng.randint(0, 23))
        row.created_at = row.first_seen_at
    DiscoveredDevice.objects.bulk_update(rows, ["first_seen_at", "created_at"], batch_size=500)


def _coverage(devices: list[Device], now: datetime) -> int:
    """Each covered device from its arrival (a retired one until its retirement); sites from their opening."""
    contracts = {c.client_id: c for c in Contract.objects.filter(type=ContractType.MANAGED).order_by("pk")}
    by_pk = {d.pk: d for d in devices}
    rows = list(ContractCoverage.objects.filter(kind=CoverageKind.DEVICE, device_id__in=list(by_pk)))
    for row in rows:
        if row.device_id is not None:
            row.started_at = by_pk[row.device_id].created_at
    ContractCoverage.objects.bulk_update(rows, ["started_at"], batch_size=500)
    sites = list(ContractCoverage.objects.filter(kind=CoverageKind.SITE).select_related("site"))
    for row in sites:
        row.started_at = row.site.created_at if row.site else row.started_at
    ContractCoverage.objects.bulk_update(sites, ["started_at"], batch_size=500)
    gone = [ContractCoverage(client_id=d.client_id, contract=contracts[d.client_id], kind=CoverageKind.DEVICE,
                             device=d, started_at=d.created_at, ended_at=_retired_at(d))
            for d in devices if d.state == DeviceState.RETIRED and d.client_id in contracts]
    ContractCoverage.objects.bulk_create(gone, batch_size=500)
    return len(rows) + len(gone)


def _retired_at(device: Device) -> datetime | None:
    # A retired demo device was last seen the day it was retired.
    return device.last_seen_at if device.state == DeviceState.RETIRED else None


def _check_rollups(rng: random.Random, devices: list[Device], start: datetime, now: datetime,
                   worsening: set[int]) -> int:
    """Daily rollups of the availability and network checks, and of every check of the servers."""
    managed = [d for d in devices if d.managed and d.state != DeviceState.RETIRED]
    policies = effective_policies(managed)
    existing = set(CheckDaily.objects.values_list("device_id", "check_id", "day"))
    last = (now - timedelta(days=2)).date()
    ops = connection.ops
    rows: list[tuple[Any, ...]] = []
    days_written: set[date] = set()
    for device in managed:
        checks = [c for c in policies[device.pk].checks
                  if c["type"] in ROLLED_CHECKS or device.kind == DeviceKind.SERVER]
        if not checks:
            continue
        day = max(device.created_at.date() + timedelta(days=1), start.date() - timedelta(days=7))
        day_value = ops.adapt_datefield_value(day)
        computed = ops.adapt_datetimefield_value(day_bounds(day)[1])
        while day <= last:
            q = quality(device.client_id in worsening, _age(datetime.combine(day, time(12), tzinfo=UTC), start, now))
            for check in checks:
                if (device.pk, check["id"], day) in existing:
                    continue
                runs = max(1, 86400 // int(check["interval"] or 300))
                fails = warns = 0
                if rng.random() < (1 - q) * 0.5:
                    fails = min(runs, rng.randint(1, runs // 6 + 1))
                if rng.random() < (1 - q) * 0.3:
                    warns = min(runs - fails, rng.randint(1, 6))
                rows.append((device.client_id, device.pk, check["id"], day_value, runs, runs - fails - warns, warns,
                             fails, 0, computed))
            days_written.add(day)
            day += timedelta(days=1)
            day_value = ops.adapt_datefield_value(day)
            computed = ops.adapt_datetimefield_value(day_bounds(day)[1])
    _insert(CheckDaily, ["client_id", "device_id", "check_id", "day", "runs", "passes", "warns", "fails", "errors",
                         "computed_at"], rows)
    # The seeded days count as rolled up after they ended, like real ones.
    HistoryDay.objects.bulk_create([HistoryDay(day=d, rolled_up_at=day_bounds(d)[1]) for d in sorted(days_written)],
                                   ignore_conflicts=True, batch_size=1000)
    return len(rows)


def _alerts(rng: random.Random, devices: list[Device], start: datetime, now: datetime, worsening: set[int]) -> int:
    """CPU, memory and disk alerts over the two years, each resolved within hours or days."""
    managed = [d for d in devices if d.managed]
    live = [d for d in managed if d.state != DeviceState.RETIRED]
    policies = effective_policies(live)
    rows = []
    for device in live:
        checks = [s.check for s in policies[device.pk].sources
                  if s.check.enabled and s.check.check_type in ALERT_CHECKS]
        if not checks:
            continue
        month = max(device.created_at, start - timedelta(days=7))
        while month < now - timedelta(days=14):
            q = quality(device.client_id in worsening, _age(month, start, now))
            if rng.random() < (1 - q) * 1.6:
                check = rng.choice(checks)
                opened = month + timedelta(hours=rng.randint(0, 29 * 24))
                resolved = opened + timedelta(minutes=rng.randint(20, int(60 * (4 + 200 * (1 - q)))))
                if resolved < now - timedelta(days=12):
                    rows.append(Alert(
                        client_id=device.client_id, device=device, check_definition=check, kind="check",
                        severity=check.severity, status="resolved", title=f"{check.name} failing on {device.name}",
                        message=check.name, opened_at=opened, last_seen_at=resolved - timedelta(minutes=5),
                        occurrences=rng.randint(1, 20), resolved_at=resolved, created_at=opened))
            month += timedelta(days=30)
    Alert.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _month_starts(first: date, last: date) -> list[date]:
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(day)
        day = (day + timedelta(days=32)).replace(day=1)
    return months


def _patch_tuesday(month: date) -> date:
    day = month + timedelta(days=(1 - month.weekday()) % 7)  # the first Tuesday
    return day + timedelta(days=7)


def _updates(rng: random.Random, devices: list[Device], start: datetime, now: datetime, worsening: set[int]) -> int:
    """Each month's OS and third-party updates, installed some days after they were listed (sooner as the
    service improves). A device's update listing starts the day after its agent arrived."""
    managed = [d for d in devices if d.managed and d.state != DeviceState.RETIRED]
    scans = list(DeviceUpdateScan.objects.filter(device__in=managed))
    arrived = {d.pk: d.created_at for d in managed}
    for scan in scans:
        scan.created_at = arrived[scan.device_id] + timedelta(days=1)
    DeviceUpdateScan.objects.bulk_update(scans, ["created_at"], batch_size=500)
    listed = {s.device_id for s in scans}
    months = _month_starts((start - timedelta(days=60)).date(), (now - timedelta(days=45)).date())
    catalog: dict[str, list[Update]] = defaultdict(list)
    wanted = []
    for index, month in enumerate(months):
        released = _patch_tuesday(month)
        ym = f"{month:%Y-%m}"
        for _family, source, identifier, title, category, severity in MONTHLY_UPDATES:
            version = "" if "{" in identifier else f"{100 + index}.0" if source == "winget" else \
                f"5.15.0.{60 + index}.{58 + index}"
            wanted.append(Update(source=source, identifier=identifier.format(yy=month.year % 100, mm=month.month,
                                                                               ym=ym),
                                 version=version, title=title.format(yy=month.year % 100, mm=month.month, ym=ym),
                                 category=category, severity=severity, released_on=released,
                                 first_seen_at=datetime.combine(released, time(19), tzinfo=UTC)))
    Update.objects.bulk_create(wanted, batch_size=500, ignore_conflicts=True)
    keys = {(u.source, u.identifier, u.version) for u in wanted}
    for update in Update.objects.filter(source__in={u.source for u in wanted}).order_by("released_on", "pk"):
        if (update.source, update.identifier, update.version) in keys:
            family = next(f for f, s, *_r in MONTHLY_UPDATES if s == update.source)
            catalog[family].append(update)
    adapt = connection.ops.adapt_datetimefield_value
    rows: list[tuple[Any, ...]] = []
    for device in managed:
        if device.pk not in listed:
            continue
        for update in catalog.get(device.os_family, []):
            seen = max(update.first_seen_at, arrived[device.pk] + timedelta(days=1))
            if seen >= now - timedelta(days=30):
                continue
            q = quality(device.client_id in worsening, _age(seen, start, now))
            delay = timedelta(hours=rng.expovariate(1 / (24 * (2 + 40 * (1 - q)))))
            installed = min(seen + delay, now - timedelta(days=1))
            rows.append((adapt(seen), adapt(installed), device.client_id, device.pk, update.pk, update.version,
                         update.version, DeviceUpdateState.INSTALLED.value, adapt(seen), adapt(installed),
                         adapt(installed), ""))
    _insert(DeviceUpdate, ["created_at", "updated_at", "client_id", "device_id", "update_id", "installed_version",
                           "available_version", "state", "first_seen_at", "last_seen_at", "installed_at", "message"],
            rows)
    return len(rows)



def _posture_days(rng: random.Random, devices: list[Device], start: datetime, now: datetime,
                  worsening: set[int]) -> int:
    """Each managed device's posture of each day from the day after it arrived to yesterday (a retired one to its
    retirement): what its agent last reported that day. Windows devices run Microsoft Defender, servers back up
    with Veeam every night; a lapse is likelier when the service is worse."""
    managed = [d for d in devices if d.managed]
    existing = set(DevicePostureDaily.objects.filter(device__in=managed).values_list("device_id", "day"))
    yesterday = (now - timedelta(days=1)).date()
    ops = connection.ops
    adapt = ops.adapt_datetimefield_value
    rows: list[tuple[Any, ...]] = []
    for device in managed:
        antivirus = device.os_family == "windows"
        tool = device.backup_tool or ("Veeam" if device.kind == DeviceKind.SERVER else "")
        last = min(yesterday, (_retired_at(device) or now).date() - timedelta(days=1))
        day = max(device.created_at.date() + timedelta(days=1), start.date() - timedelta(days=7))
        failing_since: datetime | None = None
        while day <= last:
            noon = datetime.combine(day, time(12), tzinfo=UTC)
            q = quality(device.client_id in worsening, _age(noon, start, now))
            state, definitions = "", None
            if antivirus:
                roll = rng.random()
                # The plain value: PostgreSQL's COPY would write an enum member's name.
                state = (AntivirusState.DISABLED if roll < (1 - q) * 0.15 else
                         AntivirusState.OUT_OF_DATE if roll < (1 - q) * 0.45 else AntivirusState.RUNNING).value
                stale = state != AntivirusState.RUNNING or rng.random() < (1 - q) * 0.5
                definitions = noon - timedelta(hours=rng.randint(80, 300) if stale else rng.randint(0, 30))
            backup = None
            if tool:
                # A failing backup job stays failing for some days; the last success stays where it was.
                if failing_since is None and rng.random() < (1 - q) * 0.25:
                    failing_since = datetime.combine(day, time(2), tzinfo=UTC) - timedelta(days=1)
                elif failing_since is not None and rng.random() < 0.35:
                    failing_since = None
                backup = failing_since or datetime.combine(day, time(2, rng.randint(0, 59)), tzinfo=UTC)
            if (device.pk, day) not in existing:
                rows.append((device.client_id, device.pk, ops.adapt_datefield_value(day), state, adapt(definitions),
                             tool, adapt(backup), adapt(noon + timedelta(hours=rng.randint(6, 11)))))
            day += timedelta(days=1)
    _insert(DevicePostureDaily, ["client_id", "device_id", "day", "antivirus_state", "antivirus_definitions_at",
                                 "backup_tool", "last_backup_at", "recorded_at"], rows)
    return len(rows)
