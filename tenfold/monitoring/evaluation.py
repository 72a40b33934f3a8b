"""Alert evaluation, derived from the raw results in batches (never in the agent's check-in request).

`evaluate_new_results` reads the check results after the cursor in id order, updates each (device,
check) state, opens, de-duplicates and auto-resolves alerts, and advances the cursor, all in one
transaction: run twice, it does the work once. `detect_offline` finds devices that stopped checking in
with one SQL query and opens (or resolves) their offline alerts in bulk.

Late results: on PostgreSQL a check-in that took lower result ids may commit a few milliseconds after one
with higher ids that the evaluator already passed. So each run also looks back `LOOKBACK_IDS` ids behind
the cursor for results not yet counted: each check state remembers the last result evaluated into it, and
one device's results are committed in id order (its check-ins are serialised by the agent row lock), so
a result above its state's mark is new and one at or below it was counted. SQLite serialises writers:
nothing commits late there, and the look-back is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from tenfold.assets.models import CheckResult, CheckStatus, Device, DeviceKind, DeviceState
from tenfold.core import events
from tenfold.monitoring.models import (
    SEVERITY_RANK,
    UNRESOLVED,
    Alert,
    AlertKind,
    AlertStatus,
    CheckDefinition,
    CheckState,
    EvaluationCursor,
    MaintenanceWindow,
    Severity,
)

DEFAULT_INTERVAL_S = 60
MISSED_CHECKINS = 3
STATE_FIELDS = ["status", "consecutive_failures", "last_result_at", "last_value", "last_message", "last_result_id"]
# How far behind the cursor a late commit may land: every check-in in flight at once (web threads) times
# the results one may carry (500), with room to spare.
LOOKBACK_IDS = 50_000
RESULT_FIELDS = ("pk", "device_id", "check_id", "at", "status", "value", "message")
ALERT_UPDATE_FIELDS = ["status", "resolved_at", "occurrences", "last_seen_at", "message", "severity", "muted",
                       "updated_at"]


@dataclass
class Report:
    """What one evaluation run did."""

    read: int = 0
    results: int = 0
    raised: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    cursor: int = 0


def alert_payload(alert: Alert, **extra: Any) -> dict[str, Any]:
    check = alert.check_definition
    return {"alert_id": alert.pk, "client_id": alert.client_id, "device_id": alert.device_id,
            "kind": alert.kind, "check_id": alert.check_definition_id,
            "check_type": check.check_type if check is not None else None,
            "severity": alert.severity, **extra}


def emit_raised(alert: Alert) -> None:
    """`alert.raised`: a higher app may open a ticket; monitoring mails critical ones."""
    events.emit("alert.raised", client_id=alert.client_id, payload=alert_payload(alert, title=alert.title))


def emit_resolved(alert: Alert, reason: str) -> None:
    """`alert.resolved`, unless the alert was muted all along (nobody was told it opened)."""
    if alert.muted:
        return
    events.emit("alert.resolved", client_id=alert.client_id, payload=alert_payload(alert, reason=reason))


def _severity_for(check: CheckDefinition, status: int) -> str:
    if status == CheckStatus.WARN and SEVERITY_RANK[Severity(check.severity)] > SEVERITY_RANK[Severity.WARNING]:
        return Severity.WARNING
    return check.severity


def _muted(windows: list[MaintenanceWindow], device: Mapping[str, Any], at: datetime) -> bool:
    return any(w.starts_at <= at < w.ends_at and w.covers(device["pk"], device["site_id"], device["client_id"])
               for w in windows)


def _cursor() -> EvaluationCursor:
    EvaluationCursor.objects.get_or_create(pk=1)
    return EvaluationCursor.objects.select_for_update().get(pk=1)


def _late_results(cursor: int, limit: int) -> list[tuple[Any, ...]]:
    """Results behind the cursor that committed after the evaluator passed their ids (PostgreSQL only):
    those of a known check whose state has not counted them."""
    if connection.vendor == "sqlite" or cursor == 0:
        return []
    counted = CheckState.objects.filter(device_id=OuterRef("device_id"), check_definition_id=OuterRef("check_id"),
                                        last_result_id__gte=OuterRef("pk"))
    known = CheckDefinition.objects.filter(pk=OuterRef("check_id"))
    return list(CheckResult.objects.filter(pk__gt=max(0, cursor - LOOKBACK_IDS), pk__lte=cursor)
                .filter(Exists(known)).exclude(Exists(counted))
                .order_by("pk").values_list(*RESULT_FIELDS)[:limit])


def evaluate_new_results(limit: int = 5000) -> Report:
    """Evaluate up to `limit` new check results (see the module docstring)."""
    report = Report()
    with transaction.atomic():
        cursor = _cursor()
        report.cursor = cursor.last_result_id
        rows = _late_results(cursor.last_result_id, limit) + list(
            CheckResult.objects.filter(pk__gt=cursor.last_result_id).order_by("pk").values_list(*RESULT_FIELDS)[:limit])
        if not rows:
            return report
        report.read = len(rows)
        now = timezone.now()
        check_ids = {r[2] for r in rows}
        device_ids = {r[1] for r in rows}
        checks = {c.pk: c for c in CheckDefinition.objects.filter(pk__in=check_ids).select_related("policy")}
        devices = {d["pk"]: d for d in Device.objects.filter(pk__in=device_ids).values(
            "pk", "client_id", "site_id", "name")}
        states = {(s.device_id, s.check_definition_id): s for s in CheckState.objects.filter(
            device_id__in=device_ids, check_definition_id__in=list(checks))}
        alerts = {(a.device_id, a.check_definition_id): a for a in Alert.objects.filter(
            kind=AlertKind.CHECK, status__in=UNRESOLVED, device_id__in=device_ids,
            check_definition_id__in=list(checks)).select_related("check_definition")}
        windows = list(MaintenanceWindow.objects.filter(
            client_id__in={d["client_id"] for d in devices.values()},
            starts_at__lte=max(r[3] for r in rows), ends_at__gt=min(r[3] for r in rows)))
        touched_states: dict[tuple[int, int], CheckState] = {}
        new_alerts: list[Alert] = []
        changed_alerts: dict[int, Alert] = {}
        transitions: list[tuple[str, Alert]] = []

        for pk, device_id, check_id, at, status, value, message in rows:
            check, device = checks.get(check_id), devices.get(device_id)
            if check is None or device is None or check.policy.client_id not in (None, device["client_id"]):
                continue  # an unknown check, or another client's: nothing to evaluate
            key = (device_id, check_id)
            state = states.get(key) or CheckState(client_id=device["client_id"], device_id=device_id,
                                                  check_definition_id=check_id, consecutive_failures=0)
            if pk <= state.last_result_id:
                continue  # counted by an earlier run
            states[key] = touched_states[key] = state
            state.last_result_id = pk
            state.status, state.last_result_at, state.last_value = status, at, value
            state.last_message = (message or "")[:500]
            state.consecutive_failures = 0 if status == CheckStatus.PASS else state.consecutive_failures + 1
            report.results += 1
            alert = alerts.get(key)
            if status == CheckStatus.PASS:
                if alert is not None:
                    alert.status, alert.resolved_at, alert.updated_at = AlertStatus.RESOLVED, now, now
                    transitions.append(("resolved", alert))
                    if alert.pk:
                        changed_alerts[alert.pk] = alert
                    del alerts[key]
                continue
            if not (check.enabled and check.policy.enabled):
                continue
            muted = _muted(windows, device, at)
            severity = _severity_for(check, status)
            if alert is not None:
                alert.occurrences += 1
                alert.last_seen_at, alert.message, alert.severity, alert.updated_at = at, state.last_message, \
                    severity, now
                if alert.muted and not muted:
                    alert.muted = False  # the window ended and it still fails: raise it now
                    transitions.append(("raised", alert))
                if alert.pk:
                    changed_alerts[alert.pk] = alert
            elif state.consecutive_failures >= check.failures_before_alert:
                alert = Alert(client_id=device["client_id"], device_id=device_id, check_definition=check,
                              kind=AlertKind.CHECK, severity=severity, status=AlertStatus.OPEN,
                              title=_("%(check)s failing on %(device)s") % {"check": check.name,
                                                                              "device": device["name"]},
                              message=state.last_message, opened_at=at, last_seen_at=at,
                              occurrences=1, muted=muted)
                alerts[key] = alert
                new_alerts.append(alert)
                if not muted:
                    transitions.append(("raised", alert))

        # Resolved ones first: a new alert of the same check may only exist once the old one is resolved.
        if changed_alerts:
            Alert.objects.bulk_update(list(changed_alerts.values()), ALERT_UPDATE_FIELDS)
        if new_alerts:
            Alert.objects.bulk_create(new_alerts)
        if touched_states:
            CheckState.objects.bulk_create(list(touched_states.values()), update_conflicts=True,
                                           unique_fields=["device", "check_definition"], update_fields=STATE_FIELDS)
        for kind, alert in transitions:
            if kind == "raised":
                emit_raised(alert)
                report.raised.append(alert.pk)
            else:
                emit_resolved(alert, reason="check_passed")
                report.resolved.append(alert.pk)
        cursor.last_result_id = max(cursor.last_result_id, rows[-1][0])
        cursor.save(update_fields=["last_result_id", "updated_at"])
        report.cursor = cursor.last_result_id
    return report


# --- offline detection --------------------------------------------------------------------------


def _offline_cutoff(now: datetime, prefix: str = "") -> Any:
    """`now - 3 × the device's check-in interval` as a database expression (60 s without an agent row)."""
    interval = Coalesce(F(f"{prefix}agent__checkin_interval"), Value(DEFAULT_INTERVAL_S), output_field=IntegerField())
    span = ExpressionWrapper(interval * Value(timedelta(seconds=MISSED_CHECKINS)), output_field=DurationField())
    return ExpressionWrapper(Value(now, output_field=DateTimeField()) - span, output_field=DateTimeField())


def offline_devices(now: datetime | None = None) -> Any:
    """Managed, non-retired devices last seen more than three check-in intervals ago (one query)."""
    now = now or timezone.now()
    open_offline = Alert.objects.filter(device_id=OuterRef("pk"), kind=AlertKind.OFFLINE, status__in=UNRESOLVED)
    return (Device.objects.filter(managed=True, last_seen_at__isnull=False)
            .exclude(state=DeviceState.RETIRED)
            .alias(cutoff=_offline_cutoff(now))
            .filter(last_seen_at__lt=F("cutoff"))
            .filter(~Exists(open_offline)))


def detect_offline(now: datetime | None = None) -> Report:
    """Open offline alerts of devices that stopped checking in; resolve those of devices seen again."""
    now = now or timezone.now()
    report = Report()
    with transaction.atomic():
        _cursor()  # serialises with evaluate_new_results and other workers (the cursor row lock)
        found = list(offline_devices(now).values("pk", "client_id", "site_id", "name", "kind", "last_seen_at"))
        windows = list(MaintenanceWindow.objects.filter(client_id__in={d["client_id"] for d in found},
                                                        starts_at__lte=now, ends_at__gt=now)) if found else []
        new_alerts = [Alert(
            client_id=d["client_id"], device_id=d["pk"], kind=AlertKind.OFFLINE,
            severity=Severity.CRITICAL if d["kind"] == DeviceKind.SERVER else Severity.WARNING,
            status=AlertStatus.OPEN, title=_("%(device)s is offline") % {"device": d["name"]},
            message=_("No check-in since %(when)s.") % {"when": d["last_seen_at"].isoformat(timespec="seconds")},
            opened_at=now, last_seen_at=now, muted=_muted(windows, d, now)) for d in found]
        if new_alerts:
            Alert.objects.bulk_create(new_alerts)
            for alert in new_alerts:
                if not alert.muted:
                    emit_raised(alert)
                    report.raised.append(alert.pk)
        back = Alert.objects.filter(kind=AlertKind.OFFLINE, status__in=UNRESOLVED).filter(
            Q(device__last_seen_at__gte=_offline_cutoff(now, "device__")) | Q(device__managed=False)
            | Q(device__state=DeviceState.RETIRED))
        seen_again = list(back.select_related("check_definition"))
        if seen_again:
            Alert.objects.filter(pk__in=[a.pk for a in seen_again]).update(
                status=AlertStatus.RESOLVED, resolved_at=now, updated_at=now)
            for alert in seen_again:
                alert.status = AlertStatus.RESOLVED
                emit_resolved(alert, reason="device_back")
                report.resolved.append(alert.pk)
    return report
