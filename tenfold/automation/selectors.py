"""Reads of automation. Scripts, versions and keys are MSP-level (the `scripts` capability decides; the
keys' management page is for owners and administrators); script runs follow their client's scope."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from tenfold.agents.models import Job
from tenfold.automation.models import (
    KeyStatus,
    Script,
    ScriptRun,
    ScriptVersion,
    Signature,
    SigningKey,
    VersionStatus,
)
from tenfold.core.errors import NotFound
from tenfold.core.roles import require
from tenfold.core.tenancy import get_visible


def scripts_visible(actor: Any) -> QuerySet[Script]:
    """The script library (403 without the scripts capability)."""
    require(actor, "scripts", "view")
    return Script.objects.visible_to(actor)


def script_list(actor: Any) -> QuerySet[Script]:
    """Scripts with their number of versions and of signed versions, for list screens."""
    return scripts_visible(actor).annotate(
        version_count=Count("versions", distinct=True),
        signed_count=Count("versions", filter=Q(versions__status=VersionStatus.SIGNED), distinct=True))


def access_script(actor: Any, script_id: Any) -> Script:
    """One script, or NotFound; 403 without the scripts capability."""
    script = _get_msp(Script.objects.all(), actor, script_id)
    require(actor, "scripts", "view")
    return script


def _get_msp(queryset: QuerySet[Any], actor: Any, pk: Any) -> Any:
    try:
        pk_value = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    if pk_value <= 0 or pk_value > 2**63 - 1:
        raise NotFound()
    obj = queryset.visible_to(actor).filter(pk=pk_value).first()  # type: ignore[attr-defined]
    if obj is None:
        raise NotFound()
    return obj


def script_versions(script: Script) -> list[ScriptVersion]:
    """A script's versions, newest first, with their signatures and keys."""
    return list(script.versions.order_by("-number").prefetch_related(
        Prefetch("signatures", queryset=Signature.objects.select_related("key", "signed_by"))))


def latest_version(script: Script) -> ScriptVersion | None:
    """The newest version, whatever its status."""
    return script.versions.order_by("-number").first()


def latest_signed_version(script: Script) -> ScriptVersion | None:
    """The newest signed version: what a run uses when it names none."""
    return script.versions.filter(status=VersionStatus.SIGNED).order_by("-number").first()


def access_version(actor: Any, version_id: Any) -> ScriptVersion:
    """One version (by its id), or NotFound."""
    version = _get_msp(ScriptVersion.objects.select_related("script"), actor, version_id)
    require(actor, "scripts", "view")
    return version


def versions_awaiting_signature(actor: Any) -> QuerySet[ScriptVersion]:
    """Versions waiting for an approver's signature, oldest first."""
    require(actor, "scripts", "view")
    return (ScriptVersion.objects.visible_to(actor).filter(status=VersionStatus.AWAITING_SIGNATURE)
            .select_related("script").order_by("created_at", "pk"))


def keys_visible(actor: Any) -> QuerySet[SigningKey]:
    """Every signing key, active and revoked (public keys only: there is nothing secret here)."""
    require(actor, "scripts", "view")
    return SigningKey.objects.visible_to(actor).select_related("owner", "countersigned_by", "revoked_by_key")


def access_key(actor: Any, key_id: Any) -> SigningKey:
    """One signing key by its database id, or NotFound."""
    key = _get_msp(SigningKey.objects.select_related("owner"), actor, key_id)
    require(actor, "scripts", "view")
    return key


def active_keys() -> QuerySet[SigningKey]:
    """The keys agents trust now."""
    return SigningKey.objects.filter(status=KeyStatus.ACTIVE)


def runs_visible(actor: Any) -> QuerySet[ScriptRun]:
    """Script runs on devices of clients the actor sees, with their job, device and version."""
    require(actor, "jobs", "view")
    return (ScriptRun.objects.visible_to(actor)
            .select_related("job", "device", "client", "version", "version__script", "created_by"))


def access_run(actor: Any, run_id: Any) -> ScriptRun:
    """One script run, or NotFound (another client's run answers like a missing one)."""
    run = get_visible(ScriptRun.objects.select_related("job", "device", "client", "version", "version__script"),
                      actor, run_id)
    require(actor, "jobs", "view")
    return run


def job_of(run: ScriptRun) -> Job:
    """The job carrying a run (status, exit code, output: secrets already redacted when stored)."""
    return run.job


def access_script_for_run(actor: Any, script_id: Any) -> Script:
    """A script to run, fetched without the role check: the devices are resolved first (another client's
    device is a 404 whatever the role), then the run checks the `jobs` right."""
    script: Script = _get_msp(Script.objects.all(), actor, script_id)
    return script
