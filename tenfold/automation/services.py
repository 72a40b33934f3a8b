"""Writes of automation: signing keys, scripts and their versions, signatures, and script runs.

The server never holds a private key: it stores public keys, verifies every signature it is given
before storing it, and hands agents the version's document, body and signatures so that they verify
everything themselves (a server that lies is caught by the agent, not by these checks).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from tenfold.agents import services as agent_services
from tenfold.agents.models import Job, JobStatus
from tenfold.assets.models import Device, DeviceState
from tenfold.automation import actions, selectors, signing, trust
from tenfold.automation import parameters as params
from tenfold.automation.models import (
    OS_FAMILIES,
    DeviceGroup,
    GroupKind,
    KeyStatus,
    PatchPolicyScripts,
    Run,
    RunKind,
    ScheduledRun,
    ScheduleKind,
    Script,
    ScriptCategory,
    ScriptLanguage,
    ScriptRun,
    ScriptVersion,
    Signature,
    SigningKey,
    VersionStatus,
)
from tenfold.clients.models import Client
from tenfold.core import audit, events, scheduler
from tenfold.core.errors import Conflict, NotFound, PermissionDenied, TenfoldError, ValidationError
from tenfold.core.roles import Role, has_privilege, require
from tenfold.core.selectors import organization
from tenfold.core.tenancy import get_visible

logger = logging.getLogger("tenfold.automation")

JOB_KIND = "run_script"
MAX_BODY = 256 * 1024
MIN_TIMEOUT, MAX_TIMEOUT = 5, 86_400
MAX_DEVICES_PER_RUN = 500
SIGNED_FIELDS = ("body", "language", "os_families", "timeout_seconds", "parameters")


def require_library_write(actor: Any, action: str) -> None:
    """The scripts right, and not restricted to some clients (the library is the MSP's)."""
    # The library is the MSP's: every client's devices may run it. Staff restricted to some clients may
    # use it, not change it.
    require(actor, "scripts", action)
    if actor.client_scope() is not None:
        raise PermissionDenied(_("Staff restricted to some clients cannot change the MSP's script library."))


def _require_key_admin(actor: Any) -> None:
    # Registering or revoking a key decides what every agent trusts: owners and administrators only.
    require(actor, "settings", "change")


# --- Signing keys ------------------------------------------------------------------------------


@transaction.atomic
def signing_key_register(*, actor: Any, name: str, public_key: str, owner: Any,
                         countersigned_by: str | None = None, countersignature: str | None = None) -> SigningKey:
    """Register an approver's public key. The first key needs no countersignature (agents take it at
    enrollment); while an active key exists, a new one must be countersigned by an active key."""
    _require_key_admin(actor)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError(_("Name the key (at most 100 characters)."), field="name")
    try:
        key_id = signing.key_id_of(public_key)
    except signing.SigningError as exc:
        raise ValidationError(_("This is not an Ed25519 public key: %(reason)s.") % {"reason": exc},
                              field="public_key") from exc
    public_key = public_key.strip()
    if owner is None or getattr(owner, "is_portal", True) or not getattr(owner, "is_active", False):
        raise ValidationError(_("The key's owner must be an active staff member."), field="owner_id")
    if not has_privilege(owner, "scripts.sign"):
        raise ValidationError(_("The key's owner has no right to sign scripts (owners, administrators and "
                                "service managers do)."), field="owner_id")
    active = list(SigningKey.objects.select_for_update().filter(status=KeyStatus.ACTIVE))
    endorser = None
    if active:
        if not countersigned_by or not countersignature:
            raise ValidationError(_("Agents already trust a key: a new key must be countersigned by an active "
                                    "key (tenfold sign countersign)."), field="countersignature")
        endorser = next((k for k in active if k.key_id == countersigned_by.strip()), None)
        if endorser is None:
            raise ValidationError(_("The countersigning key %(key)s is not an active key.")
                                  % {"key": countersigned_by}, field="countersigned_by")
        try:
            signing.verify(endorser.public_key, signing.key_document(key_id, public_key), countersignature)
        except signing.SigningError as exc:
            raise ValidationError(_("The countersignature does not verify with key %(key)s: %(reason)s.")
                                  % {"key": endorser.key_id, "reason": exc}, field="countersignature") from exc
    elif countersignature:
        raise ValidationError(_("The first key is trusted at enrollment: it has no countersignature."),
                              field="countersignature")
    key = SigningKey(key_id=key_id, name=name, public_key=public_key, owner=owner, countersigned_by=endorser,
                     countersignature=countersignature.strip() if endorser and countersignature else "",
                     registered_by=actor if getattr(actor, "pk", None) else None)
    try:
        with transaction.atomic():
            key.save(force_insert=True)
    except IntegrityError:
        raise ValidationError(_("This key is already registered."), field="public_key") from None
    audit.record(actor, "signing_key.registered", key, changes={
        "key_id": key_id, "owner_id": owner.pk, "countersigned_by": endorser.key_id if endorser else None})
    events.emit("signing_key.registered", payload={"key_id": key_id})
    trust.bump_generation()
    return key


@transaction.atomic
def signing_key_revoke(*, actor: Any, key: SigningKey, revoked_by: str, signature: str) -> SigningKey:
    """Revoke a key with a revocation signed by *another* active key (agents accept nothing else).

    Versions that no other active key signed go back to awaiting signature."""
    _require_key_admin(actor)
    key = SigningKey.objects.select_for_update().get(pk=key.pk)
    if key.status != KeyStatus.ACTIVE:
        raise Conflict(_("This key is already revoked."))
    revoker = SigningKey.objects.filter(key_id=(revoked_by or "").strip(), status=KeyStatus.ACTIVE).first()
    if revoker is None:
        raise ValidationError(_("The revoking key %(key)s is not an active key.") % {"key": revoked_by},
                              field="revoked_by")
    if revoker.pk == key.pk:
        raise ValidationError(_("A key cannot revoke itself: sign the revocation with another active key."),
                              field="revoked_by")
    try:
        signing.verify(revoker.public_key, signing.revocation_document(key.key_id), signature)
    except signing.SigningError as exc:
        raise ValidationError(_("The revocation signature does not verify with key %(key)s: %(reason)s.")
                              % {"key": revoker.key_id, "reason": exc}, field="signature") from exc
    now = timezone.now()
    key.status, key.revoked_at, key.revoked_by_key = KeyStatus.REVOKED, now, revoker
    key.revocation_signature = signature.strip()
    key.save(update_fields=["status", "revoked_at", "revoked_by_key", "revocation_signature", "updated_at"])
    unsigned = (ScriptVersion.objects.filter(status=VersionStatus.SIGNED, signatures__key=key)
                .exclude(signatures__key__status=KeyStatus.ACTIVE))
    reverted = list(unsigned.values_list("pk", flat=True))
    ScriptVersion.objects.filter(pk__in=reverted).update(status=VersionStatus.AWAITING_SIGNATURE, updated_at=now)
    audit.record(actor, "signing_key.revoked", key, changes={
        "key_id": key.key_id, "revoked_by": revoker.key_id, "versions_unsigned": reverted})
    events.emit("signing_key.revoked", payload={"key_id": key.key_id})
    trust.bump_generation()
    return key


# --- Scripts and versions ----------------------------------------------------------------------


def _clean_script_fields(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if "name" in data or not partial:
        name = str(data.get("name") or "").strip()
        if not name or len(name) > 200:
            errors["name"] = [_("Name the script (at most 200 characters).")]
        clean["name"] = name
    if "description" in data:
        clean["description"] = str(data.get("description") or "")[:5000]
    if "category" in data or not partial:
        category = data.get("category") or ScriptCategory.MAINTENANCE
        if category not in ScriptCategory.values:
            errors["category"] = [_("Choose a category.")]
        clean["category"] = category
    if "language" in data or not partial:
        language = data.get("language")
        if language not in ScriptLanguage.values:
            errors["language"] = [_("The language must be powershell, shell or python.")]
        clean["language"] = language
    if "os_families" in data or not partial:
        families = data.get("os_families") or []
        if (not isinstance(families, list) or not families
                or any(f not in OS_FAMILIES for f in families) or len(set(families)) != len(families)):
            errors["os_families"] = [_("Choose one or more of: windows, linux, macos.")]
        else:
            clean["os_families"] = sorted(families)
    if "timeout_seconds" in data or not partial:
        timeout = data.get("timeout_seconds", 300)
        if isinstance(timeout, bool) or not isinstance(timeout, int) or not MIN_TIMEOUT <= timeout <= MAX_TIMEOUT:
            errors["timeout_seconds"] = [_("The timeout is between %(low)d and %(high)d seconds.")
                                         % {"low": MIN_TIMEOUT, "high": MAX_TIMEOUT}]
        clean["timeout_seconds"] = timeout
    if "parameters" in data or not partial:
        try:
            clean["parameters"] = params.clean_schema(data.get("parameters"))
        except ValidationError as exc:
            errors.update(exc.errors)
    if "body" in data or not partial:
        body = data.get("body")
        if not isinstance(body, str) or not body.strip():
            errors["body"] = [_("The script has no body.")]
        elif len(body.encode("utf-8")) > MAX_BODY or "\x00" in body:
            errors["body"] = [_("The body is at most 256 KiB of text.")]
        else:
            clean["body"] = body.replace("\r\n", "\n")
    if clean.get("language") == ScriptLanguage.POWERSHELL and "os_families" in clean and \
            clean["os_families"] != ["windows"] and not errors:
        errors["os_families"] = [_("PowerShell scripts run on Windows only.")]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors=errors)
    return clean


def _new_version(script: Script, body: str, actor: Any) -> ScriptVersion:
    number = (script.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    document = signing.script_document(
        script_id=script.pk, number=number, language=script.language, body=body, parameters=script.parameters,
        timeout_seconds=script.timeout_seconds, os_families=script.os_families)
    version = ScriptVersion(script=script, number=number, body=body, language=script.language,
                            os_families=script.os_families, timeout_seconds=script.timeout_seconds,
                            parameters=script.parameters, document=document.decode("utf-8"),
                            document_sha256=signing.sha256_hex(document),
                            created_by=actor if getattr(actor, "pk", None) else None)
    try:
        with transaction.atomic():
            version.save(force_insert=True)
    except IntegrityError:
        raise Conflict(_("Someone saved another version of this script at the same time: reload and try again.")) \
            from None
    return version


@transaction.atomic
def script_create(*, actor: Any, data: dict[str, Any]) -> Script:
    """Add a script to the library; its body becomes version 1, awaiting signature."""
    require_library_write(actor, "add")
    clean = _clean_script_fields(data)
    body = clean.pop("body")
    script = Script(**clean, slug=slugify(clean["name"])[:100],
                    created_by=actor if getattr(actor, "pk", None) else None)
    try:
        with transaction.atomic():
            script.save(force_insert=True)
    except IntegrityError:
        raise ValidationError(_("A script with this name already exists."), field="name") from None
    version = _new_version(script, body, actor)
    audit.record(actor, "script.created", script, changes={"name": script.name, "version": version.number,
                                                           "document_sha256": version.document_sha256})
    events.emit("script.created", payload={"script_id": script.pk, "version_id": version.pk})
    return script


@transaction.atomic
def script_update(*, actor: Any, script: Script, data: dict[str, Any]) -> ScriptVersion | None:
    """Change a script. A change of what is signed (body, language, systems, timeout, parameters) makes a
    new version awaiting signature, which is returned; the signed versions stay as they were."""
    require_library_write(actor, "change")
    script = Script.objects.select_for_update().get(pk=script.pk)
    clean = _clean_script_fields(data, partial=True)
    merged_language = clean.get("language", script.language)
    merged_os = clean.get("os_families", script.os_families)
    if merged_language == ScriptLanguage.POWERSHELL and merged_os != ["windows"]:
        raise ValidationError(_("PowerShell scripts run on Windows only."), field="os_families")
    current = script.versions.order_by("-number").first()
    body = clean.pop("body", current.body if current else "")
    before = audit.snapshot(script, ["name", "description", "category", "language", "os_families",
                                     "timeout_seconds", "parameters"])
    for field, value in clean.items():
        setattr(script, field, value)
    if "name" in clean:
        script.slug = slugify(script.name)[:100]
    try:
        with transaction.atomic():
            script.save()
    except IntegrityError:
        raise ValidationError(_("A script with this name already exists."), field="name") from None
    changes = audit.diff(before, audit.snapshot(script, list(before)))
    version = None
    if current is None or any(getattr(current, f) != (body if f == "body" else getattr(script, f))
                              for f in SIGNED_FIELDS):
        version = _new_version(script, body, actor)
        changes["version"] = version.number
        changes["document_sha256"] = version.document_sha256
    audit.record(actor, "script.updated", script, changes=changes)
    events.emit("script.updated", payload={"script_id": script.pk, "version_id": version.pk if version else None})
    return version


@transaction.atomic
def script_delete(*, actor: Any, script: Script) -> None:
    """Remove a script that never ran (a script with runs keeps its history: revoke its versions instead)."""
    require_library_write(actor, "delete")
    if ScriptRun.objects.filter(version__script=script).exists():
        raise Conflict(_("This script has run on devices: its history is kept. Revoke its versions instead."))
    if PatchPolicyScripts.objects.filter(Q(pre_script=script) | Q(post_script=script)).exists():
        raise Conflict(_("An approval policy runs this script before or after installing updates: choose another "
                         "script there first."))
    audit.record(actor, "script.deleted", script, changes={"name": script.name})
    script.delete()


@transaction.atomic
def version_revoke(*, actor: Any, version: ScriptVersion) -> ScriptVersion:
    """Withdraw a version: it is never sent to an agent again (jobs already queued still carry it)."""
    require_library_write(actor, "change")
    version = ScriptVersion.objects.select_for_update().get(pk=version.pk)
    if version.status == VersionStatus.REVOKED:
        raise Conflict(_("This version is already revoked."))
    previous = version.status
    version.status = VersionStatus.REVOKED
    version.save(update_fields=["status", "updated_at"])
    audit.record(actor, "script_version.revoked", version, changes={"status": [previous, version.status]})
    return version


@transaction.atomic
def signature_upload(*, actor: Any, version: ScriptVersion, key_id: str, signature: str) -> Signature:
    """Store an approver's signature of a version, after verifying it with the approver's own public key."""
    if not has_privilege(actor, "scripts.sign"):
        raise PermissionDenied(_("Your role may not sign scripts."))
    version = ScriptVersion.objects.select_for_update().select_related("script").get(pk=version.pk)
    if version.status == VersionStatus.REVOKED:
        raise Conflict(_("This version is revoked: it cannot be signed."))
    key = SigningKey.objects.filter(key_id=(key_id or "").strip()).first()
    if key is None or key.status != KeyStatus.ACTIVE:
        raise ValidationError(_("The key %(key)s is not an active signing key.") % {"key": key_id}, field="key_id")
    if key.owner_id != actor.pk:
        raise PermissionDenied(_("The key %(key)s is not yours: sign with your own key.") % {"key": key.key_id})
    try:
        signing.verify(key.public_key, version.document.encode("utf-8"), signature)
    except signing.SigningError as exc:
        raise ValidationError(_("The signature does not verify with key %(key)s against version %(number)d of "
                                "this script: %(reason)s. Rebuild the document with tenfold sign review.")
                              % {"key": key.key_id, "number": version.number, "reason": exc},
                              field="signature") from exc
    row = Signature(version=version, key=key, signature=signature.strip(), signed_at=timezone.now(), signed_by=actor)
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        raise Conflict(_("This key already signed this version.")) from None
    previous = version.status
    if version.status != VersionStatus.SIGNED:
        version.status = VersionStatus.SIGNED
        version.save(update_fields=["status", "updated_at"])
    audit.record(actor, "script_version.signed", version, changes={
        "key_id": key.key_id, "script_id": version.script_id, "number": version.number,
        "document_sha256": version.document_sha256, "status": [previous, version.status]})
    events.emit("script_version.signed", payload={"script_id": version.script_id, "version_id": version.pk})
    return row


# --- Running: targets, runs, cancel, retry -----------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a run goes to: chosen devices, a device group, or every managed device of one client."""

    device_ids: list[int] | None = None
    group_id: int | None = None
    client_id: int | None = None


@dataclass(frozen=True)
class ResolvedTarget:
    """The devices a target names (those the actor may run on), the group if any, and a label."""

    devices: list[Device]
    group: DeviceGroup | None
    label: str
    explicit: bool  # devices named one by one: a device that cannot run the script is an error, not skipped


def resolve_target(actor: Any, target: Target) -> ResolvedTarget:
    """The devices of a target, scoped to the actor: a device, group or client they may not see is a 404."""
    named = sum([bool(target.device_ids), target.group_id is not None, target.client_id is not None])
    if named != 1:
        raise ValidationError(_("Name either devices, one group or one client."), field="device_ids")
    if target.client_id is not None:
        client = get_visible(Client.objects.all(), actor, target.client_id)
        devices = list(Device.objects.visible_to(actor).filter(client=client, managed=True)
                       .exclude(state=DeviceState.RETIRED).order_by("pk"))
        if not devices:
            raise ValidationError(_("This client has no managed device."), field="client_id")
        return ResolvedTarget(devices, None, _("every device of %(client)s") % {"client": client.name}, False)
    if target.group_id is not None:
        group = get_visible(DeviceGroup.objects.all(), actor, target.group_id)
        devices = list(selectors.group_members(actor, group).filter(managed=True).order_by("pk"))
        if not devices:
            raise ValidationError(_("This group has no managed device you may run on."), field="group_id")
        return ResolvedTarget(devices, group, _("group %(name)s") % {"name": group.name}, False)
    assert target.device_ids is not None
    if len(target.device_ids) > MAX_DEVICES_PER_RUN:
        raise ValidationError(_("At most %(n)d devices per run.") % {"n": MAX_DEVICES_PER_RUN}, field="device_ids")
    wanted = sorted(set(target.device_ids))
    found = {d.pk: d for d in Device.objects.visible_to(actor).filter(pk__in=wanted)}
    if len(found) != len(wanted):
        raise NotFound()  # another client's device and a missing one answer alike, and nothing is queued
    devices = [found[pk] for pk in wanted]
    label = ", ".join(d.name for d in devices[:3]) + ("…" if len(devices) > 3 else "")
    return ResolvedTarget(devices, None, label, True)


def _target_devices(actor: Any, device_ids: list[int] | None, client_id: int | None) -> list[Device]:
    return resolve_target(actor, Target(device_ids=device_ids, client_id=client_id)).devices


def run_payload(version: ScriptVersion, values: dict[str, Any], secrets: dict[str, str]) -> dict[str, Any]:
    """What the agent receives: the signed document, the signatures by active keys, the body, the values."""
    signatures = [{"key_id": s.key.key_id, "signature": s.signature}
                  for s in version.signatures.select_related("key").filter(key__status=KeyStatus.ACTIVE)]
    payload: dict[str, Any] = {
        "script_id": version.script_id, "version": version.number, "name": version.script.name,
        "document": version.document, "signatures": signatures, "body": version.body,
        "parameters": values, "secret_names": sorted(secrets)}
    if secrets:
        payload[agent_services.SECRET_PARAMETERS] = secrets
    return payload


def signed_version(script: Script, version_number: int | None) -> ScriptVersion:
    """The version a run uses: the given one (it must be signed) or the newest signed one."""
    if version_number is None:
        version = script.versions.filter(status=VersionStatus.SIGNED).order_by("-number").first()
        if version is None:
            raise Conflict(_("This script has no signed version: an approver must sign it with tenfold sign."))
        return version
    version = script.versions.filter(number=version_number).first()
    if version is None:
        raise ValidationError(_("This script has no version %(n)d.") % {"n": version_number}, field="version")
    if version.status != VersionStatus.SIGNED:
        raise Conflict(_("Version %(n)d is not signed (%(status)s): only signed versions run.")
                       % {"n": version.number, "status": version.get_status_display()})
    return version


def install_updates_payload(device: Device, now: datetime | None = None) -> dict[str, Any] | None:
    """The device's approved missing (or failed) updates in the shape of the patch schedule's install job, with
    its policy's reboot rules and scripts; None when it misses no approved update."""
    from tenfold.patching.approvals import PolicyIndex, decisions_for, device_tag_ids, effective_status
    from tenfold.patching.models import DeviceUpdate, DeviceUpdateState, UpdateApprovalStatus
    from tenfold.patching.services import install_payload, install_payload_extras

    now = now or timezone.now()
    rows = list(DeviceUpdate.objects.filter(device=device, state__in=[DeviceUpdateState.MISSING,
                                                                      DeviceUpdateState.FAILED])
                .select_related("update").order_by("update_id"))
    if not rows:
        return None
    policy = PolicyIndex().for_device(device, device_tag_ids([device]).get(device.pk, ()))
    decisions = decisions_for(r.update_id for r in rows)
    approved = [r for r in rows if effective_status(r.update, device.client_id, policy, decisions, now)
                == UpdateApprovalStatus.APPROVED]
    if not approved:
        return None
    ends = now + timedelta(seconds=actions.ACTIONS["install_updates"].timeout_seconds)
    # The same payload as the patch schedule's, with the extensions' keys (the policy's scripts before and
    # after installing); an extension that cannot build them refuses the run with its reason.
    return {**install_payload(policy, approved, ends), **install_payload_extras(device, policy)}


@dataclass
class _What:
    version: ScriptVersion | None = None
    action: str = ""
    values: dict[str, Any] = dc_field(default_factory=dict)  # script values, or the action's payload
    secrets: dict[str, str] = dc_field(default_factory=dict)

    @property
    def shown(self) -> dict[str, Any]:
        return {**self.values, **{name: params.SECRET_MARK for name in self.secrets}}


def _usable(what: _What, resolved: ResolvedTarget) -> list[Device]:
    """The devices that can take the run; named devices that cannot are an error, group or client members of
    another system are left out (an empty result is an error)."""
    families = what.version.os_families if what.version else actions.ACTIONS[what.action].os_families
    errors: list[str] = []
    usable = []
    for device in resolved.devices:
        if not device.managed or device.state == DeviceState.RETIRED:
            errors.append(_("%(device)s is not a managed device.") % {"device": device.name})
        elif device.os_family not in families:
            if resolved.explicit:
                message = (_("%(device)s runs %(os)s; this script runs on %(families)s.") if what.version else
                           _("%(device)s runs %(os)s; this action runs on %(families)s."))
                errors.append(message % {"device": device.name, "os": device.os_family or _("an unknown system"),
                                         "families": ", ".join(families)})
        else:
            usable.append(device)
    if errors:
        raise ValidationError(errors[0], errors={"device_ids": errors})
    if not usable:
        raise ValidationError(_("None of these devices runs %(families)s.") % {"families": ", ".join(families)},
                              field="device_ids")
    return usable


def _start(actor: Any, what: _What, resolved: ResolvedTarget, *, scheduled: ScheduledRun | None = None,
           retry_of: Run | None = None) -> list[Run]:
    """Queue the jobs: one run per client of the devices, one job per device (through the agents' service)."""
    devices = _usable(what, resolved)
    payloads: dict[int, dict[str, Any]] = {}
    if what.action == "install_updates":
        for device in devices:
            built = install_updates_payload(device)
            if built is not None:
                payloads[device.pk] = built
        if not payloads:
            raise ValidationError(_("None of these devices misses an approved update."), field="device_ids")
        devices = [d for d in devices if d.pk in payloads]
    if what.version is not None:
        kind, timeout = JOB_KIND, what.version.timeout_seconds
        payload = run_payload(what.version, what.values, what.secrets)
    else:
        kind, timeout, payload = what.action, actions.ACTIONS[what.action].timeout_seconds, dict(what.values)
    creator = actor if getattr(actor, "pk", None) else None
    by_client: dict[int, list[Device]] = {}
    for device in devices:
        by_client.setdefault(device.client_id, []).append(device)
    runs = []
    for client_id, members in by_client.items():
        run = Run.objects.create(client_id=client_id, kind=RunKind.SCRIPT if what.version else RunKind.ACTION,
                                 version=what.version, action=what.action, parameters=what.shown,
                                 target_label=resolved.label[:300], group=resolved.group, scheduled_run=scheduled,
                                 retry_of=retry_of, started_by=str(actor)[:254], created_by=creator)
        for device in members:
            job = agent_services.job_create(actor=actor, device=device, kind=kind,
                                            payload=payloads.get(device.pk, payload), timeout_seconds=timeout)
            ScriptRun.objects.create(client_id=client_id, run=run, device=device, job=job, version=what.version,
                                     action=what.action, parameters=what.shown, created_by=creator)
        audit.record(actor, "run.started", run, actor_kind=agent_services.actor_kind_of(actor), changes={
            "kind": run.kind, "version_id": run.version_id, "action": run.action, "parameters": run.parameters,
            "devices": [d.pk for d in members], "group_id": run.group_id, "scheduled_run_id": run.scheduled_run_id,
            "retry_of": run.retry_of_id})
        runs.append(run)
    return runs


def _script_what(script: Script, version_number: int | None, parameters: dict[str, Any] | None) -> _What:
    version = signed_version(script, version_number)
    values, secrets = params.clean_values(version.parameters, parameters)
    return _What(version=version, values=values, secrets=secrets)


@transaction.atomic
def script_run(*, actor: Any, script: Script, device_ids: list[int] | None = None, client_id: int | None = None,
               parameters: dict[str, Any] | None = None, version_number: int | None = None,
               group_id: int | None = None) -> list[ScriptRun]:
    """Queue a signed version of a script on devices (or a group, or every managed device of a client): one job
    per device, created through the agents' job service. Devices the actor may not see are a 404 and nothing is
    queued; parameter values are checked against the version's schema first."""
    resolved = resolve_target(actor, Target(device_ids=device_ids, group_id=group_id, client_id=client_id))
    require(actor, "jobs", "add")
    require(actor, "scripts", "view")
    what = _script_what(script, version_number, parameters)
    runs = _start(actor, what, resolved)
    items = [item for run in runs for item in run.items.select_related("job", "version").order_by("pk")]
    audit.record(actor, "script.run", script, actor_kind=agent_services.actor_kind_of(actor), changes={
        "version": what.version.number if what.version else None, "devices": [i.device_id for i in items],
        "parameters": what.shown, "jobs": [i.job_id for i in items]})
    return items


@transaction.atomic
def action_run(*, actor: Any, action: str, target: Target, payload: dict[str, Any] | None = None) -> list[Run]:
    """Send a built-in agent action (restart a service, reboot, install updates …) to the target's devices."""
    resolved = resolve_target(actor, target)
    require(actor, "jobs", "add")
    what = _What(action=actions.action_of(action).kind, values=actions.clean_payload(action, payload))
    return _start(actor, what, resolved)


CANCELLABLE = (JobStatus.QUEUED, JobStatus.SENT, JobStatus.RUNNING)


def _cancel_item(actor: Any, item: ScriptRun, now: datetime) -> str:
    job = Job.objects.select_for_update().get(pk=item.job_id)
    if job.status == JobStatus.QUEUED:
        agent_services.job_close(job, JobStatus.CANCELLED, now=now)
        audit.record(actor, "job.cancelled", job, actor_kind=agent_services.actor_kind_of(actor),
                     changes={"run_id": item.run_id, "device_id": item.device_id})
        return "cancelled"
    if job.status in (JobStatus.SENT, JobStatus.RUNNING):
        if item.cancel_requested_at is not None:
            return ""
        cancel = agent_services.job_create(actor=actor, device=item.device, kind=actions.CANCEL_JOB,
                                           payload={"job_id": job.pk}, timeout_seconds=CANCEL_TIMEOUT)
        ScriptRun.objects.filter(pk=item.pk).update(cancel_job=cancel, cancel_requested_at=now, updated_at=now)
        item.cancel_job, item.cancel_requested_at = cancel, now
        audit.record(actor, "job.cancel_requested", job, actor_kind=agent_services.actor_kind_of(actor),
                     changes={"run_id": item.run_id, "device_id": item.device_id, "cancel_job_id": cancel.pk})
        return "cancelling"
    return ""


@transaction.atomic
def run_item_cancel(*, actor: Any, item: ScriptRun) -> str:
    """Cancel one device's job: a queued job is cancelled at once ("cancelled"); a sent or running one gets a
    `cancel_job` job for its agent, which stops it and reports "cancelled" ("cancelling")."""
    require(actor, "jobs", "add")
    outcome = _cancel_item(actor, item, timezone.now())
    if not outcome:
        item.job.refresh_from_db()
        if item.cancel_requested_at is not None and item.job.status in (JobStatus.SENT, JobStatus.RUNNING):
            raise Conflict(_("A cancel is already on its way to this device."))
        raise Conflict(_("This job has already finished (%(status)s).") % {"status": item.job.get_status_display()})
    return outcome


@transaction.atomic
def run_cancel(*, actor: Any, run: Run) -> dict[str, int]:
    """Cancel every open job of a run; returns how many were cancelled at once and how many are cancelling."""
    require(actor, "jobs", "add")
    now = timezone.now()
    counts = {"cancelled": 0, "cancelling": 0}
    for item in run.items.select_related("device", "job").filter(job__status__in=CANCELLABLE).order_by("job_id"):
        outcome = _cancel_item(actor, item, now)
        if outcome:
            counts[outcome] += 1
    if not any(counts.values()):
        raise Conflict(_("Nothing of this run is left to cancel."))
    return counts


RETRYABLE = (JobStatus.FAILED, JobStatus.TIMED_OUT)


def secret_parameters_of(run: Run) -> list[dict[str, Any]]:
    """The secret parameters a retry of this run must be given again (they are never kept)."""
    if run.version is None:
        return []
    return [p for p in run.version.parameters
            if p["type"] == "secret" and run.parameters.get(p["name"]) == params.SECRET_MARK]


@transaction.atomic
def run_retry(*, actor: Any, run: Run, secrets: dict[str, Any] | None = None) -> Run:
    """A new run, on the devices whose job failed or timed out, with the same version (or action) and
    parameters; secret parameters the first run had must be given again."""
    require(actor, "jobs", "add")
    failed = list(run.items.select_related("device").filter(job__status__in=RETRYABLE).order_by("device_id"))
    if not failed:
        raise Conflict(_("No device of this run failed or timed out."))
    visible = set(Device.objects.visible_to(actor).filter(pk__in=[i.device_id for i in failed])
                  .values_list("pk", flat=True))
    devices = [i.device for i in failed if i.device_id in visible]
    if not devices:
        raise NotFound()
    resolved = ResolvedTarget(devices, run.group, (_("retry of run %(n)d") % {"n": run.pk})[:300], True)
    if run.version is not None:
        if run.version.status != VersionStatus.SIGNED:
            raise Conflict(_("Version %(n)d is no longer signed: it does not run again.") % {"n": run.version.number})
        secret_names = {p["name"] for p in secret_parameters_of(run)}
        given = {k: v for k, v in (secrets or {}).items() if k in secret_names}
        missing = sorted(name for name in secret_names if not given.get(name))
        if missing:
            raise ValidationError(_("Enter the secret parameter again: it is never kept."),
                                  errors={f"parameters.{n}": [_("Enter the secret parameter again: it is never kept.")]
                                          for n in missing})
        ordinary = {k: v for k, v in run.parameters.items() if k not in secret_names}
        values, secret_values = params.clean_values(run.version.parameters, {**ordinary, **given})
        what = _What(version=run.version, values=values, secrets=secret_values)
    else:
        what = _What(action=run.action, values=actions.clean_payload(run.action, run.parameters))
    [new] = _start(actor, what, resolved, retry_of=run)
    return new


TIMEOUT_GRACE = timedelta(minutes=2)
CANCEL_TIMEOUT = 300


def time_out_jobs(now: datetime | None = None) -> int:
    """Mark timed out the jobs sent or running past their timeout plus a grace (their agent never answered);
    a late result of such a job is then ignored. Returns how many.

    The timeout counts from the job's first send: a job sent again (its answer may have been lost) keeps
    its deadline, so an agent that checks in without ever answering cannot hold it open."""
    now = now or timezone.now()
    open_jobs = list(Job.objects.filter(status__in=[JobStatus.SENT, JobStatus.RUNNING], sent_at__isnull=False,
                                        timeout_seconds__isnull=False)
                     .only("pk", "status", "sent_at", "first_sent_at", "timeout_seconds", "payload", "device_id",
                           "client_id")
                     .order_by("pk"))
    count = 0
    for job in open_jobs:
        sent = job.first_sent_at or job.sent_at
        assert sent is not None and job.timeout_seconds is not None
        if sent + timedelta(seconds=job.timeout_seconds) + TIMEOUT_GRACE > now:
            continue
        with transaction.atomic():
            if agent_services.job_close(job, JobStatus.TIMED_OUT, now=now):
                count += 1
    return count


def is_owner_or_admin(actor: Any) -> bool:
    """Owners and administrators manage signing keys."""
    return getattr(actor, "role", None) in (Role.OWNER, Role.ADMIN)


# --- Device groups -----------------------------------------------------------------------------------

GROUP_FILTERS = ("os_family", "client_id", "site_id", "tag_id", "software", "device_kind", "online")
MAX_GROUP_DEVICES = 1000


def _clean_group(actor: Any, data: dict[str, Any], group: DeviceGroup | None) -> dict[str, Any]:
    from tenfold.assets.models import DeviceKind, OsFamily, Tag
    from tenfold.clients.models import Site

    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    name = (data.get("name") or "").strip() if isinstance(data.get("name"), str) else ""
    if not name or len(name) > 200:
        errors["name"] = [_("Name the group (at most 200 characters).")]
    clean["name"] = name
    description = data.get("description") or ""
    if not isinstance(description, str) or len(description) > 500:
        errors["description"] = [_("The description is at most 500 characters.")]
    clean["description"] = description.strip() if isinstance(description, str) else ""
    kind = data.get("kind") or GroupKind.DYNAMIC
    if kind not in GroupKind.values:
        errors["kind"] = [_("The kind is static or dynamic.")]
    clean["kind"] = kind
    if group is None:
        client_id = data.get("client_id")
        if client_id is None:
            if actor.client_scope() is not None:
                raise PermissionDenied(_("Staff restricted to some clients make groups of one of their clients."))
            clean["client"] = None
        else:
            clean["client"] = get_visible(Client.objects.all(), actor, client_id)
    else:
        clean["client"] = group.client
    owner = clean["client"]
    filters: dict[str, Any] = {}
    devices: list[Device] = []
    if kind == GroupKind.DYNAMIC:
        raw = data.get("filters") or {}
        if not isinstance(raw, dict):
            raw = {}
            errors["filters"] = [_("The filters must be an object.")]
        for key in sorted(set(raw) - set(GROUP_FILTERS)):
            errors[f"filters.{key}"] = [_("Unknown filter %(name)s.") % {"name": key}]
        raw = {k: v for k, v in raw.items() if v not in (None, "")}
        if "os_family" in raw:
            if raw["os_family"] not in OsFamily.values:
                errors["filters.os_family"] = [_("Choose windows, linux, macos or other.")]
            filters["os_family"] = raw["os_family"]
        if "device_kind" in raw:
            if raw["device_kind"] not in DeviceKind.values:
                errors["filters.device_kind"] = [_("Choose a device kind.")]
            filters["device_kind"] = raw["device_kind"]
        if "online" in raw:
            if raw["online"] not in ("online", "offline"):
                errors["filters.online"] = [_("Choose online or offline.")]
            filters["online"] = raw["online"]
        if "software" in raw:
            software = raw["software"]
            if not isinstance(software, str) or not software.strip() or len(software) > 100:
                errors["filters.software"] = [_("The software name is at most 100 characters.")]
            else:
                filters["software"] = software.strip()
        if "client_id" in raw:
            if owner is not None:
                errors["filters.client_id"] = [_("A client's group holds that client's devices only.")]
            else:
                filters["client_id"] = get_visible(Client.objects.all(), actor, raw["client_id"]).pk
        if "site_id" in raw:
            site = get_visible(Site.objects.all(), actor, raw["site_id"])
            if owner is not None and site.client_id != owner.pk:
                errors["filters.site_id"] = [_("Choose one of this client's sites.")]
            filters["site_id"] = site.pk
        if "tag_id" in raw:
            if not Tag.objects.filter(pk=raw["tag_id"] if isinstance(raw["tag_id"], int) else 0).exists():
                errors["filters.tag_id"] = [_("No tag with this id.")]
            filters["tag_id"] = raw["tag_id"]
    else:
        wanted = data.get("device_ids") or []
        if not isinstance(wanted, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in wanted):
            errors["device_ids"] = [_("Name the devices by id.")]
        elif len(set(wanted)) > MAX_GROUP_DEVICES:
            errors["device_ids"] = [_("At most %(n)d devices per group.") % {"n": MAX_GROUP_DEVICES}]
        else:
            found = list(Device.objects.visible_to(actor).filter(pk__in=set(wanted)).order_by("pk"))
            if len(found) != len(set(wanted)):
                raise NotFound()
            if owner is not None and any(d.client_id != owner.pk for d in found):
                errors["device_ids"] = [_("A client's group holds that client's devices only.")]
            devices = found
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], errors=errors)
    clean["filters"] = filters
    clean["devices"] = devices
    return clean


def _save_group(group: DeviceGroup) -> None:
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError:
        raise ValidationError(_("A group with this name already exists."), field="name") from None


@transaction.atomic
def group_create(*, actor: Any, data: dict[str, Any]) -> DeviceGroup:
    """A device group: the MSP's (it may span clients) or one client's; static (chosen devices) or dynamic."""
    if data.get("client_id") is not None:
        get_visible(Client.objects.all(), actor, data["client_id"])  # another client's: 404 whatever the role
    require(actor, "jobs", "add")
    clean = _clean_group(actor, data, None)
    devices = clean.pop("devices")
    group = DeviceGroup(**clean, created_by=actor if getattr(actor, "pk", None) else None)
    _save_group(group)
    group.devices.set(devices)
    audit.record(actor, "device_group.created", group, changes={
        "name": group.name, "kind": group.kind, "filters": group.filters, "devices": [d.pk for d in devices]})
    return group


@transaction.atomic
def group_update(*, actor: Any, group: DeviceGroup, data: dict[str, Any]) -> DeviceGroup:
    """Change a group's name, description, kind, filters or chosen devices (its owner stays). Chosen devices
    of clients the actor may not see stay in the group."""
    require(actor, "jobs", "change")
    group = DeviceGroup.objects.select_for_update().get(pk=group.pk)
    merged = {"name": group.name, "description": group.description, "kind": group.kind, "filters": group.filters,
              **data}
    clean = _clean_group(actor, merged, group)
    devices = clean.pop("devices")
    before = audit.snapshot(group, ["name", "description", "kind", "filters"])
    for key in ("name", "description", "kind", "filters"):
        setattr(group, key, clean[key])
    _save_group(group)
    if group.kind == GroupKind.STATIC:
        hidden = list(group.devices.exclude(pk__in=Device.objects.visible_to(actor).values("pk")))
        if "device_ids" in data:
            group.devices.set([*devices, *hidden])
    else:
        group.devices.clear()
    audit.record(actor, "device_group.updated", group,
                 changes=audit.diff(before, audit.snapshot(group, list(before))))
    return group


@transaction.atomic
def group_delete(*, actor: Any, group: DeviceGroup) -> None:
    """Remove a group (its past runs keep their target's name); not while a scheduled run targets it."""
    require(actor, "jobs", "delete")
    if ScheduledRun.objects.filter(group=group).exists():
        raise Conflict(_("A scheduled run targets this group: delete or change it first."))
    audit.record(actor, "device_group.deleted", group, changes={"name": group.name})
    group.delete()


# --- Scheduled runs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleActor:
    """Who starts a scheduled run: the system, with a service manager's rights restricted to the clients the
    run's creator could see, named after the scheduled run in the audit log."""

    label: str
    scope: frozenset[int] | None = None
    role: str = Role.SERVICE_MANAGER
    pk: None = None
    email: str = ""
    is_authenticated: bool = True
    is_portal: bool = False
    is_active: bool = True

    def client_scope(self) -> frozenset[int] | None:
        return self.scope

    def __str__(self) -> str:
        return self.label


def schedule_actor(scheduled: ScheduledRun) -> ScheduleActor:
    scope = frozenset(scheduled.client_scope) if scheduled.client_scope is not None else None
    return ScheduleActor(label=f"scheduled run “{scheduled.name}”", scope=scope)


def _time_of_day(value: Any) -> tuple[int, int]:
    text = value.strftime("%H:%M") if hasattr(value, "strftime") else str(value or "")
    parts = text.split(":")
    if len(parts) < 2 or not parts[0].isdigit() or not parts[1].isdigit() \
            or not 0 <= int(parts[0]) <= 23 or not 0 <= int(parts[1]) <= 59:
        raise ValidationError(_("Give the time as HH:MM."), field="time")
    return int(parts[0]), int(parts[1])


def schedule_cron(data: dict[str, Any]) -> tuple[str, str, datetime | None]:
    """(kind, cron expression, run_at) of a schedule given as once / daily / weekly / monthly / cron."""
    kind = data.get("schedule_kind")
    if kind == ScheduleKind.ONCE:
        run_at = data.get("run_at")
        if not isinstance(run_at, datetime):
            raise ValidationError(_("Give the date and time of the run."), field="run_at")
        if timezone.is_naive(run_at):
            run_at = timezone.make_aware(run_at, ZoneInfo(organization().default_time_zone))
        if run_at <= timezone.now():
            raise ValidationError(_("Choose a date and time in the future."), field="run_at")
        return kind, "", run_at
    if kind == ScheduleKind.CRON:
        return kind, scheduler.validate_cron(str(data.get("cron") or "")), None
    if kind not in (ScheduleKind.DAILY, ScheduleKind.WEEKLY, ScheduleKind.MONTHLY):
        raise ValidationError(_("Choose once, daily, weekly, monthly or cron."), field="schedule_kind")
    hour, minute = _time_of_day(data.get("time"))
    if kind == ScheduleKind.DAILY:
        return kind, f"{minute} {hour} * * *", None
    if kind == ScheduleKind.WEEKLY:
        weekday = data.get("weekday")
        if isinstance(weekday, str) and weekday.isdigit():
            weekday = int(weekday)
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValidationError(_("Choose a day of the week."), field="weekday")
        return kind, f"{minute} {hour} * * {(weekday + 1) % 7}", None  # Monday is 0 here, 1 for cron
    day = data.get("day_of_month")
    if isinstance(day, str) and day.isdigit():
        day = int(day)
    if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 28:
        raise ValidationError(_("Choose a day of the month between 1 and 28."), field="day_of_month")
    return kind, f"{minute} {hour} {day} * *", None


def next_occurrence(scheduled: ScheduledRun, after: datetime) -> datetime | None:
    """The next time a recurring scheduled run is due after `after` (in its time zone); None for a one-off."""
    if scheduled.schedule_kind == ScheduleKind.ONCE:
        return None
    local = after.astimezone(ZoneInfo(scheduled.time_zone))
    result: datetime = croniter(scheduled.cron, local).get_next(datetime)
    return result.astimezone(UTC)


def _scheduled_what(actor: Any, data: dict[str, Any]) -> tuple[str, _What]:
    if data.get("script_id") is not None:
        if data.get("action"):
            raise ValidationError(_("Choose a script or an action, not both."), field="action")
        script = selectors.access_script_for_run(actor, data["script_id"])
        require(actor, "scripts", "view")
        what = _script_what(script, data.get("version"), data.get("parameters"))
        if what.secrets:
            raise ValidationError(_("A scheduled run cannot carry secret parameters: they are never stored."),
                                  field="parameters")
        return RunKind.SCRIPT, what
    action = actions.action_of(data.get("action"))
    return RunKind.ACTION, _What(action=action.kind, values=actions.clean_payload(action.kind, data.get("parameters")))


def _clean_scheduled(actor: Any, data: dict[str, Any], *, verb: str) -> dict[str, Any]:
    """The fields of a scheduled run from create-shaped data (what, on what, when, name), checked as the actor:
    the same rules for a new scheduled run and for a change of one. A target the actor may not see is a 404
    before the role is checked (as a missing one)."""
    target = Target(device_ids=data.get("device_ids") or None, group_id=data.get("group_id"),
                    client_id=data.get("client_id"))
    resolved = resolve_target(actor, target)
    require(actor, "jobs", verb)
    kind, what = _scheduled_what(actor, data)
    _usable(what, resolved)
    name = (data.get("name") or "").strip() if isinstance(data.get("name"), str) else ""
    if not name or len(name) > 200:
        raise ValidationError(_("Name the scheduled run (at most 200 characters)."), field="name")
    schedule_kind, cron, run_at = schedule_cron(data)
    clients = {d.client_id for d in resolved.devices}
    if resolved.group is not None:
        owner = resolved.group.client_id
    elif target.client_id is not None or len(clients) == 1:
        owner = next(iter(clients))
    else:
        owner = None
    scope = actor.client_scope()
    return {"client_id": owner, "name": name, "kind": kind, "version": what.version, "action": what.action,
            "parameters": what.values, "group": resolved.group, "device_ids": sorted(target.device_ids or []),
            "target_client_id": target.client_id, "schedule_kind": schedule_kind, "run_at": run_at, "cron": cron,
            "time_zone": organization().default_time_zone,
            "client_scope": sorted(scope) if scope is not None else None}


@transaction.atomic
def scheduled_run_create(*, actor: Any, data: dict[str, Any]) -> ScheduledRun:
    """Schedule a script version or an action on devices, a group or a client: once or recurring."""
    fields = _clean_scheduled(actor, data, verb="add")
    scheduled = ScheduledRun(**fields, enabled=bool(data.get("enabled", True)),
                             created_by=actor if getattr(actor, "pk", None) else None)
    scheduled.next_run_at = scheduled.run_at or next_occurrence(scheduled, timezone.now())
    scheduled.save()
    audit.record(actor, "scheduled_run.created", scheduled, changes={
        "name": scheduled.name, "kind": scheduled.kind, "version_id": scheduled.version_id,
        "action": scheduled.action, "parameters": scheduled.parameters, "group_id": scheduled.group_id,
        "device_ids": scheduled.device_ids, "target_client_id": scheduled.target_client_id,
        "schedule_kind": scheduled.schedule_kind, "cron": scheduled.cron,
        "next_run_at": scheduled.next_run_at.isoformat() if scheduled.next_run_at else None})
    return scheduled


SCHEDULE_FIELDS = ("run_at", "time", "weekday", "day_of_month", "cron")
TARGET_FIELDS = ("device_ids", "group_id", "client_id")


def scheduled_run_data(scheduled: ScheduledRun) -> dict[str, Any]:
    """A scheduled run in the shape scheduled_run_create takes (the edit form's initial values, and what a
    partial change is laid over); daily, weekly and monthly times are read back from their cron expression."""
    data: dict[str, Any] = {
        "name": scheduled.name, "parameters": dict(scheduled.parameters or {}),
        "device_ids": list(scheduled.device_ids or []) or None, "group_id": scheduled.group_id,
        "client_id": scheduled.target_client_id, "schedule_kind": scheduled.schedule_kind, "enabled": scheduled.enabled,
        "run_at": None, "time": None, "weekday": None, "day_of_month": None, "cron": ""}
    if scheduled.version is not None:
        data.update(script_id=scheduled.version.script_id, version=scheduled.version.number)
    else:
        data["action"] = scheduled.action
    if scheduled.schedule_kind == ScheduleKind.ONCE:
        data["run_at"] = scheduled.run_at
    elif scheduled.schedule_kind == ScheduleKind.CRON:
        data["cron"] = scheduled.cron
    else:
        minute, hour, day, _month, weekday = scheduled.cron.split(" ")
        data["time"] = f"{int(hour):02d}:{int(minute):02d}"
        if scheduled.schedule_kind == ScheduleKind.WEEKLY:
            data["weekday"] = (int(weekday) - 1) % 7  # cron's Sunday is 0, Monday is 0 here
        elif scheduled.schedule_kind == ScheduleKind.MONTHLY:
            data["day_of_month"] = int(day)
    return data


def _changed_data(current: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """`given` laid over `current`: a new script or action replaces the old one (its version and parameters),
    a new target the whole target, a `schedule_kind` given the whole schedule (its time, days, date or cron)."""
    data = dict(current)
    if given.get("script_id") is not None or given.get("action"):
        for key in ("script_id", "version", "action"):
            data.pop(key, None)
        data["parameters"] = {}
    if any(given.get(key) is not None for key in TARGET_FIELDS):
        for key in TARGET_FIELDS:
            data[key] = None
    if given.get("schedule_kind") is not None:
        for key in SCHEDULE_FIELDS:
            data[key] = None
    data.update({key: value for key, value in given.items() if value is not None or key == "version"})
    return data


@transaction.atomic
def scheduled_run_update(*, actor: Any, scheduled: ScheduledRun, data: dict[str, Any]) -> ScheduledRun:
    """Change a scheduled run: what, on what, when, name (fields left out keep their value), checked as a new
    one is; its next run is worked out again from now, and the one who changes it now bounds its clients."""
    require(actor, "jobs", "change")
    if not any(value is not None or key == "version" for key, value in data.items()):
        raise ValidationError(_("Give at least one field to change."))
    scheduled = ScheduledRun.objects.select_for_update(of=("self",)).select_related("version").get(pk=scheduled.pk)
    merged = _changed_data(scheduled_run_data(scheduled), data)
    fields = _clean_scheduled(actor, merged, verb="change")
    fields["enabled"] = bool(merged.get("enabled", scheduled.enabled))
    before = {name: getattr(scheduled, name) for name in fields}
    before_next = scheduled.next_run_at
    for name, value in fields.items():
        setattr(scheduled, name, value)
    scheduled.next_run_at = scheduled.run_at or next_occurrence(scheduled, timezone.now())
    scheduled.last_error = ""
    scheduled.save()

    def shown(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        return getattr(value, "pk", value)

    changes = {name: [shown(before[name]), shown(value)] for name, value in fields.items() if before[name] != value}
    if before_next != scheduled.next_run_at:
        changes["next_run_at"] = [shown(before_next), shown(scheduled.next_run_at)]
    audit.record(actor, "scheduled_run.updated", scheduled, changes=changes)
    return scheduled


@transaction.atomic
def scheduled_run_set_enabled(*, actor: Any, scheduled: ScheduledRun, enabled: bool) -> ScheduledRun:
    """Pause or resume a scheduled run; resuming a recurring one sets its next run from now."""
    require(actor, "jobs", "change")
    scheduled = ScheduledRun.objects.select_for_update().get(pk=scheduled.pk)
    if enabled and scheduled.schedule_kind == ScheduleKind.ONCE and (
            scheduled.run_at is None or scheduled.run_at <= timezone.now()):
        raise Conflict(_("This one-off run is past: schedule a new one."))
    before = [scheduled.enabled, scheduled.next_run_at]
    scheduled.enabled = enabled
    if enabled:
        scheduled.next_run_at = scheduled.run_at or next_occurrence(scheduled, timezone.now())
    scheduled.save(update_fields=["enabled", "next_run_at", "updated_at"])
    audit.record(actor, "scheduled_run.updated", scheduled, changes={"enabled": [before[0], enabled]})
    return scheduled


@transaction.atomic
def scheduled_run_delete(*, actor: Any, scheduled: ScheduledRun) -> None:
    """Remove a scheduled run (the runs it started stay)."""
    require(actor, "jobs", "delete")
    audit.record(actor, "scheduled_run.deleted", scheduled, changes={"name": scheduled.name})
    scheduled.delete()


def _start_scheduled(scheduled: ScheduledRun) -> list[Run]:
    actor = schedule_actor(scheduled)
    target = Target(device_ids=scheduled.device_ids or None, group_id=scheduled.group_id,
                    client_id=scheduled.target_client_id)
    resolved = resolve_target(actor, target)
    if scheduled.version is not None:
        if scheduled.version.status != VersionStatus.SIGNED:
            raise Conflict(_("Version %(n)d is no longer signed: it does not run again.")
                           % {"n": scheduled.version.number})
        values, secrets = params.clean_values(scheduled.version.parameters, scheduled.parameters)
        what = _What(version=scheduled.version, values=values, secrets=secrets)
    else:
        what = _What(action=scheduled.action, values=actions.clean_payload(scheduled.action, scheduled.parameters))
    return _start(actor, what, resolved, scheduled=scheduled)


def run_due_schedules(now: datetime | None = None) -> int:
    """Start the scheduled runs that are due, each occurrence once even with several workers (the next run
    time is moved by a conditional update before anything is queued, in the same transaction)."""
    now = now or timezone.now()
    due = list(ScheduledRun.objects.filter(enabled=True, next_run_at__lte=now)
               .order_by("next_run_at", "pk").values_list("pk", "next_run_at")[:200])
    started = 0
    for pk, at in due:
        with transaction.atomic():
            scheduled = ScheduledRun.objects.select_related("version", "version__script", "group").get(pk=pk)
            following = next_occurrence(scheduled, max(now, at))
            claimed = ScheduledRun.objects.filter(pk=pk, enabled=True, next_run_at=at).update(
                next_run_at=following, enabled=following is not None, last_run_at=now, updated_at=now)
            if not claimed:
                continue  # another worker started this occurrence
            error = ""
            try:
                with transaction.atomic():
                    _start_scheduled(scheduled)
                started += 1
            except TenfoldError as exc:
                error = str(exc.message or exc.default_message)[:500]
                logger.warning("scheduled run %s did not start: %s", pk, error)
            ScheduledRun.objects.filter(pk=pk).update(last_error=error)
    return started
