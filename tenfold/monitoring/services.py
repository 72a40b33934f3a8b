"""Writes of policies, checks, alerts, maintenance windows and baselines: validate, write, audit, emit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenfold.assets.models import Device, Tag
from tenfold.clients.models import Client, Site
from tenfold.clients.services import check_site_of_client
from tenfold.core import audit, events
from tenfold.core.errors import Conflict, NotFound, PermissionDenied, ValidationError, validation_error_from_django
from tenfold.core.roles import require
from tenfold.core.tiers import Tier
from tenfold.monitoring.checktypes import clean_collectors, clean_params
from tenfold.monitoring.models import (
    Alert,
    AlertStatus,
    CheckDefinition,
    ClientBaseline,
    MaintenanceWindow,
    Policy,
    PolicyScope,
)
from tenfold.monitoring.policies import bump_generation

POLICY_FIELDS = ("name", "description", "collectors", "enabled")
CHECK_FIELDS = ("check_type", "name", "params", "interval_s", "severity", "failures_before_alert", "enabled",
                "runbook_url", "os_family")
WINDOW_FIELDS = ("site_id", "device_id", "starts_at", "ends_at", "reason")
MAX_WINDOW = timedelta(days=92)
BULK_LIMIT = 500


def _unknown(data: dict[str, Any], fields: tuple[str, ...]) -> None:
    unknown = set(data) - set(fields)
    if unknown:
        raise ValidationError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})


def _full_clean(obj: Any, errors: dict[str, list[str]] | None = None, exclude: list[str] | None = None) -> None:
    errors = dict(errors or {})
    try:
        obj.full_clean(validate_constraints=False, validate_unique=False, exclude=exclude)
    except DjangoValidationError as exc:
        for field, messages in validation_error_from_django(exc).errors.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        first = next(iter(errors.values()))
        raise ValidationError(first[0], errors=errors)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


# --- policies ---------------------------------------------------------------------------------


def _require_policy_write(actor: Any, action: str, policy_client_id: int | None) -> None:
    require(actor, "policies", action)
    if policy_client_id is None and actor.client_scope() is not None:
        # An MSP-level policy reaches every client; staff restricted to some clients may not change it.
        raise PermissionDenied(_("Users restricted to assigned clients cannot change MSP-wide policies."))


def _resolve_target(actor: Any, scope: str, data: dict[str, Any]) -> dict[str, Any]:
    """The client/site/device of a new policy, checked against what the actor may see."""
    client_id, site_id, device_id = data.get("client_id"), data.get("site_id"), data.get("device_id")
    tag_id = data.get("tag_id")
    target: dict[str, Any] = {"client": None, "site": None, "device": None, "tag": None}
    not_found = _("Choose one of the %(what)s you may see.")
    if tag_id and scope != PolicyScope.TAG:
        raise ValidationError(_("Only a tag policy names a tag."), field="scope")
    if scope == PolicyScope.GLOBAL:
        if client_id or site_id or device_id:
            raise ValidationError(_("A policy for every device names no client, site or device."), field="scope")
    elif scope == PolicyScope.TAG:
        if client_id or site_id or device_id:
            raise ValidationError(_("A tag policy names no client, site or device: it reaches every device "
                                    "carrying the tag."), field="scope")
        tag = Tag.objects.filter(pk=tag_id).first() if tag_id else None
        if tag is None:
            raise ValidationError(not_found % {"what": _("tags")}, field="tag")
        target["tag"] = tag
    elif scope == PolicyScope.CLIENT:
        if site_id or device_id:
            raise ValidationError(_("A client policy names no site or device."), field="scope")
        client = Client.objects.visible_to(actor).filter(pk=client_id).first() if client_id else None
        if client is None:
            raise ValidationError(not_found % {"what": _("clients")}, field="client")
        target["client"] = client
    elif scope == PolicyScope.SITE:
        site = (Site.objects.visible_to(actor).select_related("client").filter(pk=site_id).first()
                if site_id else None)
        if site is None or (client_id and site.client_id != client_id):
            raise ValidationError(not_found % {"what": _("sites")}, field="site")
        target.update(client=site.client, site=site)
    elif scope == PolicyScope.DEVICE:
        device = (Device.objects.visible_to(actor).select_related("client").filter(pk=device_id).first()
                  if device_id else None)
        if device is None or (client_id and device.client_id != client_id):
            raise ValidationError(not_found % {"what": _("devices")}, field="device")
        target.update(client=device.client, device=device)
    else:
        raise ValidationError(_("Baseline policies come with Tenfold; choose another scope."), field="scope")
    return target


@transaction.atomic
def policy_create(*, actor: Any, data: dict[str, Any]) -> Policy:
    """Create a policy for every device, a client, the devices carrying a tag, a site or a device."""
    data = {k: _strip(v) for k, v in data.items()}
    _unknown(data, (*POLICY_FIELDS, "scope", "client_id", "site_id", "device_id", "tag_id"))
    scope = data.get("scope") or PolicyScope.CLIENT
    require(actor, "policies", "add")
    target = _resolve_target(actor, scope, data)
    _require_policy_write(actor, "add", target["client"].pk if target["client"] else None)
    policy = Policy(scope=scope, **target, name=data.get("name", ""), description=data.get("description", ""),
                    enabled=data.get("enabled", True))
    errors: dict[str, list[str]] = {}
    try:
        policy.collectors = clean_collectors(data.get("collectors"))
    except ValidationError as exc:
        errors.update(exc.errors)
    _full_clean(policy, errors)
    policy.save()
    audit.record(actor, "policy.created", policy, changes=audit.snapshot(
        policy, ["name", "description", "scope", "client", "site", "device", "tag", "collectors", "enabled"]))
    bump_generation()
    return policy


@transaction.atomic
def policy_update(*, actor: Any, policy: Policy, data: dict[str, Any]) -> Policy:
    """Change a policy's name, description, collectors or enabled flag (its scope and target stay)."""
    data = {k: _strip(v) for k, v in data.items()}
    _unknown(data, POLICY_FIELDS)
    _require_policy_write(actor, "change", policy.client_id)
    before = audit.snapshot(policy)
    errors: dict[str, list[str]] = {}
    for key, value in data.items():
        if key == "collectors":
            try:
                policy.collectors = clean_collectors(value)
            except ValidationError as exc:
                errors.update(exc.errors)
        else:
            setattr(policy, key, value)
    if policy.baseline_tier and data.get("enabled") is False:
        errors.setdefault("enabled", []).append(str(_("A baseline policy cannot be disabled.")))
    _full_clean(policy, errors)
    policy.save()
    changes = audit.diff(before, audit.snapshot(policy))
    if changes:
        audit.record(actor, "policy.updated", policy, changes=changes)
        bump_generation()
    return policy


@transaction.atomic
def policy_delete(*, actor: Any, policy: Policy) -> None:
    """Delete a policy and its checks; their open alerts are resolved."""
    _require_policy_write(actor, "delete", policy.client_id)
    if policy.baseline_tier:
        raise Conflict(_("A baseline policy cannot be deleted; change its checks instead."))
    snapshot, policy_id, client_id = audit.snapshot(policy), policy.pk, policy.client_id
    _resolve_alerts_of(list(policy.checks.values_list("pk", flat=True)))
    policy.delete()
    audit.record(actor, "policy.deleted", object_type="monitoring.policy", object_id=str(policy_id),
                 client_id=client_id, changes=snapshot)
    bump_generation()


def on_tags_changed(event: Any) -> None:
    """`device.tags_changed` / `tag.deleted` (emitted by assets): the devices' effective policies may have
    changed with their tags, so every cached device policy is dropped once this delivery commits."""
    bump_generation()


# --- checks -----------------------------------------------------------------------------------


def _apply_check(check: CheckDefinition, data: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    for key, value in data.items():
        if key != "params":
            setattr(check, key, _strip(value))
    try:
        check.params = clean_params(check.check_type, data.get("params", check.params))
    except ValidationError as exc:
        errors.update(exc.errors)
    _full_clean(check, errors, exclude=["policy"])


@transaction.atomic
def check_create(*, actor: Any, policy: Policy, data: dict[str, Any]) -> CheckDefinition:
    """Add a check to a policy; its params are validated for its type."""
    _unknown(data, CHECK_FIELDS)
    _require_policy_write(actor, "change", policy.client_id)
    check = CheckDefinition(policy=policy)
    _apply_check(check, data)
    check.save()
    audit.record(actor, "check.created", check, client_id=policy.client_id,
                 changes=audit.snapshot(check, ["policy", *CHECK_FIELDS]))
    bump_generation()
    return check


@transaction.atomic
def check_update(*, actor: Any, check: CheckDefinition, data: dict[str, Any]) -> CheckDefinition:
    """Change a check; a change of type needs params of the new type."""
    _unknown(data, CHECK_FIELDS)
    _require_policy_write(actor, "change", check.policy.client_id)
    before = audit.snapshot(check)
    _apply_check(check, data)
    check.save()
    changes = audit.diff(before, audit.snapshot(check))
    if changes:
        audit.record(actor, "check.updated", check, client_id=check.policy.client_id, changes=changes)
        bump_generation()
    if not check.enabled:
        _resolve_alerts_of([check.pk])
    return check


@transaction.atomic
def check_delete(*, actor: Any, check: CheckDefinition) -> None:
    """Remove a check from its policy; its open alerts are resolved."""
    _require_policy_write(actor, "change", check.policy.client_id)
    snapshot, check_id, client_id = audit.snapshot(check), check.pk, check.policy.client_id
    _resolve_alerts_of([check_id])
    check.delete()
    audit.record(actor, "check.deleted", object_type="monitoring.checkdefinition", object_id=str(check_id),
                 client_id=client_id, changes=snapshot)
    bump_generation()


def _resolve_alerts_of(check_ids: list[int]) -> None:
    from tenfold.monitoring.evaluation import emit_resolved

    alerts = list(Alert.objects.filter(check_definition_id__in=check_ids, status__in=(
        AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)).select_related("check_definition"))
    if not alerts:
        return
    now = timezone.now()
    Alert.objects.filter(pk__in=[a.pk for a in alerts]).update(status=AlertStatus.RESOLVED, resolved_at=now,
                                                               updated_at=now)
    for alert in alerts:
        emit_resolved(alert, reason="check_removed")


# --- alerts -----------------------------------------------------------------------------------


@transaction.atomic
def alert_acknowledge(*, actor: Any, alert: Alert) -> Alert:
    """Acknowledge an open alert: someone is on it."""
    require(actor, "devices", "change")
    updated = Alert.objects.filter(pk=alert.pk, status=AlertStatus.OPEN).update(
        status=AlertStatus.ACKNOWLEDGED, acknowledged_at=timezone.now(), acknowledged_by=actor,
        updated_at=timezone.now())
    if not updated:
        raise Conflict(_("Only an open alert can be acknowledged."))
    alert.refresh_from_db()
    audit.record(actor, "alert.acknowledged", alert, changes={"status": ["open", "acknowledged"]})
    events.emit("alert.acknowledged", client_id=alert.client_id,
                payload={"alert_id": alert.pk, "client_id": alert.client_id, "device_id": alert.device_id})
    return alert


@transaction.atomic
def alert_bulk_acknowledge(*, actor: Any, alert_ids: list[int]) -> int:
    """Acknowledge the open alerts among these ids that the actor may see; returns how many."""
    require(actor, "devices", "change")
    ids = list(Alert.objects.visible_to(actor).filter(pk__in=list(alert_ids)[:BULK_LIMIT], status=AlertStatus.OPEN)
               .values_list("pk", flat=True))
    for alert in Alert.objects.filter(pk__in=ids).order_by("pk"):
        alert_acknowledge(actor=actor, alert=alert)
    return len(ids)


@transaction.atomic
def alert_resolve(*, actor: Any, alert: Alert) -> Alert:
    """Resolve an alert by hand (the check keeps running: a new failure opens a new alert)."""
    from tenfold.monitoring.evaluation import emit_resolved

    require(actor, "devices", "change")
    before = alert.status
    updated = Alert.objects.filter(pk=alert.pk, status__in=(AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)).update(
        status=AlertStatus.RESOLVED, resolved_at=timezone.now(), updated_at=timezone.now())
    if not updated:
        raise Conflict(_("This alert is already resolved."))
    alert.refresh_from_db()
    audit.record(actor, "alert.resolved", alert, changes={"status": [before, "resolved"]})
    emit_resolved(alert, reason="manual")
    return alert


# --- maintenance windows ----------------------------------------------------------------------


def _window_targets(window: MaintenanceWindow, data: dict[str, Any]) -> None:
    if "site_id" in data:
        site_id = data["site_id"]
        check_site_of_client(window.client_id, site_id)
        window.site_id = site_id
    if "device_id" in data:
        device_id = data["device_id"]
        if device_id is not None and not Device.objects.filter(pk=device_id, client_id=window.client_id).exists():
            raise ValidationError(_("Choose one of this client's devices."), field="device")
        window.device_id = device_id
    if window.site_id and window.device_id:
        raise ValidationError(_("A window covers a whole client, one site or one device: choose one."),
                              field="device")


def _check_window(window: MaintenanceWindow) -> None:
    errors: dict[str, list[str]] = {}
    if window.starts_at and window.ends_at:
        if window.ends_at <= window.starts_at:
            errors["ends_at"] = [str(_("The end must be after the start."))]
        elif window.ends_at - window.starts_at > MAX_WINDOW:
            errors["ends_at"] = [str(_("A maintenance window lasts at most 92 days."))]
    _full_clean(window, errors)


@transaction.atomic
def window_create(*, actor: Any, client: Client, data: dict[str, Any]) -> MaintenanceWindow:
    """Plan a maintenance window for a client, one of its sites or one of its devices."""
    _unknown(data, WINDOW_FIELDS)
    require(actor, "devices", "add")
    window = MaintenanceWindow(client=client, created_by=actor if getattr(actor, "pk", None) else None,
                               starts_at=cast(Any, data.get("starts_at")), ends_at=cast(Any, data.get("ends_at")),
                               reason=_strip(data.get("reason", "")))
    _window_targets(window, data)
    _check_window(window)
    window.save()
    audit.record(actor, "maintenance_window.created", window, changes=audit.snapshot(window, [
        "site", "device", "starts_at", "ends_at", "reason"]))
    return window


@transaction.atomic
def window_update(*, actor: Any, window: MaintenanceWindow, data: dict[str, Any]) -> MaintenanceWindow:
    """Change a maintenance window."""
    _unknown(data, WINDOW_FIELDS)
    require(actor, "devices", "change")
    before = audit.snapshot(window)
    for key in ("starts_at", "ends_at", "reason"):
        if key in data:
            setattr(window, key, _strip(data[key]))
    _window_targets(window, data)
    _check_window(window)
    window.save()
    changes = audit.diff(before, audit.snapshot(window))
    if changes:
        audit.record(actor, "maintenance_window.updated", window, changes=changes)
    return window


@transaction.atomic
def window_delete(*, actor: Any, window: MaintenanceWindow) -> None:
    """Remove a maintenance window."""
    require(actor, "devices", "delete")
    snapshot, window_id, client_id = audit.snapshot(window), window.pk, window.client_id
    window.delete()
    audit.record(actor, "maintenance_window.deleted", object_type="monitoring.maintenancewindow",
                 object_id=str(window_id), client_id=client_id, changes=snapshot)


# --- baselines --------------------------------------------------------------------------------


@transaction.atomic
def baseline_apply(*, actor: Any, client: Client, tier: str, authority: str = "") -> ClientBaseline:
    """Apply a plan tier's baseline (that tier's policies and those below it) to a client's devices.

    Doing it again with the same tier changes nothing and writes nothing. `authority` names what makes
    the change legitimate when it is not the actor's own right to change policies: a signed contract
    (P4.5: selling a tier applies its policies, and those who sign contracts may not change policies by
    themselves). The caller has checked its own right; the audit row names the actor (None: the system,
    e.g. a scheduled addendum) and the authority."""
    if not authority:
        require(actor, "policies", "change")
    if tier not in Tier.values:
        raise ValidationError(_("Choose a tier: good, better or best."), field="tier")
    if not Client.objects.filter(pk=client.pk).exists():
        raise NotFound()
    existing = ClientBaseline.objects.select_for_update().filter(client=client).first()
    previous = existing.tier if existing else None
    if previous == tier and existing is not None:
        return existing
    try:
        with transaction.atomic():
            baseline, _created = ClientBaseline.objects.update_or_create(
                client=client, defaults={"tier": tier, "applied_by": actor if getattr(actor, "pk", None) else None})
    except IntegrityError as exc:  # applied concurrently: the other one won, try again
        raise Conflict(_("The baseline was changed at the same time; try again.")) from exc
    changes: dict[str, Any] = {"tier": [previous, tier]}
    if authority:
        changes["authority"] = authority
    audit.record(actor, "baseline.applied", baseline, client_id=client.pk, changes=changes)
    events.emit("baseline.applied", client_id=client.pk,
                payload={"client_id": client.pk, "tier": tier, "previous_tier": previous})
    bump_generation()
    return baseline


@transaction.atomic
def baseline_remove(*, actor: Any, client: Client) -> None:
    """Detach the tier baseline from a client (its devices keep only their other policies)."""
    require(actor, "policies", "change")
    baseline = ClientBaseline.objects.filter(client=client).first()
    if baseline is None:
        return
    tier = baseline.tier
    baseline.delete()
    audit.record(actor, "baseline.removed", object_type="monitoring.clientbaseline", object_id=str(client.pk),
                 client_id=client.pk, changes={"tier": [tier, None]})
    events.emit("baseline.removed", client_id=client.pk, payload={"client_id": client.pk, "tier": tier})
    bump_generation()
