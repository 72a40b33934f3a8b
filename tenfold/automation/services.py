"""Writes of automation: signing keys, scripts and their versions, signatures, and script runs.

The server never holds a private key: it stores public keys, verifies every signature it is given
before storing it, and hands agents the version's document, body and signatures so that they verify
everything themselves (a server that lies is caught by the agent, not by these checks).
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from tenfold.agents import services as agent_services
from tenfold.assets.models import Device, DeviceState
from tenfold.automation import parameters as params
from tenfold.automation import signing, trust
from tenfold.automation.models import (
    OS_FAMILIES,
    KeyStatus,
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
from tenfold.core import audit, events
from tenfold.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from tenfold.core.roles import Role, has_privilege, require
from tenfold.core.tenancy import get_visible

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


# --- Running -----------------------------------------------------------------------------------


def _target_devices(actor: Any, device_ids: list[int] | None, client_id: int | None) -> list[Device]:
    if bool(device_ids) == (client_id is not None):
        raise ValidationError(_("Name either devices or one client."), field="device_ids")
    if client_id is not None:
        client = get_visible(Client.objects.all(), actor, client_id)
        devices = list(Device.objects.visible_to(actor).filter(client=client, managed=True)
                       .exclude(state=DeviceState.RETIRED).order_by("pk"))
        if not devices:
            raise ValidationError(_("This client has no managed device."), field="client_id")
        return devices
    assert device_ids is not None
    if len(device_ids) > MAX_DEVICES_PER_RUN:
        raise ValidationError(_("At most %(n)d devices per run.") % {"n": MAX_DEVICES_PER_RUN}, field="device_ids")
    wanted = sorted(set(device_ids))
    found = {d.pk: d for d in Device.objects.visible_to(actor).filter(pk__in=wanted)}
    if len(found) != len(wanted):
        raise NotFound()  # another client's device and a missing one answer alike, and nothing is queued
    return [found[pk] for pk in wanted]


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


@transaction.atomic
def script_run(*, actor: Any, script: Script, device_ids: list[int] | None = None, client_id: int | None = None,
               parameters: dict[str, Any] | None = None, version_number: int | None = None) -> list[ScriptRun]:
    """Queue a signed version of a script on devices (or every managed device of a client): one job per
    device, created through the agents' job service. Devices the actor may not see are a 404 and nothing is
    queued; parameter values are checked against the version's schema first."""
    devices = _target_devices(actor, device_ids, client_id)
    require(actor, "jobs", "add")
    require(actor, "scripts", "view")
    if version_number is None:
        version = script.versions.filter(status=VersionStatus.SIGNED).order_by("-number").first()
        if version is None:
            raise Conflict(_("This script has no signed version: an approver must sign it with tenfold sign."))
    else:
        version = script.versions.filter(number=version_number).first()
        if version is None:
            raise ValidationError(_("This script has no version %(n)d.") % {"n": version_number}, field="version")
        if version.status != VersionStatus.SIGNED:
            raise Conflict(_("Version %(n)d is not signed (%(status)s): only signed versions run.")
                           % {"n": version.number, "status": version.get_status_display()})
    values, secrets = params.clean_values(version.parameters, parameters)
    errors: dict[str, list[str]] = {}
    for device in devices:
        if not device.managed or device.state == DeviceState.RETIRED:
            errors.setdefault("device_ids", []).append(
                _("%(device)s is not a managed device.") % {"device": device.name})
        elif device.os_family not in version.os_families:
            errors.setdefault("device_ids", []).append(
                _("%(device)s runs %(os)s; this script runs on %(families)s.")
                % {"device": device.name, "os": device.os_family or _("an unknown system"),
                   "families": ", ".join(version.os_families)})
    if errors:
        raise ValidationError(errors["device_ids"][0], errors=errors)
    payload = run_payload(version, values, secrets)
    shown = {**values, **{name: params.SECRET_MARK for name in secrets}}
    runs = []
    for device in devices:
        job = agent_services.job_create(actor=actor, device=device, kind=JOB_KIND, payload=payload)
        runs.append(ScriptRun.objects.create(client_id=device.client_id, device=device, job=job, version=version,
                                             parameters=shown,
                                             created_by=actor if getattr(actor, "pk", None) else None))
    audit.record(actor, "script.run", script, changes={
        "version": version.number, "devices": [d.pk for d in devices], "parameters": shown,
        "jobs": [r.job_id for r in runs]})
    return runs


def is_owner_or_admin(actor: Any) -> bool:
    """Owners and administrators manage signing keys."""
    return getattr(actor, "role", None) in (Role.OWNER, Role.ADMIN)
