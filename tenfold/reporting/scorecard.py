"""The client scorecard (product P1.1, the seed's "tableau de bord client"): two areas, thirteen metrics, each
a share (numerator / denominator) of a client's live records over a period, "N/A" when nothing falls under its
formula, and an overall score that is the weighted mean of the measured metrics.

Every formula is written out in docs/scorecard.md; `FORMULA_VERSION` changes whenever one of them does, and
snapshots keep the version they were computed with.

A period is computed "as of" an instant T: the end of a closed period, or now for the period in progress.
Past periods are recomputed from the histories that exist (device lifecycle changes, discovered devices' first
sighting, warranty end dates, update first-seen / installed times, daily check rollups, alert open / resolve
times, ticket SLA outcomes). Antivirus state and the last backup are kept only as the device's current state:
those two metrics are measured for the period in progress only and are N/A ("no history") when a closed
period is recomputed; the snapshot taken when the period closed keeps what they were.

Times are UTC; a day of the rollups is a UTC day.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from django.apps import apps
from django.db.models import OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenfold.assets.models import (
    AntivirusState,
    Device,
    DeviceKind,
    DevicePostureDaily,
    DeviceState,
    DeviceStateChange,
    DiscoveredDevice,
)
from tenfold.clients.models import Site
from tenfold.monitoring.checktypes import CheckType
from tenfold.monitoring.models import Alert, CheckDaily, CheckDefinition, CheckState
from tenfold.servicedesk.models import Ticket

FORMULA_VERSION = 1
TENTH = Decimal("0.1")
HUNDRED = Decimal(100)

ASSET_MANAGEMENT = "asset_management"
SECURITY_MONITORING = "security_monitoring"
AREAS: dict[str, Any] = {ASSET_MANAGEMENT: _("Asset management"), SECURITY_MONITORING: _("Security monitoring")}

# N/A reasons (stored in snapshots as codes; shown with REASONS).
NOTHING = "nothing_to_measure"
NO_HISTORY = "no_history"
NO_PATCHING = "patching_unavailable"
REASONS: dict[str, Any] = {
    NOTHING: _("Nothing to measure in this period: no record falls under this metric's formula."),
    NO_HISTORY: _("No device in service then has its daily posture kept for this period: it is measured from "
                  "the day the agents' posture reports are kept."),
    NO_PATCHING: _("Update data is not available (the patching module has no records)."),
}

SERVER_NETWORK = (DeviceKind.SERVER, DeviceKind.NETWORK_DEVICE)
END_USER = (DeviceKind.WORKSTATION, DeviceKind.LAPTOP, DeviceKind.MOBILE)
AVAILABILITY_CHECKS = (CheckType.SERVICE, CheckType.PROCESS, CheckType.HTTP, CheckType.TCP_PORT)
NETWORK_CHECKS = (CheckType.PING,)
PERFORMANCE_CHECKS = (CheckType.CPU, CheckType.MEMORY, CheckType.DISK_FREE)
OS_UPDATE_SOURCES = ("apt", "dnf", "zypper", "windows_update", "softwareupdate")
THIRD_PARTY_SOURCES = ("winget", "brew")
FIREWALL_WORDS = re.compile(r"firewall|pare-feu|fortigate|pfsense|opnsense|sophos|sonicwall|watchguard|\butm\b|\bfw\b",
                            re.IGNORECASE)


@dataclass(frozen=True)
class MetricDef:
    """One metric of the scorecard: its key, area, label and one-line formula."""

    key: str
    area: str
    label: Any
    formula: Any


METRICS: tuple[MetricDef, ...] = (
    MetricDef("managed_devices", ASSET_MANAGEMENT, _("Managed devices"),
              _("Managed devices / (managed devices + discovered devices no managed device matches).")),
    MetricDef("warranty_server_network", ASSET_MANAGEMENT, _("Server & network warranty"),
              _("Servers and network devices in service whose warranty runs to the end of the period / all of "
                "them.")),
    MetricDef("warranty_end_user", ASSET_MANAGEMENT, _("Workstation, laptop & mobile warranty"),
              _("Workstations, laptops and mobiles in service under warranty at the end of the period / all of "
                "them.")),
    MetricDef("antivirus", SECURITY_MONITORING, _("Antivirus"),
              _("Managed devices reporting an antivirus that is running with definitions younger than the limit "
                "/ managed devices reporting their antivirus state.")),
    MetricDef("os_updates", SECURITY_MONITORING, _("Windows / OS updates"),
              _("Managed devices with no operating-system update missing for longer than the grace period / "
                "managed devices whose updates are listed.")),
    MetricDef("third_party_updates", SECURITY_MONITORING, _("Third-party updates"),
              _("The same for third-party applications.")),
    MetricDef("hardware_firewall", SECURITY_MONITORING, _("Hardware firewall"),
              _("Sites with a firewall device in service and monitored / sites.")),
    MetricDef("data_protection", SECURITY_MONITORING, _("Data protection"),
              _("Protected devices (a backup tool reports) whose last backup succeeded within the window / "
                "protected devices.")),
    MetricDef("service_availability", SECURITY_MONITORING, _("Service availability"),
              _("Successful runs / runs of service, process, HTTP and TCP port checks over the period.")),
    MetricDef("network_reliability", SECURITY_MONITORING, _("Network reliability"),
              _("Successful runs / runs of network (ping) checks over the period.")),
    MetricDef("performance", SECURITY_MONITORING, _("Performance"),
              _("Device-hours of managed devices without an open CPU, memory or disk alert / device-hours.")),
    MetricDef("servers", SECURITY_MONITORING, _("Servers"),
              _("Servers with every check passing at the end of the period / servers with checks.")),
    MetricDef("ticket_summary", SECURITY_MONITORING, _("Ticket summary"),
              _("Tickets resolved in the period within their SLA targets / tickets resolved in the period with "
                "SLA targets.")),
)
METRIC_KEYS = tuple(m.key for m in METRICS)
METRIC_BY_KEY = {m.key: m for m in METRICS}


# --- Periods ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Period:
    """A calendar quarter or month, [start, end) in UTC."""

    kind: str
    start: date

    @staticmethod
    def containing(kind: str, day: date) -> Period:
        if kind == "quarter":
            return Period("quarter", date(day.year, 3 * ((day.month - 1) // 3) + 1, 1))
        if kind == "month":
            return Period("month", date(day.year, day.month, 1))
        raise ValueError(f"unknown period kind {kind!r}")

    @staticmethod
    def parse(code: str) -> Period:
        """"2026-Q1" or "2026-01"; ValueError otherwise."""
        match = re.fullmatch(r"(\d{4})-Q([1-4])", code or "")
        if match and 2000 <= int(match[1]) <= 2100:
            return Period("quarter", date(int(match[1]), 3 * int(match[2]) - 2, 1))
        match = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", code or "")
        if match and 2000 <= int(match[1]) <= 2100:
            return Period("month", date(int(match[1]), int(match[2]), 1))
        raise ValueError(code)

    @property
    def months(self) -> int:
        return 3 if self.kind == "quarter" else 1

    @property
    def end(self) -> date:
        """The first day after the period."""
        month = self.start.month - 1 + self.months
        return date(self.start.year + month // 12, month % 12 + 1, 1)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def start_dt(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def end_dt(self) -> datetime:
        return datetime.combine(self.end, time.min, tzinfo=UTC)

    @property
    def code(self) -> str:
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start:%Y-%m}"

    def previous(self) -> Period:
        month = self.start.month - 1 - self.months
        return Period(self.kind, date(self.start.year + month // 12, month % 12 + 1, 1))

    def next(self) -> Period:
        return Period(self.kind, self.end)

    def is_closed(self, now: datetime | None = None) -> bool:
        return self.end_dt <= (now or timezone.now())

    def __str__(self) -> str:
        return self.code


# --- Results ---------------------------------------------------------------------------------------------------


def percent(numerator: Any, denominator: Any) -> Decimal | None:
    """numerator / denominator in percent, to 0.1 half up; None when the denominator is 0."""
    if not denominator:
        return None
    return (Decimal(str(numerator)) * HUNDRED / Decimal(str(denominator))).quantize(TENTH, rounding=ROUND_HALF_UP)


@dataclass
class MetricValue:
    """One metric of one period: its share, or N/A with the reason; and its weight in the overall score."""

    key: str
    numerator: int = 0
    denominator: int = 0
    weight: int = 1
    reason: str = ""

    @property
    def definition(self) -> MetricDef:
        return METRIC_BY_KEY[self.key]

    @property
    def measured(self) -> bool:
        return not self.reason and self.denominator > 0

    @property
    def value(self) -> Decimal | None:
        return percent(self.numerator, self.denominator) if self.measured else None

    @property
    def reason_text(self) -> Any:
        return REASONS.get(self.reason, "")

    def as_json(self) -> dict[str, Any]:
        value = self.value
        return {"key": self.key, "numerator": self.numerator, "denominator": self.denominator,
                "value": None if value is None else str(value), "weight": self.weight, "reason": self.reason}


def weighted_mean(values: Iterable[MetricValue]) -> Decimal | None:
    """Σ weight × numerator/denominator / Σ weight over measured metrics of weight > 0, in percent to 0.1;
    None when none is measured. Computed from the exact ratios, rounded once."""
    total, weights = Fraction(0), 0
    for metric in values:
        if metric.measured and metric.weight > 0:
            total += Fraction(metric.numerator, metric.denominator) * metric.weight
            weights += metric.weight
    if not weights:
        return None
    exact = total * 100 / weights
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(TENTH, rounding=ROUND_HALF_UP)


@dataclass
class Scorecard:
    """A client's scorecard for a period, as of an instant."""

    client_id: int
    period: Period
    as_of: datetime
    metrics: list[MetricValue]
    formula_version: int = FORMULA_VERSION
    snapshot_id: int | None = None
    final: bool = False

    @property
    def overall(self) -> Decimal | None:
        return weighted_mean(self.metrics)

    def metric(self, key: str) -> MetricValue:
        return next(m for m in self.metrics if m.key == key)

    def areas(self) -> list[dict[str, Any]]:
        """[{key, label, score, metrics}] in the seed's order."""
        result = []
        for area, label in AREAS.items():
            metrics = [m for m in self.metrics if m.definition.area == area]
            result.append({"key": area, "label": label, "score": weighted_mean(metrics), "metrics": metrics})
        return result

    def metrics_json(self) -> list[dict[str, Any]]:
        return [m.as_json() for m in self.metrics]

    @staticmethod
    def from_json(client_id: int, period: Period, as_of: datetime, rows: list[dict[str, Any]], version: int,
                  snapshot_id: int | None = None, final: bool = False) -> Scorecard:
        by_key = {r["key"]: r for r in rows if r.get("key") in METRIC_BY_KEY}
        metrics = []
        for key in METRIC_KEYS:
            row = by_key.get(key)
            if row is None:
                metrics.append(MetricValue(key, reason=NOTHING, weight=0))
                continue
            metrics.append(MetricValue(key, int(row.get("numerator", 0)), int(row.get("denominator", 0)),
                                       int(row.get("weight", 1)), str(row.get("reason", ""))))
        return Scorecard(client_id, period, as_of, metrics, version, snapshot_id, final)


@dataclass(frozen=True)
class Record:
    """One record behind a metric (for the drill-down): what it is, whether it counts as good, and why."""

    kind: str  # device, discovered, site, ticket, check
    pk: int
    label: str
    ok: bool
    note: str = ""


@dataclass(frozen=True)
class Thresholds:
    """The settings the formulas read."""

    antivirus_max_age_days: int = 3
    patch_grace_days: int = 14
    backup_window_hours: int = 26


# --- Computation -----------------------------------------------------------------------------------------------


@dataclass
class _Context:
    client_id: int
    period: Period
    as_of: datetime
    live: bool
    thresholds: Thresholds
    devices: list[dict[str, Any]] = field(default_factory=list)
    changes: dict[int, list[tuple[datetime, str, str]]] = field(default_factory=dict)
    collect: bool = False
    records: dict[str, list[Record]] = field(default_factory=lambda: defaultdict(list))
    posture: dict[int, dict[str, Any]] | None = None

    @property
    def start(self) -> datetime:
        return self.period.start_dt

    @property
    def last_day(self) -> date:
        return (self.as_of - timedelta(microseconds=1)).astimezone(UTC).date()

    def note(self, key: str, record: Record) -> None:
        if self.collect:
            self.records[key].append(record)

    def state_at(self, device: dict[str, Any], at: datetime) -> str | None:
        """The lifecycle state of a device at an instant (None: it did not exist yet)."""
        if device["created_at"] > at:
            return None
        moves = self.changes.get(device["id"], [])
        state = None
        for when, from_state, to_state in moves:
            if when > at:
                if state is None:
                    state = from_state or to_state
                break
            state = to_state
        return state if state is not None else device["state"]

    def in_service(self, device: dict[str, Any], at: datetime | None = None) -> bool:
        state = self.state_at(device, at or self.as_of - timedelta(microseconds=1))
        return state is not None and state != DeviceState.RETIRED

    def service_seconds(self, device: dict[str, Any]) -> list[tuple[datetime, datetime]]:
        """The intervals within [period start, as of) when the device existed and was not retired."""
        start, end = max(self.start, device["created_at"]), self.as_of
        if start >= end:
            return []
        moves = [m for m in self.changes.get(device["id"], []) if start < m[0] < end]
        intervals, cursor = [], start
        current = self.state_at(device, start)
        for when, _from, to_state in moves:
            if current not in (None, DeviceState.RETIRED):
                intervals.append((cursor, when))
            cursor, current = when, to_state
        if current not in (None, DeviceState.RETIRED):
            intervals.append((cursor, end))
        return [(a, b) for a, b in intervals if b > a]


def _load(ctx: _Context) -> None:
    rows: Any = Device.objects.filter(client_id=ctx.client_id, created_at__lt=ctx.as_of).values(
        "id", "name", "kind", "state", "managed", "created_at", "site_id", "warranty_end", "antivirus_state",
        "antivirus_definitions_at", "backup_tool", "last_backup_at", "model", "hostname", "vendor").order_by("id")
    ctx.devices = [dict(row) for row in rows]
    changes: dict[int, list[tuple[datetime, str, str]]] = defaultdict(list)
    for device_id, at, from_state, to_state in (DeviceStateChange.objects.filter(client_id=ctx.client_id)
                                                .values_list("device_id", "at", "from_state", "to_state")
                                                .order_by("at", "pk")):
        changes[device_id].append((at, from_state, to_state))
    ctx.changes = dict(changes)


POSTURE_FIELDS = ("antivirus_state", "antivirus_definitions_at", "backup_tool", "last_backup_at")


def _posture_devices(ctx: _Context) -> list[dict[str, Any]]:
    """The devices with their antivirus and backup as of T: their current fields while the period runs; for a
    closed period, their latest daily posture row on or before the last day, and only the devices that have
    one (one query for the whole client: a correlated index lookup per device)."""
    if ctx.live:
        return ctx.devices
    if ctx.posture is None:
        latest = (DevicePostureDaily.objects.filter(device_id=OuterRef("pk"), day__lte=ctx.last_day)
                  .order_by("-day"))
        rows: Any = (Device.objects.filter(client_id=ctx.client_id, created_at__lt=ctx.as_of)
                     .annotate(posture_day=Subquery(latest.values("day")[:1]),
                               posture_antivirus_state=Subquery(latest.values("antivirus_state")[:1]),
                               posture_antivirus_definitions_at=Subquery(
                                   latest.values("antivirus_definitions_at")[:1]),
                               posture_backup_tool=Subquery(latest.values("backup_tool")[:1]),
                               posture_last_backup_at=Subquery(latest.values("last_backup_at")[:1]))
                     .filter(posture_day__isnull=False)
                     .values("pk", *(f"posture_{name}" for name in POSTURE_FIELDS)))
        ctx.posture = {row["pk"]: {name: row[f"posture_{name}"] for name in POSTURE_FIELDS} for row in rows}
    return [d | ctx.posture[d["id"]] for d in ctx.devices if d["id"] in ctx.posture]


def _no_posture_history(ctx: _Context, devices: list[dict[str, Any]]) -> bool:
    """A closed period none of whose devices had its posture kept: N/A "no history", not "nothing"."""
    return not ctx.live and not devices


def _managed_devices(ctx: _Context) -> MetricValue:
    managed = [d for d in ctx.devices if d["managed"] and ctx.in_service(d)]
    managed_ids = {d["id"] for d in managed}
    discovered = list(DiscoveredDevice.objects.filter(client_id=ctx.client_id, ignored=False,
                                                      first_seen_at__lt=ctx.as_of)
                      .values_list("pk", "ip", "hostname", "matched_device_id"))
    unmanaged = [row for row in discovered if row[3] not in managed_ids]
    for d in managed:
        ctx.note("managed_devices", Record("device", d["id"], d["name"], True))
    for pk, ip, hostname, _matched in unmanaged:
        ctx.note("managed_devices", Record("discovered", pk, hostname or ip, False))
    return _value("managed_devices", len(managed), len(managed) + len(unmanaged))


def _warranty(ctx: _Context, key: str, kinds: tuple[str, ...]) -> MetricValue:
    devices = [d for d in ctx.devices if d["kind"] in kinds and ctx.in_service(d)]
    covered = 0
    for d in devices:
        ok = d["warranty_end"] is not None and d["warranty_end"] >= ctx.last_day
        covered += ok
        ctx.note(key, Record("device", d["id"], d["name"], ok,
                             str(d["warranty_end"]) if d["warranty_end"] else str(_("warranty end unknown"))))
    return _value(key, covered, len(devices))


def _antivirus(ctx: _Context) -> MetricValue:
    limit = ctx.as_of - timedelta(days=ctx.thresholds.antivirus_max_age_days)
    known = [d for d in _posture_devices(ctx) if d["managed"] and ctx.in_service(d)]
    if _no_posture_history(ctx, known):
        return MetricValue("antivirus", reason=NO_HISTORY)
    devices = [d for d in known if d["antivirus_state"]]
    good = 0
    for d in devices:
        ok = (d["antivirus_state"] == AntivirusState.RUNNING and d["antivirus_definitions_at"] is not None
              and d["antivirus_definitions_at"] >= limit)
        good += ok
        ctx.note("antivirus", Record("device", d["id"], d["name"], ok, d["antivirus_state"]))
    return _value("antivirus", good, len(devices))


def _patching_models() -> tuple[Any, Any, Any] | None:
    try:
        return (apps.get_model("patching", "DeviceUpdate"), apps.get_model("patching", "DeviceUpdateScan"),
                apps.get_model("patching", "ApprovalDecision"))
    except LookupError:
        return None


def _updates(ctx: _Context) -> tuple[MetricValue, MetricValue]:
    models = _patching_models()
    if models is None:
        return MetricValue("os_updates", reason=NO_PATCHING), MetricValue("third_party_updates", reason=NO_PATCHING)
    device_update, scan, decision = models
    at = ctx.as_of
    managed = {d["id"]: d for d in ctx.devices if d["managed"] and ctx.in_service(d)}
    listed = set(scan.objects.filter(client_id=ctx.client_id, created_at__lt=at, device_id__in=list(managed))
                 .values_list("device_id", flat=True))
    # An update a person rejected, or deferred past the end of the period, is not "approved and missing".
    excluded = set(decision.objects.filter(Q(client_id=ctx.client_id) | Q(client__isnull=True), decided_at__lt=at)
                   .filter(Q(decision="rejected") | Q(decision="deferred", deferred_until__gt=ctx.last_day))
                   .values_list("update_id", flat=True))
    overdue_since = at - timedelta(days=ctx.thresholds.patch_grace_days)
    missing = (device_update.objects.filter(client_id=ctx.client_id, device_id__in=list(listed),
                                            first_seen_at__lt=overdue_since)
               .exclude(state="superseded").exclude(update_id__in=excluded)
               .filter(Q(installed_at__isnull=True, state__in=("missing", "pending_install", "failed"))
                       | Q(installed_at__gte=at))
               .values_list("device_id", "update__source", "update__category"))
    late: dict[str, set[int]] = {"os_updates": set(), "third_party_updates": set()}
    for device_id, source, category in missing:
        third = source in THIRD_PARTY_SOURCES or category == "application"
        if third:
            late["third_party_updates"].add(device_id)
        elif source in OS_UPDATE_SOURCES:
            late["os_updates"].add(device_id)
    results = []
    for key in ("os_updates", "third_party_updates"):
        for device_id in sorted(listed):
            ctx.note(key, Record("device", device_id, managed[device_id]["name"], device_id not in late[key]))
        results.append(_value(key, len(listed) - len(late[key]), len(listed)))
    return results[0], results[1]


def is_firewall(device: dict[str, Any]) -> bool:
    """A network device whose name, hostname or model says it is a firewall."""
    text = " ".join(str(device.get(k) or "") for k in ("name", "hostname", "model", "vendor"))
    return device["kind"] == DeviceKind.NETWORK_DEVICE and bool(FIREWALL_WORDS.search(text))


def _hardware_firewall(ctx: _Context) -> MetricValue:
    sites = list(Site.objects.filter(client_id=ctx.client_id, created_at__lt=ctx.as_of).values_list("pk", "name")
                 .order_by("name", "pk"))
    firewalls = [d for d in ctx.devices if is_firewall(d) and ctx.in_service(d)]
    checked = set(CheckDaily.objects.filter(client_id=ctx.client_id, device_id__in=[d["id"] for d in firewalls],
                                            day__gte=ctx.period.start, day__lte=ctx.last_day)
                  .values_list("device_id", flat=True).distinct())
    monitored_sites = {d["site_id"] for d in firewalls if d["managed"] or d["id"] in checked}
    good = 0
    for pk, name in sites:
        ok = pk in monitored_sites
        good += ok
        ctx.note("hardware_firewall", Record("site", pk, name, ok))
    return _value("hardware_firewall", good, len(sites))


def _backup_windows(device_ids: list[int], default_hours: int) -> dict[int, int]:
    from tenfold.monitoring.policies import effective_policies

    devices = list(Device.objects.filter(pk__in=device_ids).only("pk", "client_id", "site_id", "os_family"))
    effective = effective_policies(devices) if devices else {}
    return {pk: int(policy.collectors.get("backup_max_age_hours") or default_hours)
            for pk, policy in effective.items()} | {pk: default_hours for pk in device_ids if pk not in effective}


def _data_protection(ctx: _Context) -> MetricValue:
    known = [d for d in _posture_devices(ctx) if ctx.in_service(d)]
    if _no_posture_history(ctx, known):
        return MetricValue("data_protection", reason=NO_HISTORY)
    protected = [d for d in known if d["backup_tool"]]
    windows = _backup_windows([d["id"] for d in protected], ctx.thresholds.backup_window_hours)
    good = 0
    for d in protected:
        limit = ctx.as_of - timedelta(hours=windows[d["id"]])
        ok = d["last_backup_at"] is not None and d["last_backup_at"] >= limit
        good += ok
        ctx.note("data_protection", Record("device", d["id"], d["name"], ok,
                                           f"{d['backup_tool']} {d['last_backup_at']:%Y-%m-%d %H:%M}"
                                           if d["last_backup_at"] else d["backup_tool"]))
    return _value("data_protection", good, len(protected))


def _check_types(check_ids: Iterable[int]) -> dict[int, str]:
    return dict(CheckDefinition.objects.filter(pk__in=set(check_ids)).values_list("pk", "check_type"))


def _check_runs(ctx: _Context) -> tuple[MetricValue, MetricValue]:
    rows = list(CheckDaily.objects.filter(client_id=ctx.client_id, day__gte=ctx.period.start, day__lte=ctx.last_day)
                .values("device_id", "check_id").annotate(runs=Sum("runs"), passes=Sum("passes"), warns=Sum("warns"))
                .order_by("device_id", "check_id"))
    types = _check_types(r["check_id"] for r in rows)
    names = {d["id"]: d["name"] for d in ctx.devices}
    results = []
    for key, kinds in (("service_availability", AVAILABILITY_CHECKS), ("network_reliability", NETWORK_CHECKS)):
        runs = good = 0
        for row in rows:
            if types.get(row["check_id"]) not in kinds:
                continue
            runs += row["runs"]
            good += row["passes"] + row["warns"]
            ctx.note(key, Record("check", row["device_id"], names.get(row["device_id"], str(row["device_id"])),
                                 row["passes"] + row["warns"] == row["runs"],
                                 f"{row['passes'] + row['warns']}/{row['runs']}"))
        results.append(_value(key, good, runs))
    return results[0], results[1]


def _merge(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _overlap(left: list[tuple[datetime, datetime]], right: list[tuple[datetime, datetime]]) -> int:
    total = 0
    for a, b in left:
        for c, d in right:
            lo, hi = max(a, c), min(b, d)
            if hi > lo:
                total += int((hi - lo).total_seconds())
    return total


def _performance(ctx: _Context) -> MetricValue:
    managed = [d for d in ctx.devices if d["managed"]]
    service = {d["id"]: ctx.service_seconds(d) for d in managed}
    device_seconds = sum(int((b - a).total_seconds()) for spans in service.values() for a, b in spans)
    alerts: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for device_id, opened, resolved in (Alert.objects.filter(
            client_id=ctx.client_id, device_id__in=list(service), opened_at__lt=ctx.as_of,
            check_definition__check_type__in=PERFORMANCE_CHECKS)
            .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=ctx.start))
            .values_list("device_id", "opened_at", "resolved_at")):
        a, b = max(opened, ctx.start), min(resolved or ctx.as_of, ctx.as_of)
        if b > a:
            alerts[device_id].append((a, b))
    alert_seconds = 0
    for d in managed:
        spans = _merge(alerts.get(d["id"], []))
        lost = _overlap(spans, service[d["id"]])
        alert_seconds += lost
        if service[d["id"]]:
            ctx.note("performance", Record("device", d["id"], d["name"], lost == 0,
                                           str(_("%(hours)s h under alert") % {"hours": round(lost / 3600, 1)})))
    # Whole seconds: the figures stay integers, so the snapshot holds them exactly.
    return _value("performance", device_seconds - alert_seconds, device_seconds)


def _servers(ctx: _Context) -> MetricValue:
    servers = {d["id"]: d for d in ctx.devices if d["kind"] == DeviceKind.SERVER and ctx.in_service(d)}
    passing: dict[int, bool] = {}
    if ctx.live:
        for device_id, status in CheckState.objects.filter(
                client_id=ctx.client_id, device_id__in=list(servers),
                check_definition__enabled=True).values_list("device_id", "status"):
            passing[device_id] = passing.get(device_id, True) and status == 0
    else:
        # A closed period: each server's checks on its last rolled-up day of the period.
        last: dict[int, date] = {}
        rows = list(CheckDaily.objects.filter(client_id=ctx.client_id, device_id__in=list(servers),
                                              day__gte=ctx.period.start, day__lte=ctx.last_day)
                    .values_list("device_id", "day", "warns", "fails", "errors"))
        for device_id, day, *_counts in rows:
            last[device_id] = max(last.get(device_id, day), day)
        for device_id, day, warns, fails, errors in rows:
            if day == last[device_id]:
                passing[device_id] = passing.get(device_id, True) and warns + fails + errors == 0
    for device_id, ok in sorted(passing.items()):
        ctx.note("servers", Record("device", device_id, servers[device_id]["name"], ok))
    return _value("servers", sum(passing.values()), len(passing))


def _tickets(ctx: _Context) -> MetricValue:
    rows = list(Ticket.objects.filter(client_id=ctx.client_id, resolved_at__gte=ctx.start, resolved_at__lt=ctx.as_of,
                                      resolution_due_at__isnull=False, merged_into__isnull=True)
                .values_list("pk", "number", "title", "sla_first_response_met", "sla_resolution_met")
                .order_by("resolved_at", "pk"))
    good = 0
    for pk, number, title, first_met, resolution_met in rows:
        ok = first_met is not False and resolution_met is not False
        good += ok
        ctx.note("ticket_summary", Record("ticket", pk, f"{number} {title}", ok))
    return _value("ticket_summary", good, len(rows))


def _value(key: str, numerator: int, denominator: int) -> MetricValue:
    if denominator <= 0:
        return MetricValue(key, reason=NOTHING)
    return MetricValue(key, int(numerator), int(denominator))


def compute(client_id: int, period: Period, *, as_of: datetime | None = None, weights: dict[str, int] | None = None,
            thresholds: Thresholds | None = None, collect: bool = False,
            now: datetime | None = None) -> tuple[Scorecard, dict[str, list[Record]]]:
    """The scorecard of a client for a period: as of its end when closed, as of now while in progress (or as of
    the instant given, within the period). Returns the scorecard and, with `collect`, the records behind each
    metric."""
    now = now or timezone.now()
    end = min(period.end_dt, now)
    as_of = min(as_of, end) if as_of is not None else end
    if as_of <= period.start_dt:
        raise ValueError("the period has not started")
    live = period.end_dt > now
    ctx = _Context(client_id, period, as_of, live, thresholds or Thresholds(), collect=collect)
    _load(ctx)
    os_updates, third_party = _updates(ctx)
    availability, network = _check_runs(ctx)
    results: dict[str, MetricValue] = {
        "managed_devices": _managed_devices(ctx),
        "warranty_server_network": _warranty(ctx, "warranty_server_network", SERVER_NETWORK),
        "warranty_end_user": _warranty(ctx, "warranty_end_user", END_USER),
        "antivirus": _antivirus(ctx),
        "os_updates": os_updates,
        "third_party_updates": third_party,
        "hardware_firewall": _hardware_firewall(ctx),
        "data_protection": _data_protection(ctx),
        "service_availability": availability,
        "network_reliability": network,
        "performance": _performance(ctx),
        "servers": _servers(ctx),
        "ticket_summary": _tickets(ctx),
    }
    weights = weights or {}
    metrics = []
    for key in METRIC_KEYS:
        metric = results[key]
        metric.weight = int(weights.get(key, 1))
        metrics.append(metric)
    return Scorecard(client_id, period, as_of, metrics), dict(ctx.records)


def trend(current: Decimal | None, previous: Decimal | None) -> str:
    """"up", "down", "flat" or "" (one side not measured)."""
    if current is None or previous is None:
        return ""
    return "up" if current > previous else "down" if current < previous else "flat"

