"""Writes of patching: the updates snapshots agents report, approval decisions, approval policies, and the
install runs created inside install windows (through the agents' job service)."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from tenfold.agents import services as agent_services
from tenfold.agents.models import Job, JobStatus
from tenfold.assets.models import Device, DeviceState, Tag
from tenfold.clients.models import Client, Site
from tenfold.core import audit, events
from tenfold.core.errors import Conflict, PermissionDenied, TenfoldError, ValidationError
from tenfold.core.models import OutboxEvent
from tenfold.core.roles import Role, require
from tenfold.core.selectors import organization
from tenfold.patching.approvals import (
    PolicyIndex,
    decisions_for,
    device_tag_ids,
    device_time_zone,
    effective_status,
    statuses_for,
    window_spec,
)
from tenfold.patching.models import (
    NOT_INSTALLED,
    Approval,
    ApprovalDecision,
    ApprovalPolicy,
    DeviceUpdate,
    DeviceUpdateScan,
    DeviceUpdateState,
    InstallRun,
    InstallRunStatus,
    PatchScope,
    RebootRule,
    Update,
    UpdateApprovalStatus,
    UpdateCategory,
    UpdateSeverity,
    UpdateSource,
)
from tenfold.patching.windows import clean_window, window_at, zone

logger = logging.getLogger("tenfold.patching")

INSTALL_JOB_KIND = "install_updates"
# Sources whose identifier names one release (a KB, a macOS label): their catalog key has no version.
VERSIONLESS_SOURCES = (UpdateSource.WINDOWS_UPDATE, UpdateSource.SOFTWAREUPDATE)
MAX_AUTO_DAYS = 365
MAX_DEFERRALS = 10
MIN_DEFER_MINUTES, MAX_DEFER_MINUTES = 15, 1440


# --- Snapshots (from the agents' check-in, through the outbox) ----------------------------------------


def catalog_version(source: str, available_version: str) -> str:
    """The version part of an update's catalog key."""
    return "" if source in VERSIONLESS_SOURCES else available_version[:100]


def on_updates_reported(event: OutboxEvent) -> None:
    """Outbox handler of `device.updates_reported`: apply the snapshot (a late, older one changes nothing)."""
    payload = event.payload or {}
    at = parse_datetime(str(payload.get("at") or ""))
    if at is None or event.client_id is None:
        logger.warning("updates snapshot event #%s without a time or a client: ignored", event.pk)
        return
    snapshot_apply(device_id=int(payload["device_id"]), client_id=event.client_id, at=at,
                   seq=int(payload.get("seq") or 0), sources=list(payload.get("sources") or []),
                   errors=dict(payload.get("errors") or {}), updates=list(payload.get("updates") or []))


def _catalog(updates: list[dict[str, Any]], at: datetime) -> dict[tuple[str, str, str], Update]:
    keys = {(u["source"], u["identifier"], catalog_version(u["source"], u.get("available_version", "")))
            for u in updates}
    if not keys:
        return {}

    def load() -> dict[tuple[str, str, str], Update]:
        rows = Update.objects.filter(source__in={k[0] for k in keys}, identifier__in={k[1] for k in keys})
        return {(u.source, u.identifier, u.version): u for u in rows if (u.source, u.identifier, u.version) in keys}

    known = load()
    new: list[Update] = []
    for entry in updates:
        key = (entry["source"], entry["identifier"],
               catalog_version(entry["source"], entry.get("available_version", "")))
        if key in known or any((n.source, n.identifier, n.version) == key for n in new):
            continue
        new.append(Update(source=key[0], identifier=key[1], version=key[2],
                          title=(entry.get("title") or key[1])[:500], category=entry["category"],
                          severity=entry.get("severity") or "", released_on=_date(entry.get("released_on")),
                          reboot_required=bool(entry.get("reboot_required")), first_seen_at=at))
    if new:
        # Another device's snapshot may add the same update at the same time: the unique key keeps one.
        Update.objects.bulk_create(new, ignore_conflicts=True)
        known = load()
    return known


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


@transaction.atomic
def snapshot_apply(*, device_id: int, client_id: int, at: datetime, seq: int, sources: list[str],
                   errors: dict[str, str], updates: list[dict[str, Any]]) -> DeviceUpdateScan | None:
    """Replace what a device's listed sources say: reported updates are missing (or installed, when the agent
    says so); an update of a listed source that is no longer reported is installed, or superseded when a newer
    version of the same package is now reported. Sources that failed are left as they were."""
    device = Device.objects.filter(pk=device_id, client_id=client_id).first()
    if device is None:
        return None
    scan = DeviceUpdateScan.objects.select_for_update().filter(device=device).first()
    if scan is not None and (scan.scanned_at, scan.seq) >= (at, seq):
        return None  # an older snapshot delivered after a newer one
    catalog = _catalog(updates, at)
    existing = {du.update_id: du for du in DeviceUpdate.objects.select_for_update().filter(device=device)
                .select_related("update")}
    reported: set[int] = set()
    reported_names = {(u["source"], u["identifier"]) for u in updates if not u.get("installed")}
    new_rows: list[DeviceUpdate] = []
    changed: list[DeviceUpdate] = []
    for entry in updates:
        update = catalog[(entry["source"], entry["identifier"],
                          catalog_version(entry["source"], entry.get("available_version", "")))]
        if update.pk in reported:
            continue
        reported.add(update.pk)
        installed = bool(entry.get("installed"))
        row = existing.get(update.pk)
        if row is None:
            new_rows.append(DeviceUpdate(
                client_id=device.client_id, device=device, update=update,
                installed_version=entry.get("installed_version", "")[:100],
                available_version=entry.get("available_version", "")[:100],
                state=DeviceUpdateState.INSTALLED if installed else DeviceUpdateState.MISSING,
                first_seen_at=at, last_seen_at=at, installed_at=at if installed else None))
            continue
        row.last_seen_at = at
        row.installed_version = entry.get("installed_version", "")[:100]
        row.available_version = entry.get("available_version", "")[:100]
        if installed and row.state != DeviceUpdateState.INSTALLED:
            row.state, row.installed_at = DeviceUpdateState.INSTALLED, row.installed_at or at
        elif not installed and row.state in (DeviceUpdateState.INSTALLED, DeviceUpdateState.SUPERSEDED):
            # Listed again (rolled back, reinstalled from an older image): missing once more.
            row.state, row.installed_at = DeviceUpdateState.MISSING, None
        changed.append(row)
    for update_id, row in existing.items():
        if update_id in reported or row.update.source not in sources or row.state not in NOT_INSTALLED:
            continue
        if (row.update.source, row.update.identifier) in reported_names:
            row.state = DeviceUpdateState.SUPERSEDED
        else:
            row.state, row.installed_at = DeviceUpdateState.INSTALLED, at
        changed.append(row)
    if new_rows:
        DeviceUpdate.objects.bulk_create(new_rows)
    if changed:
        now = timezone.now()
        for row in changed:
            row.updated_at = now
        DeviceUpdate.objects.bulk_update(changed, ["last_seen_at", "installed_version", "available_version", "state",
                                                   "installed_at", "updated_at"], batch_size=500)
    scan, _created = DeviceUpdateScan.objects.update_or_create(
        device=device, defaults={"client_id": device.client_id, "scanned_at": at, "seq": seq,
                                 "sources": sorted(set(sources)), "errors": errors})
    return scan


# --- Approval decisions ------------------------------------------------------------------------------


def _clean_decision(decision: str, deferred_until: date | None, note: str) -> None:
    errors: dict[str, list[str]] = {}
    if decision not in Approval.values:
        errors["decision"] = [str(_("Choose approved, rejected or deferred."))]
    elif decision == Approval.DEFERRED:
        if deferred_until is None:
            errors["deferred_until"] = [str(_("Give the date the deferral ends."))]
        elif deferred_until <= timezone.localdate():
            errors["deferred_until"] = [str(_("A deferral ends after today."))]
    elif deferred_until is not None:
        errors["deferred_until"] = [str(_("Only a deferral has an end date."))]
    if len(note or "") > 500:
        errors["note"] = [str(_("Keep the note under 500 characters."))]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors=errors)


def _decide(actor: Any, update: Update, client: Client | None, decision: str, deferred_until: date | None,
            note: str) -> ApprovalDecision:
    row = ApprovalDecision.objects.select_for_update().filter(update=update, client=client).first()
    before = audit.snapshot(row, ["decision", "deferred_until", "note"]) if row is not None else {}
    if row is None:
        row = ApprovalDecision(update=update, client=client)
    row.decision, row.deferred_until, row.note = decision, deferred_until, note or ""
    row.decided_by = actor if getattr(actor, "pk", None) else None
    row.decided_at = timezone.now()
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise Conflict(_("Someone else decided on this update at the same time: reload and try again.")) from None
    audit.record(actor, "update_decision.set", row, client_id=client.pk if client else None, changes={
        "update_id": update.pk, "client_id": client.pk if client else None,
        **audit.diff(before, audit.snapshot(row, ["decision", "deferred_until", "note"]))})
    events.emit("update.decided", client_id=client.pk if client else None, payload={
        "update_id": update.pk, "client_id": client.pk if client else None, "decision": decision})
    return row


@transaction.atomic
def decision_set(*, actor: Any, update: Update, client: Client | None, decision: str,
                 deferred_until: date | None = None, note: str = "") -> ApprovalDecision:
    """Approve, reject or defer an update for one client, or for every client (client None)."""
    require(actor, "policies", "change")
    _clean_decision(decision, deferred_until, note)
    if client is None and actor.client_scope() is not None:
        raise PermissionDenied(_("Users restricted to assigned clients decide for those clients only."))
    row = _decide(actor, update, client, decision, deferred_until, note)
    withdraw_from_queued_installs(actor=actor, update_ids=[update.pk], client_id=client.pk if client else None)
    return row


@transaction.atomic
def decision_bulk(*, actor: Any, updates: list[Update], clients: list[Client] | None, decision: str,
                  deferred_until: date | None = None, note: str = "") -> list[ApprovalDecision]:
    """The same decision on several updates, for several clients or (clients None) for every client."""
    require(actor, "policies", "change")
    _clean_decision(decision, deferred_until, note)
    if not updates:
        raise ValidationError(_("Choose at least one update."), field="update_ids")
    if len(updates) > 500:
        raise ValidationError(_("Decide on at most 500 updates at once."), field="update_ids")
    if clients is None and actor.client_scope() is not None:
        raise PermissionDenied(_("Users restricted to assigned clients decide for those clients only."))
    targets: list[Client | None] = list(clients) if clients is not None else [None]
    if clients is not None and not clients:
        raise ValidationError(_("Choose at least one client, or every client."), field="client_ids")
    rows = [_decide(actor, update, client, decision, deferred_until, note)
            for update in sorted(updates, key=lambda u: u.pk) for client in targets]
    for client in targets:
        withdraw_from_queued_installs(actor=actor, update_ids=[u.pk for u in updates],
                                      client_id=client.pk if client else None)
    return rows


@transaction.atomic
def decision_delete(*, actor: Any, decision: ApprovalDecision) -> None:
    """Withdraw a decision: the next rule (the decision for every client, the policy) decides again."""
    require(actor, "policies", "change")
    if decision.client_id is None and actor.client_scope() is not None:
        raise PermissionDenied(_("Users restricted to assigned clients decide for those clients only."))
    snapshot = audit.snapshot(decision, ["update", "client", "decision", "deferred_until"])
    pk, client_id, update_id = decision.pk, decision.client_id, decision.update_id
    decision.delete()
    audit.record(actor, "update_decision.deleted", object_type="patching.approvaldecision", object_id=str(pk),
                 client_id=client_id, changes=snapshot)
    withdraw_from_queued_installs(actor=actor, update_ids=[update_id], client_id=client_id)


# --- Approval policies -------------------------------------------------------------------------------

POLICY_FIELDS = ("name", "scope", "client_id", "site_id", "device_id", "tag_id", "enabled", "auto_approve_categories",
                 "auto_approve_severities", "auto_approve_after_days", "window_days", "window_start", "window_end",
                 "reboot", "reboot_deferrals", "reboot_defer_minutes")


def _clean_policy(actor: Any, policy: ApprovalPolicy) -> None:
    errors: dict[str, list[str]] = {}
    if not (policy.name or "").strip() or len(policy.name) > 200:
        errors["name"] = [str(_("Give the policy a name of at most 200 characters."))]
    if policy.scope not in PatchScope.values:
        errors["scope"] = [str(_("Choose what the policy applies to."))]
    cats = policy.auto_approve_categories
    if not isinstance(cats, list) or any(c not in UpdateCategory.values for c in cats):
        errors["auto_approve_categories"] = [str(_("Choose categories among: %(values)s.")
                                                 % {"values": ", ".join(UpdateCategory.values)})]
    sevs = policy.auto_approve_severities
    if not isinstance(sevs, list) or any(s not in UpdateSeverity.values for s in sevs):
        errors["auto_approve_severities"] = [str(_("Choose severities among: %(values)s.")
                                                 % {"values": ", ".join(UpdateSeverity.values)})]
    days = policy.auto_approve_after_days
    if days is not None and not 0 <= days <= MAX_AUTO_DAYS:
        errors["auto_approve_after_days"] = [str(_("Choose between 0 and 365 days, or leave it empty."))]
    if days is not None and not cats:
        errors["auto_approve_categories"] = [str(_("Auto-approval needs at least one category."))]
    if policy.reboot not in RebootRule.values:
        errors["reboot"] = [str(_("Choose a reboot rule."))]
    if not 0 <= (policy.reboot_deferrals or 0) <= MAX_DEFERRALS:
        errors["reboot_deferrals"] = [str(_("Allow between 0 and 10 deferrals."))]
    minutes = policy.reboot_defer_minutes
    if not isinstance(minutes, int) or not MIN_DEFER_MINUTES <= minutes <= MAX_DEFER_MINUTES:
        errors["reboot_defer_minutes"] = [str(_("A deferral lasts between 15 and 1440 minutes (24 hours)."))]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors=errors)
    spec = clean_window(policy.window_days, policy.window_start, policy.window_end)
    policy.window_days = list(spec.days) if spec else []
    policy.auto_approve_categories = sorted(set(cats))
    policy.auto_approve_severities = sorted(set(sevs))
    _clean_target(actor, policy)


def _clean_target(actor: Any, policy: ApprovalPolicy) -> None:
    scope = policy.scope
    keep = {"client": scope in ("client", "site", "device"), "site": scope == "site", "device": scope == "device",
            "tag": scope == "tag"}
    for name, wanted in keep.items():
        if not wanted:
            setattr(policy, f"{name}_id", None)
    missing = {"client": _("Choose the client."), "site": _("Choose the site."), "device": _("Choose the device."),
               "tag": _("Choose the tag.")}
    for name, wanted in keep.items():
        if wanted and getattr(policy, f"{name}_id") is None:
            raise ValidationError(missing[name], field=name)
    scope_ids = actor.client_scope()
    if policy.client_id is not None:
        if (scope_ids is not None and policy.client_id not in scope_ids) or not Client.objects.filter(
                pk=policy.client_id).exists():
            raise ValidationError(_("Choose a client you may see."), field="client")
    elif scope_ids is not None:
        raise PermissionDenied(_("Users restricted to assigned clients manage those clients' policies only."))
    client_id = policy.client_id or 0
    if policy.site_id is not None and not Site.objects.filter(pk=policy.site_id, client_id=client_id).exists():
        raise ValidationError(_("Choose a site of this client."), field="site")
    if policy.device_id is not None and not Device.objects.filter(pk=policy.device_id, client_id=client_id).exists():
        raise ValidationError(_("Choose a device of this client."), field="device")
    if policy.tag_id is not None and not Tag.objects.filter(pk=policy.tag_id).exists():
        raise ValidationError(_("Choose an existing tag."), field="tag")


def _apply(policy: ApprovalPolicy, data: dict[str, Any]) -> None:
    for name in POLICY_FIELDS:
        if name in data:
            setattr(policy, name, data[name])


@transaction.atomic
def policy_create(*, actor: Any, data: dict[str, Any]) -> ApprovalPolicy:
    """Create an approval policy."""
    require(actor, "policies", "add")
    policy = ApprovalPolicy()
    _apply(policy, data)
    _clean_policy(actor, policy)
    policy.save()
    audit.record(actor, "approval_policy.created", policy, changes=audit.snapshot(policy, list(
        f.replace("_id", "") for f in POLICY_FIELDS)))
    events.emit("approval_policy.created", client_id=policy.client_id, payload={"policy_id": policy.pk})
    return policy


@transaction.atomic
def policy_update(*, actor: Any, policy: ApprovalPolicy, data: dict[str, Any]) -> ApprovalPolicy:
    """Change an approval policy."""
    require(actor, "policies", "change")
    if policy.client_id is None and actor.client_scope() is not None:
        raise PermissionDenied(_("Users restricted to assigned clients manage those clients' policies only."))
    before = audit.snapshot(policy)
    _apply(policy, data)
    _clean_policy(actor, policy)
    policy.save()
    changes = audit.diff(before, audit.snapshot(policy))
    if changes:
        audit.record(actor, "approval_policy.updated", policy, changes=changes)
    return policy


@transaction.atomic
def policy_delete(*, actor: Any, policy: ApprovalPolicy) -> None:
    """Delete an approval policy: its devices fall back to the next broader policy."""
    require(actor, "policies", "delete")
    if policy.client_id is None and actor.client_scope() is not None:
        raise PermissionDenied(_("Users restricted to assigned clients manage those clients' policies only."))
    snapshot, pk, client_id = audit.snapshot(policy), policy.pk, policy.client_id
    policy.delete()
    audit.record(actor, "approval_policy.deleted", object_type="patching.approvalpolicy", object_id=str(pk),
                 client_id=client_id, changes=snapshot)


# --- Installation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatchSchedule:
    """The patch schedule acting for the MSP when it queues install jobs inside install windows (audited
    under this name): a service manager's rights, no client restriction, no user id."""

    role: str = Role.SERVICE_MANAGER
    pk: None = None
    is_authenticated: bool = True
    is_portal: bool = False

    def client_scope(self) -> frozenset[int] | None:
        return None

    def __str__(self) -> str:
        return "patch schedule"


PATCH_SCHEDULE = PatchSchedule()


def schedule_installs(now: datetime | None = None) -> list[InstallRun]:
    """Queue one install job per device whose install window is open now and which misses approved updates
    (missing or failed before); once per device and window occurrence (the run's unique key)."""
    now = now or timezone.now()
    rows = list(DeviceUpdate.objects.filter(state__in=[DeviceUpdateState.MISSING, DeviceUpdateState.FAILED],
                                            device__managed=True)
                .exclude(device__state=DeviceState.RETIRED)
                .select_related("update", "device", "device__site").order_by("device_id", "update_id"))
    if not rows:
        return []
    index = PolicyIndex()
    decisions = decisions_for(r.update_id for r in rows)
    by_device: dict[int, list[DeviceUpdate]] = defaultdict(list)
    for row in rows:
        by_device[row.device_id].append(row)
    devices = {pk: dus[0].device for pk, dus in by_device.items()}
    tags = device_tag_ids(devices.values())
    default_tz = organization().default_time_zone
    created = []
    for device_id, dus in by_device.items():
        device = devices[device_id]
        policy = index.for_device(device, tags.get(device_id, ()))
        spec = window_spec(policy)
        if policy is None or spec is None:
            continue
        window = window_at(spec, zone(device_time_zone(device, default_tz)), now)
        if window is None:
            continue
        approved = [du for du in dus if effective_status(du.update, du.client_id, policy, decisions, now)
                    == UpdateApprovalStatus.APPROVED]
        if not approved or InstallRun.objects.filter(device_id=device_id, window_start=window[0]).exists():
            continue
        run = _queue_install(device, policy, approved, window)
        if run is not None:
            created.append(run)
    return created


# --- Install payload extensions -----------------------------------------------------------------------
# A higher app adds keys to every install job's payload (automation: the scripts run before and after
# installing) without patching importing it. An extension takes the device and the policy reaching it and
# returns the extra keys; it raises a TenfoldError (Conflict, ValidationError) meaning "do not install", with
# the reason, which is recorded on the run and on its device updates.

InstallPayloadExtension = Callable[[Device, ApprovalPolicy | None], dict[str, Any]]
_PAYLOAD_EXTENSIONS: dict[str, InstallPayloadExtension] = {}


def register_install_payload_extension(fn: InstallPayloadExtension) -> None:
    """Add `fn(device, policy) -> extra payload keys` to every install job (registered once per function)."""
    _PAYLOAD_EXTENSIONS[f"{fn.__module__}.{fn.__qualname__}"] = fn


def install_payload_extras(device: Device, policy: ApprovalPolicy | None) -> dict[str, Any]:
    """The keys the registered extensions add to `device`'s install job; a TenfoldError means do not install."""
    extras: dict[str, Any] = {}
    for name in sorted(_PAYLOAD_EXTENSIONS):
        extras.update(_PAYLOAD_EXTENSIONS[name](device, policy))
    return extras


def install_payload(policy: ApprovalPolicy | None, updates: Iterable[DeviceUpdate],
                    window_ends_at: datetime) -> dict[str, Any]:
    """The `install_updates` job payload without the extensions' keys: the updates, the policy's reboot rules
    (no policy: never reboot) and when the window closes."""
    return {
        "updates": [{"source": du.update.source, "identifier": du.update.identifier,
                     "version": du.available_version} for du in updates],
        "reboot": policy.reboot if policy else RebootRule.NEVER.value,
        "reboot_deferrals": policy.reboot_deferrals if policy else 0,
        "reboot_defer_minutes": policy.reboot_defer_minutes if policy else 60,
        "window_ends_at": window_ends_at.isoformat().replace("+00:00", "Z"),
    }


def _queue_install(device: Device, policy: ApprovalPolicy, approved: list[DeviceUpdate],
                   window: tuple[datetime, datetime]) -> InstallRun | None:
    payload = install_payload(policy, approved, window[1])
    try:
        payload.update(install_payload_extras(device, policy))
    except TenfoldError as exc:
        _refuse_install(device, approved, window, str(exc.message))
        return None
    try:
        with transaction.atomic():
            run = InstallRun.objects.create(client_id=device.client_id, device=device, window_start=window[0],
                                            window_end=window[1], updates=[du.pk for du in approved])
            job = agent_services.job_create(actor=PATCH_SCHEDULE, device=device, kind=INSTALL_JOB_KIND,
                                            payload=payload)
            run.job = job
            run.save(update_fields=["job", "updated_at"])
            DeviceUpdate.objects.filter(pk__in=[du.pk for du in approved], state__in=[
                DeviceUpdateState.MISSING, DeviceUpdateState.FAILED]).update(
                state=DeviceUpdateState.PENDING_INSTALL, last_job=job, message="", updated_at=timezone.now())
    except IntegrityError:
        return None  # another worker queued this window first
    except TenfoldError as exc:
        logger.warning("no install job for device %s: %s", device.pk, exc.message)
        return None
    return run


def _refuse_install(device: Device, approved: list[DeviceUpdate], window: tuple[datetime, datetime],
                    reason: str) -> None:
    """An extension refused the install: the window's run is recorded as failed, without a job, with the reason
    (once per window: its unique key), and the updates are marked failed with it."""
    now = timezone.now()
    message = str(_("Not installed: %(reason)s") % {"reason": reason})[:500]
    try:
        with transaction.atomic():
            run = InstallRun.objects.create(
                client_id=device.client_id, device=device, window_start=window[0], window_end=window[1],
                updates=[du.pk for du in approved], status=InstallRunStatus.FAILED, recorded_at=now,
                message=message)
            DeviceUpdate.objects.filter(pk__in=run.updates, state__in=[
                DeviceUpdateState.MISSING, DeviceUpdateState.FAILED]).update(
                state=DeviceUpdateState.FAILED, message=message, updated_at=now)
            events.emit("updates.install_finished", client_id=run.client_id, payload={
                "run_id": run.pk, "device_id": run.device_id, "job_id": None, "status": run.status,
                "failed": len(approved), "installed": 0})
    except IntegrityError:
        return  # another worker recorded this window first
    logger.warning("install refused for device %s: %s", device.pk, reason)


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.TIMED_OUT, JobStatus.CANCELLED)


SCRIPT_KEYS = ("pre_script", "post_script")
SCRIPT_OUTPUT_LIMIT = 2000


def _install_output(stdout: str) -> dict[str, Any]:
    try:
        data = json.loads(stdout or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _results_by_identifier(data: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """An install job's output `{"results": [{"identifier", "status": "installed"|"failed", "message"}]}`."""
    results = data.get("results")
    out = {}
    for entry in results if isinstance(results, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("identifier"), str):
            status = "installed" if entry.get("status") == "installed" else "failed"
            out[entry["identifier"]] = (status, str(entry.get("message") or "")[:500])
    return out


def _script_outcomes(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The `pre_script` / `post_script` entries of an install job's output, bounded: `{"status", "exit_code",
    "stdout", "stderr"}` each, the outputs' last 2000 characters (an entry that is not an object is left out)."""
    out: dict[str, dict[str, Any]] = {}
    for key in SCRIPT_KEYS:
        entry = data.get(key)
        if not isinstance(entry, dict):
            continue
        exit_code = entry.get("exit_code")
        out[key] = {"status": str(entry.get("status") or "")[:20],
                    "exit_code": exit_code if isinstance(exit_code, int) and not isinstance(exit_code, bool)
                    else None,
                    "stdout": str(entry.get("stdout") or "")[-SCRIPT_OUTPUT_LIMIT:],
                    "stderr": str(entry.get("stderr") or "")[-SCRIPT_OUTPUT_LIMIT:]}
    return out


def _default_outcome(job: Job, scripts: dict[str, dict[str, Any]]) -> tuple[str, str]:
    """What an update the output does not name gets: the job's status, and why it failed."""
    if job.status == JobStatus.SUCCEEDED:
        return "installed", ""
    pre = scripts.get("pre_script")
    if pre is not None and pre["status"] != "succeeded":
        return "failed", str(_("The script before installing failed (exit code %(code)s).")
                             % {"code": pre["exit_code"] if pre["exit_code"] is not None else "—"})[:500]
    return "failed", (job.stderr.strip() or str(job.get_status_display()))[:500]


def record_install_results(now: datetime | None = None) -> int:
    """Record the outcome of finished install jobs on their device updates (and the outcome of the scripts run
    before and after installing on the run); returns how many runs."""
    now = now or timezone.now()
    ids = list(InstallRun.objects.filter(recorded_at__isnull=True, job__status__in=FINISHED)
               .values_list("pk", flat=True)[:500])
    done = 0
    for run_id in ids:
        with transaction.atomic():
            run = InstallRun.objects.select_for_update(of=("self",)).select_related("job").filter(
                pk=run_id, recorded_at__isnull=True).first()
            if run is None or run.job is None:
                continue
            job = run.job
            data = _install_output(job.stdout)
            per_update = _results_by_identifier(data)
            scripts = _script_outcomes(data)
            default = _default_outcome(job, scripts)
            outcomes = []
            rows = DeviceUpdate.objects.select_for_update(of=("self",)).select_related("update")
            for du in rows.filter(pk__in=run.updates):
                status, message = per_update.get(du.update.identifier, default)
                outcomes.append(status)
                if du.state != DeviceUpdateState.PENDING_INSTALL or du.last_job_id != job.pk:
                    continue  # a newer snapshot already said what happened
                if status == "installed":
                    du.state, du.installed_at, du.message = DeviceUpdateState.INSTALLED, job.finished_at or now, ""
                else:
                    du.state, du.message = DeviceUpdateState.FAILED, message
                du.save(update_fields=["state", "installed_at", "message", "updated_at"])
            failed = outcomes.count("failed")
            run.status = (InstallRunStatus.SUCCEEDED if not failed else InstallRunStatus.FAILED
                          if failed == len(outcomes) else InstallRunStatus.PARTLY_FAILED)
            run.recorded_at, run.scripts = now, scripts
            run.save(update_fields=["status", "recorded_at", "scripts", "updated_at"])
            events.emit("updates.install_finished", client_id=run.client_id, payload={
                "run_id": run.pk, "device_id": run.device_id, "job_id": job.pk, "status": run.status,
                "failed": failed, "installed": len(outcomes) - failed})
            done += 1
    return done


# --- Withdrawn approvals -------------------------------------------------------------------------------


def withdraw_from_queued_installs(*, actor: Any, update_ids: list[int], client_id: int | None) -> int:
    """After a decision changed (withdrawn, rejected, deferred) for one client or (None) every client: install
    jobs still queued (not sent to the agent yet) lose the updates that are no longer approved on their
    device, and a job left with nothing to install is cancelled. Audited; returns how many jobs changed.

    A job already sent is the agent's: it installs what it received."""
    rows = DeviceUpdate.objects.filter(update_id__in=update_ids, state=DeviceUpdateState.PENDING_INSTALL,
                                       last_job__status=JobStatus.QUEUED)
    if client_id is not None:
        rows = rows.filter(client_id=client_id)
    pending = list(rows.select_related("update", "device", "device__site").order_by("pk"))
    if not pending:
        return 0
    statuses = statuses_for(pending)
    dropped: dict[int, list[DeviceUpdate]] = defaultdict(list)
    for du in pending:
        if statuses[du.pk] != UpdateApprovalStatus.APPROVED and du.last_job_id is not None:
            dropped[du.last_job_id].append(du)
    changed = 0
    for job_id in sorted(dropped):
        if _withdraw_from_job(actor, job_id, dropped[job_id]):
            changed += 1
    return changed


def _withdraw_from_job(actor: Any, job_id: int, dropped: list[DeviceUpdate]) -> bool:
    now = timezone.now()
    # The check-in marks queued jobs sent under the same row lock: a job sent meanwhile is left alone.
    job = Job.objects.select_for_update().filter(pk=job_id, status=JobStatus.QUEUED).first()
    run = InstallRun.objects.select_for_update().filter(job_id=job_id, recorded_at__isnull=True).first()
    if job is None or run is None:
        return False
    names = {(du.update.source, du.update.identifier) for du in dropped}
    updates = (job.payload or {}).get("updates") or []
    kept = [u for u in updates if (u.get("source"), u.get("identifier")) not in names]
    removed = sorted(f"{source}:{identifier}" for source, identifier in names)
    dropped_ids = {du.pk for du in dropped}
    kind = agent_services.actor_kind_of(actor)
    if kept:
        Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
            payload={**job.payload, "updates": kept}, updated_at=now)
        run.updates = [pk for pk in run.updates if pk not in dropped_ids]
        run.save(update_fields=["updates", "updated_at"])
        audit.record(actor, "install_job.updates_withdrawn", job, actor_kind=kind,
                     changes={"run_id": run.pk, "device_id": job.device_id, "removed": removed})
    else:
        agent_services.job_close(job, JobStatus.CANCELLED, now=now)
        run.status, run.recorded_at = InstallRunStatus.CANCELLED, now
        run.message = str(_("Cancelled before it was sent: no approved update was left to install."))[:500]
        run.save(update_fields=["status", "recorded_at", "message", "updated_at"])
        dropped_ids |= set(run.updates)
        audit.record(actor, "job.cancelled", job, actor_kind=kind,
                     changes={"run_id": run.pk, "device_id": job.device_id, "removed": removed})
    DeviceUpdate.objects.filter(pk__in=dropped_ids, state=DeviceUpdateState.PENDING_INSTALL,
                                last_job_id=job.pk).update(state=DeviceUpdateState.MISSING, message="",
                                                           updated_at=now)
    return True
