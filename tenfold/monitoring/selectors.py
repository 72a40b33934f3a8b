"""Reads of policies, checks, alerts and maintenance windows, always scoped to what the actor may see;
and a client's baseline compliance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Count, F, FloatField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Cast, NullIf
from django.utils import timezone

from tenfold.assets.models import Device, DeviceState
from tenfold.clients.models import Client
from tenfold.core.roles import require
from tenfold.core.tenancy import get_visible
from tenfold.monitoring.models import (
    UNRESOLVED,
    Alert,
    AlertStatus,
    CheckDaily,
    CheckDefinition,
    CheckState,
    ClientBaseline,
    MaintenanceWindow,
    Policy,
    PolicyScope,
)
from tenfold.monitoring.policies import EffectivePolicy, effective_policies, tiers_up_to


def policies_visible(actor: Any) -> QuerySet[Policy]:
    """Policies the actor may see: MSP-level ones and those of the clients in their scope."""
    require(actor, "policies", "view")
    return Policy.objects.visible_to(actor).select_related("client", "site", "device", "tag").annotate(
        check_count=Count("checks"))


def access_policy(actor: Any, policy_id: Any) -> Policy:
    """One policy, or NotFound (missing and not-yours answer alike)."""
    policy = get_visible(Policy.objects.select_related("client", "site", "device", "tag"), actor, policy_id)
    require(actor, "policies", "view")
    return policy


def access_check(actor: Any, check_id: Any) -> CheckDefinition:
    """One check definition, or NotFound."""
    check = get_visible(CheckDefinition.objects.select_related("policy", "policy__client"), actor, check_id)
    require(actor, "policies", "view")
    return check


def policy_checks(policy: Policy) -> QuerySet[CheckDefinition]:
    """The checks of a policy, in display order."""
    return policy.checks.order_by("check_type", "name", "pk")


def alerts_visible(actor: Any) -> QuerySet[Alert]:
    """Alerts the actor may see (devices capability), with their client, device and check."""
    require(actor, "devices", "view")
    return Alert.objects.visible_to(actor).select_related("client", "device", "check_definition",
                                                           "acknowledged_by")


def access_alert(actor: Any, alert_id: Any) -> Alert:
    """One alert, or NotFound."""
    alert = get_visible(Alert.objects.select_related("client", "device", "check_definition", "acknowledged_by"),
                        actor, alert_id)
    require(actor, "devices", "view")
    return alert


def open_alert_count(actor: Any) -> int:
    """How many unresolved alerts the actor may see."""
    return Alert.objects.visible_to(actor).filter(status__in=UNRESOLVED).count()


def device_alerts(device: Device, limit: int = 20) -> list[Alert]:
    """The latest alerts of a device, unresolved first."""
    return list(Alert.objects.filter(device=device).select_related("check_definition")
                .order_by("resolved_at", "-opened_at")[:limit])


AVAILABILITY_DAYS = 30


def _daily_sum(column: str, since: Any) -> Subquery:
    return Subquery(CheckDaily.objects.filter(
        device_id=OuterRef("device_id"), check_id=OuterRef("check_definition_id"), day__gte=since)
        .order_by().values("device_id").annotate(total=Sum(column)).values("total")[:1])


def device_check_states(device: Device) -> QuerySet[CheckState]:
    """The latest state of each check on a device, with its availability over the last 30 days (today
    included) from the daily rollups: `runs_30d`, `passes_30d` and `availability_30d` (passes / runs in
    %, None without runs)."""
    since = timezone.now().astimezone(UTC).date() - timedelta(days=AVAILABILITY_DAYS - 1)
    return CheckState.objects.filter(device=device).select_related("check_definition").annotate(
        runs_30d=_daily_sum("runs", since), passes_30d=_daily_sum("passes", since),
    ).annotate(availability_30d=Cast(F("passes_30d"), FloatField()) * 100.0
               / NullIf(Cast(F("runs_30d"), FloatField()), 0.0)).order_by(
        "check_definition__check_type", "check_definition__name")


def windows_visible(actor: Any) -> QuerySet[MaintenanceWindow]:
    """Maintenance windows the actor may see."""
    require(actor, "devices", "view")
    return MaintenanceWindow.objects.visible_to(actor).select_related("client", "site", "device", "created_by")


def access_window(actor: Any, window_id: Any) -> MaintenanceWindow:
    """One maintenance window, or NotFound."""
    window = get_visible(MaintenanceWindow.objects.select_related("client", "site", "device"), actor, window_id)
    require(actor, "devices", "view")
    return window


def active_windows(client_ids: set[int], at: datetime | None = None) -> list[MaintenanceWindow]:
    """Maintenance windows of these clients in force at `at` (now by default)."""
    at = at or timezone.now()
    return list(MaintenanceWindow.objects.filter(client_id__in=client_ids, starts_at__lte=at, ends_at__gt=at))


def client_baseline(client: Client) -> ClientBaseline | None:
    """The tier baseline attached to a client, if any."""
    return ClientBaseline.objects.filter(client=client).first()


def baseline_policies(tier: str | None) -> list[Policy]:
    """The baseline policies that a tier brings (that tier and those below it), with their checks."""
    return list(Policy.objects.filter(scope=PolicyScope.BASELINE, baseline_tier__in=tiers_up_to(tier))
                .prefetch_related("checks").order_by("pk"))


@dataclass(frozen=True)
class Compliance:
    """How many of a client's managed devices run the full baseline of its tier."""

    tier: str | None
    managed: int
    compliant: int
    non_compliant: list[Device]

    @property
    def share(self) -> float | None:
        """Between 0 and 1; None when there is nothing to measure (no tier or no managed device)."""
        if not self.tier or not self.managed:
            return None
        return self.compliant / self.managed

    @property
    def percent(self) -> int | None:
        return None if self.share is None else round(self.share * 100)


def _collector_meets(required: Any, actual: Any, key: str) -> bool:
    if key in ("inventory_hours", "backup_max_age_hours", "updates_interval"):
        return actual is not None and actual <= required
    if key == "backup_tools":
        return bool(actual) or not required
    if isinstance(required, bool):
        return bool(actual) or not required
    return bool(actual == required)


def meets_baseline(effective: EffectivePolicy, baselines: list[Policy], os_family: str = "") -> bool:
    """Whether a device's effective policy holds every baseline check (enabled, possibly overridden with
    other thresholds) and at least the baseline's collectors."""
    from tenfold.monitoring.checktypes import target_of

    running = {(c["type"], target_of(c["type"], c["params"])) for c in effective.checks}
    for policy in baselines:
        for check in policy.checks.all():
            if check.os_family and check.os_family != os_family:
                continue  # meant for another operating system
            if check.enabled and (check.check_type, target_of(check.check_type, check.params)) not in running:
                return False
        for key, required in (policy.collectors or {}).items():
            if not _collector_meets(required, effective.collectors.get(key), key):
                return False
    return True


def baseline_compliance(client: Client) -> Compliance:
    """The share of the client's managed devices whose effective policy includes its tier's baseline."""
    baseline = client_baseline(client)
    devices = list(Device.objects.filter(client=client, managed=True).exclude(state=DeviceState.RETIRED)
                   .only("pk", "client_id", "site_id", "name", "os_family").order_by("name", "pk"))
    if baseline is None:
        return Compliance(tier=None, managed=len(devices), compliant=0, non_compliant=[])
    baselines = baseline_policies(baseline.tier)
    effective = effective_policies(devices)
    failing = [d for d in devices if not meets_baseline(effective[d.pk], baselines, d.os_family)]
    return Compliance(tier=baseline.tier, managed=len(devices), compliant=len(devices) - len(failing),
                      non_compliant=failing)


def alert_counts(actor: Any) -> dict[str, int]:
    """Unresolved alerts the actor may see, by severity."""
    rows = Alert.objects.visible_to(actor).filter(status__in=UNRESOLVED).aggregate(
        total=Count("pk"), critical=Count("pk", filter=Q(severity="critical")),
        warning=Count("pk", filter=Q(severity="warning")), info=Count("pk", filter=Q(severity="info")),
        open=Count("pk", filter=Q(status=AlertStatus.OPEN)))
    return {k: int(v or 0) for k, v in rows.items()}


def require_policies(actor: Any, action: str = "view") -> None:
    """403 unless the actor's role may `action` policies."""
    require(actor, "policies", action)
