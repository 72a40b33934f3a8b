"""Agent releases: reads and writes of uploaded `tenfold-agent` wheels, their signatures, publication and
roll-out as `agent_update` jobs.

A release is signed like a script version: approvers sign its canonical document (the wheel's name,
SHA-256 and size, `signing.release_document`) with `tenfold sign`; the server verifies each signature before
storing it. The agent trusts none of the server's words: it verifies the signatures with its own trust store
and checks the downloaded file against the hash and size *inside the signed document*.
"""

from __future__ import annotations

import io
import re
import secrets
import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tenfold.agents import services as agent_services
from tenfold.agents.models import OPEN_JOB_STATUSES, Agent, Job
from tenfold.assets.models import Device, DeviceState
from tenfold.automation import signing
from tenfold.automation.models import (
    AgentRelease,
    AgentReleaseSignature,
    KeyStatus,
    ReleaseStatus,
    SigningKey,
)
from tenfold.automation.selectors import _get_msp
from tenfold.automation.services import MAX_DEVICES_PER_RUN, require_library_write
from tenfold.clients.models import Client
from tenfold.core import audit, events
from tenfold.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from tenfold.core.roles import has_privilege, require
from tenfold.core.tenancy import get_visible

JOB_KIND = "agent_update"
MAX_RELEASE_BYTES = 50 * 1024 * 1024
MAX_METADATA_BYTES = 1024 * 1024
PACKAGE = signing.RELEASE_PACKAGE
MODULE_INIT = "tenfold_agent/__init__.py"


def file_url(release: AgentRelease) -> str:
    """Where an agent downloads a published release's wheel (with its own credential)."""
    return f"/agent/v1/releases/{release.pk}/file"


# --- Reads -------------------------------------------------------------------------------------


def releases_visible(actor: Any) -> QuerySet[AgentRelease]:
    """Every agent release (403 without the scripts capability): staff of the MSP only."""
    require(actor, "scripts", "view")
    if getattr(actor, "is_portal", False):
        raise PermissionDenied()
    return AgentRelease.objects.visible_to(actor).select_related("created_by")


def access_release(actor: Any, release_id: Any) -> AgentRelease:
    """One release, or NotFound; 403 without the scripts capability."""
    release: AgentRelease = _get_msp(AgentRelease.objects.select_related("created_by"), actor, release_id)
    require(actor, "scripts", "view")
    if getattr(actor, "is_portal", False):
        raise PermissionDenied()
    return release


def access_release_for_rollout(actor: Any, release_id: Any) -> AgentRelease:
    """A release to roll out, fetched without the role check: the devices are resolved first (another client's
    device is a 404 whatever the role), then the roll-out checks the `jobs` right."""
    release: AgentRelease = _get_msp(AgentRelease.objects.all(), actor, release_id)
    return release


def releases_awaiting_signature(actor: Any) -> QuerySet[AgentRelease]:
    """Releases not yet published that no active key has signed (what `tenfold sign pending` lists): new ones,
    and signed ones whose every key was revoked since; oldest first."""
    return (releases_visible(actor).filter(status__in=[ReleaseStatus.DRAFT, ReleaseStatus.SIGNED])
            .exclude(signatures__key__status=KeyStatus.ACTIVE).order_by("created_at", "pk"))


def release_signatures(release: AgentRelease) -> list[AgentReleaseSignature]:
    """A release's signatures with their keys and signers, oldest first."""
    return list(release.signatures.select_related("key", "signed_by").order_by("signed_at", "pk"))


def active_signatures(release: AgentRelease) -> list[dict[str, str]]:
    """The signatures an agent may accept: those by keys that are still active."""
    return [{"key_id": s.key.key_id, "signature": s.signature}
            for s in release.signatures.select_related("key").filter(key__status=KeyStatus.ACTIVE)
            .order_by("signed_at", "pk")]


def release_list(actor: Any) -> QuerySet[AgentRelease]:
    """Releases for list screens, with their signatures' keys."""
    return releases_visible(actor).prefetch_related(
        Prefetch("signatures", queryset=AgentReleaseSignature.objects.select_related("key")))


def rollout_jobs(actor: Any, release: AgentRelease) -> QuerySet[Job]:
    """The `agent_update` jobs of this release on devices the actor sees, newest first."""
    require(actor, "jobs", "view")
    return (Job.objects.visible_to(actor).filter(kind=JOB_KIND, payload__url=file_url(release))
            .select_related("device", "client").order_by("-created_at", "-pk"))


def published_release_for_agent(release_id: Any) -> AgentRelease:
    """A published release by id for an authenticated agent; NotFound for any other (draft, withdrawn, none)."""
    try:
        pk = int(release_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    release = AgentRelease.objects.filter(pk=pk, status=ReleaseStatus.PUBLISHED).first() \
        if 0 < pk <= 2**63 - 1 else None
    if release is None:
        raise NotFound()
    return release


# --- The wheel ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wheel:
    """An accepted wheel: its clean file name, bytes, SHA-256 and version."""

    file_name: str
    data: bytes
    sha256: str
    version: str


def _canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def inspect_wheel(file_name: str, data: bytes, version: str) -> Wheel:
    """The wheel if it is a `tenfold-agent` wheel of `version`; ValidationError saying what is wrong."""
    name = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if len(data) > MAX_RELEASE_BYTES:
        raise ValidationError(_("The file is %(size)s MB: a release is at most %(limit)d MB.")
                              % {"size": f"{len(data) / 1048576:.1f}", "limit": MAX_RELEASE_BYTES // 1048576},
                              field="file")
    if not data:
        raise ValidationError(_("The file is empty."), field="file")
    if not name.endswith(".whl") or len(name) > 200:
        raise ValidationError(_("Upload the agent's wheel (a .whl file built from the tenfold-agent package)."),
                              field="file")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise ValidationError(_("This file is not a wheel: it is not a ZIP archive."), field="file") from None
    with archive:
        metadata = [i for i in archive.infolist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", i.filename)]
        if len(metadata) != 1:
            raise ValidationError(_("This file is not a wheel: it has no single *.dist-info/METADATA."), field="file")
        if metadata[0].file_size > MAX_METADATA_BYTES:
            raise ValidationError(_("The wheel's METADATA is larger than 1 MB."), field="file")
        try:
            headers = HeaderParser().parsestr(archive.read(metadata[0]).decode("utf-8"))
            init = archive.getinfo(MODULE_INIT)
            init_text = archive.read(init).decode("utf-8") if init.file_size <= MAX_METADATA_BYTES else ""
        except KeyError:
            raise ValidationError(_("The wheel has no %(path)s: it is not the agent.") % {"path": MODULE_INIT},
                                  field="file") from None
        except (zipfile.BadZipFile, UnicodeDecodeError, RuntimeError, OSError, ValueError) as exc:
            raise ValidationError(_("The wheel cannot be read: %(reason)s.") % {"reason": str(exc)[:200]},
                                  field="file") from None
    package = str(headers.get("Name") or "")
    if _canonical_name(package) != PACKAGE:
        raise ValidationError(_("This wheel is the package “%(name)s”, not tenfold-agent.") % {"name": package[:100]},
                              field="file")
    found = str(headers.get("Version") or "")
    if found != version:
        raise ValidationError(_("The wheel is version %(found)s, not %(version)s.")
                              % {"found": found[:50], "version": version}, field="file")
    declared = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", init_text, re.MULTILINE)
    if declared is None or declared.group(1) != version:
        raise ValidationError(_("The wheel's tenfold_agent.__version__ is %(found)s, not %(version)s: the agent "
                                "would report the old version and be updated again.")
                              % {"found": declared.group(1)[:50] if declared else "?", "version": version},
                              field="file")
    if not name.startswith(f"tenfold_agent-{version}-"):
        raise ValidationError(_("The file name must be the wheel's own (tenfold_agent-%(version)s-….whl).")
                              % {"version": version}, field="file")
    return Wheel(name, data, signing.sha256_hex(data), version)


def _clean_version(version: str) -> str:
    version = (version or "").strip()
    try:
        signing.release_version_key(version)
    except signing.SigningError:
        raise ValidationError(_("The version must be a release version such as 1.2.0, 1.3.0rc1 or 2.0.post1."),
                              field="version") from None
    return version


# --- Writes ------------------------------------------------------------------------------------


def require_release_publish(actor: Any) -> None:
    """Publishing decides what runs on every device: the approvers' roles (scripts.sign), not restricted."""
    require_library_write(actor, "change")
    if not has_privilege(actor, "scripts.sign"):
        raise PermissionDenied(_("Your role may not publish or withdraw agent releases (owners, administrators and "
                                 "service managers do)."))


@transaction.atomic
def release_upload(*, actor: Any, version: str, file_name: str, data: bytes, notes: str = "") -> AgentRelease:
    """Store a new release from an uploaded wheel; it awaits an approver's signature."""
    require_library_write(actor, "add")
    version = _clean_version(version)
    notes = (notes or "").strip()
    if len(notes) > 5000 or "\x00" in notes:
        raise ValidationError(_("The release notes are at most 5000 characters."), field="notes")
    wheel = inspect_wheel(file_name, data, version)
    key = signing.release_version_key(version)
    for existing in AgentRelease.objects.values_list("version", flat=True):
        if signing.release_version_key(existing) == key:
            raise ValidationError(_("A release of this version already exists (%(version)s).")
                                  % {"version": existing}, field="version")
    document = signing.release_document(version=version, file_name=wheel.file_name, sha256=wheel.sha256,
                                        size=len(wheel.data))
    release = AgentRelease(version=version, file_name=wheel.file_name, sha256=wheel.sha256, size=len(wheel.data),
                           notes=notes, document=document.decode("utf-8"),
                           document_sha256=signing.sha256_hex(document),
                           created_by=actor if getattr(actor, "pk", None) else None)
    # A name of our own in storage (the wheel's name, with its dots, is kept in `file_name`).
    release.file.save(f"tenfold-agent-{secrets.token_hex(8)}.whl", ContentFile(wheel.data), save=False)
    stored = release.file.name
    try:
        with transaction.atomic():
            release.save(force_insert=True)
    except IntegrityError:
        release.file.storage.delete(stored)
        raise ValidationError(_("A release of this version already exists (%(version)s).") % {"version": version},
                              field="version") from None
    audit.record(actor, "agent_release.uploaded", release, changes={
        "version": version, "file_name": wheel.file_name, "sha256": wheel.sha256, "size": len(wheel.data)})
    events.emit("agent_release.uploaded", payload={"release_id": release.pk, "version": version})
    return release


@transaction.atomic
def release_signature_upload(*, actor: Any, release: AgentRelease, key_id: str,
                             signature: str) -> AgentReleaseSignature:
    """Store an approver's signature of a release's document, after verifying it with their own public key."""
    if not has_privilege(actor, "scripts.sign"):
        raise PermissionDenied(_("Your role may not sign agent releases."))
    release = AgentRelease.objects.select_for_update().get(pk=release.pk)
    if release.status == ReleaseStatus.WITHDRAWN:
        raise Conflict(_("This release is withdrawn: it cannot be signed."))
    key = SigningKey.objects.filter(key_id=(key_id or "").strip()).first()
    if key is None or key.status != KeyStatus.ACTIVE:
        raise ValidationError(_("The key %(key)s is not an active signing key.") % {"key": key_id}, field="key_id")
    if key.owner_id != actor.pk:
        raise PermissionDenied(_("The key %(key)s is not yours: sign with your own key.") % {"key": key.key_id})
    try:
        signing.verify(key.public_key, release.document.encode("utf-8"), signature)
    except signing.SigningError as exc:
        raise ValidationError(_("The signature does not verify with key %(key)s against release %(version)s: "
                                "%(reason)s. Review it again with tenfold sign release-review.")
                              % {"key": key.key_id, "version": release.version, "reason": exc},
                              field="signature") from exc
    row = AgentReleaseSignature(release=release, key=key, signature=signature.strip(), signed_at=timezone.now(),
                                signed_by=actor)
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        raise Conflict(_("This key already signed this release.")) from None
    previous = release.status
    if release.status == ReleaseStatus.DRAFT:
        release.status = ReleaseStatus.SIGNED
        release.save(update_fields=["status", "updated_at"])
    audit.record(actor, "agent_release.signed", release, changes={
        "key_id": key.key_id, "version": release.version, "document_sha256": release.document_sha256,
        "status": [previous, release.status]})
    events.emit("agent_release.signed", payload={"release_id": release.pk, "version": release.version})
    return row


@transaction.atomic
def release_publish(*, actor: Any, release: AgentRelease) -> AgentRelease:
    """Make a signed release available to agents (download and roll-out)."""
    require_release_publish(actor)
    release = AgentRelease.objects.select_for_update().get(pk=release.pk)
    if release.status == ReleaseStatus.PUBLISHED:
        raise Conflict(_("This release is already published."))
    if release.status == ReleaseStatus.WITHDRAWN:
        raise Conflict(_("This release was withdrawn: upload a new version instead."))
    if release.status != ReleaseStatus.SIGNED or not active_signatures(release):
        raise Conflict(_("This release has no signature by an active key: an approver must sign it with "
                         "tenfold sign first."))
    previous = release.status
    release.status, release.published_at = ReleaseStatus.PUBLISHED, timezone.now()
    release.save(update_fields=["status", "published_at", "updated_at"])
    audit.record(actor, "agent_release.published", release, changes={"status": [previous, release.status],
                                                                      "version": release.version})
    events.emit("agent_release.published", payload={"release_id": release.pk, "version": release.version})
    return release


@transaction.atomic
def release_withdraw(*, actor: Any, release: AgentRelease) -> AgentRelease:
    """Withdraw a release: its file is no longer served, so agents that have not fetched it yet fail the update."""
    require_release_publish(actor)
    release = AgentRelease.objects.select_for_update().get(pk=release.pk)
    if release.status == ReleaseStatus.WITHDRAWN:
        raise Conflict(_("This release is already withdrawn."))
    previous = release.status
    release.status, release.withdrawn_at = ReleaseStatus.WITHDRAWN, timezone.now()
    release.save(update_fields=["status", "withdrawn_at", "updated_at"])
    audit.record(actor, "agent_release.withdrawn", release, changes={"status": [previous, release.status],
                                                                     "version": release.version})
    events.emit("agent_release.withdrawn", payload={"release_id": release.pk, "version": release.version})
    return release


def release_payload(release: AgentRelease) -> dict[str, Any]:
    """What the agent receives: the signed document as signed, the signatures by active keys, where to fetch."""
    return {"version": release.version, "document": release.document, "signatures": active_signatures(release),
            "url": file_url(release), "sha256": release.sha256, "size": release.size}


def _agent_versions(devices: list[Device]) -> dict[int, str]:
    return dict(Agent.objects.filter(device__in=devices).values_list("device_id", "agent_version"))


def _older(version: str, than: tuple[Any, ...]) -> bool:
    try:
        return signing.release_version_key(version) < than
    except signing.SigningError:
        return False


def _rollout_targets(actor: Any, device_ids: list[int] | None, client_id: int | None) -> tuple[list[Device], bool]:
    if bool(device_ids) == (client_id is not None):
        raise ValidationError(_("Name either devices or one client."), field="device_ids")
    if client_id is not None:
        client = get_visible(Client.objects.all(), actor, client_id)
        return list(Device.objects.visible_to(actor).filter(client=client, managed=True)
                    .exclude(state=DeviceState.RETIRED).order_by("pk")), True
    assert device_ids is not None
    if len(device_ids) > MAX_DEVICES_PER_RUN:
        raise ValidationError(_("At most %(n)d devices per roll-out.") % {"n": MAX_DEVICES_PER_RUN},
                              field="device_ids")
    wanted = sorted(set(device_ids))
    found = {d.pk: d for d in Device.objects.visible_to(actor).filter(pk__in=wanted)}
    if len(found) != len(wanted):
        raise NotFound()  # another client's device and a missing one answer alike, and nothing is queued
    return [found[pk] for pk in wanted], False


@transaction.atomic
def release_rollout(*, actor: Any, release: AgentRelease, device_ids: list[int] | None = None,
                    client_id: int | None = None) -> list[Job]:
    """Queue the update on devices, or on every managed device of a client whose agent is older: one
    `agent_update` job per device through the agents' job service. A device the actor may not see is a 404
    and nothing is queued; a named device whose agent is not older, or has no agent, is an error."""
    devices, whole_client = _rollout_targets(actor, device_ids, client_id)
    require(actor, "jobs", "add")
    require(actor, "scripts", "view")
    release = AgentRelease.objects.select_for_update().get(pk=release.pk)
    if release.status != ReleaseStatus.PUBLISHED:
        raise Conflict(_("Only a published release can be rolled out (this one is %(status)s).")
                       % {"status": release.get_status_display()})
    payload = release_payload(release)
    if not payload["signatures"]:
        raise Conflict(_("No signature of this release is by an active key any more: an approver must sign it "
                         "again."))
    target = signing.release_version_key(release.version)
    versions = _agent_versions(devices)
    pending = set(Job.objects.filter(device__in=devices, kind=JOB_KIND, status__in=OPEN_JOB_STATUSES,
                                     payload__url=file_url(release)).values_list("device_id", flat=True))
    chosen: list[Device] = []
    errors: list[str] = []
    for device in devices:
        current = versions.get(device.pk)
        if device.pk in pending:
            if not whole_client:
                errors.append(_("%(device)s already has this update queued.") % {"device": device.name})
        elif not device.managed or device.state == DeviceState.RETIRED or current is None:
            if not whole_client:
                errors.append(_("%(device)s has no agent.") % {"device": device.name})
        elif not _older(current, target):
            if not whole_client:
                errors.append(_("%(device)s already runs agent %(current)s.")
                              % {"device": device.name, "current": current or "?"})
        else:
            chosen.append(device)
    if errors:
        raise ValidationError(errors[0], errors={"device_ids": errors})
    if not chosen:
        raise ValidationError(_("No device of this client runs an agent older than %(version)s.")
                              % {"version": release.version}, field="client_id")
    jobs = [agent_services.job_create(actor=actor, device=device, kind=JOB_KIND, payload=payload)
            for device in chosen]
    audit.record(actor, "agent_release.rolled_out", release, changes={
        "version": release.version, "devices": [d.pk for d in chosen], "jobs": [j.pk for j in jobs]})
    return jobs
