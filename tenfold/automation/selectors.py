"""Reads of automation. Scripts, versions and keys are MSP-level (the `scripts` capability decides; the
keys' management page is for owners and administrators); script runs follow their client's scope."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from tenfold.agents.models import Job, JobStatus
from tenfold.assets.models import Device, DeviceState, SoftwareItem, online_cutoff
from tenfold.automation.models import (
    DeviceGroup,
    GroupKind,
    KeyStatus,
    Run,
    ScheduledRun,
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


def runs_visible(actor: Any) -> QuerySet[Run]:
    """Runs on devices of clients the actor sees (one row per run), with their version and client."""
    require(actor, "jobs", "view")
    return (Run.objects.visible_to(actor)
            .select_related("client", "version", "version__script", "group", "created_by")
            .annotate(device_count=Count("items", distinct=True),
                      succeeded_count=Count("items", filter=Q(items__job__status=JobStatus.SUCCEEDED), distinct=True),
                      failed_count=Count("items", filter=Q(items__job__status__in=[
                          JobStatus.FAILED, JobStatus.TIMED_OUT]), distinct=True),
                      open_count=Count("items", filter=Q(items__job__status__in=[
                          JobStatus.QUEUED, JobStatus.SENT, JobStatus.RUNNING]), distinct=True)))


def access_run(actor: Any, run_id: Any) -> Run:
    """One run, or NotFound (another client's run answers like a missing one)."""
    run = get_visible(Run.objects.select_related("client", "version", "version__script", "group", "scheduled_run",
                                                 "retry_of"), actor, run_id)
    require(actor, "jobs", "view")
    return run


def run_items(run: Run) -> QuerySet[ScriptRun]:
    """A run's devices with their jobs: status, exit code, output (secrets redacted when stored), duration."""
    return run.items.select_related("device", "job", "cancel_job").order_by("device__name", "pk")


def items_visible(actor: Any) -> QuerySet[ScriptRun]:
    """Every device's part of the runs the actor sees, with its job, device and version."""
    require(actor, "jobs", "view")
    return (ScriptRun.objects.visible_to(actor)
            .select_related("job", "device", "client", "version", "version__script", "created_by"))


def access_run_item(actor: Any, item_id: Any) -> ScriptRun:
    """One device's part of a run, or NotFound."""
    item = get_visible(ScriptRun.objects.select_related("job", "device", "client", "version", "version__script",
                                                        "run", "cancel_job"), actor, item_id)
    require(actor, "jobs", "view")
    return item


def job_of(run: ScriptRun) -> Job:
    """The job carrying a device's run (status, exit code, output: secrets already redacted when stored)."""
    return run.job


# --- Device groups and scheduled runs ---------------------------------------------------------------


def groups_visible(actor: Any) -> QuerySet[DeviceGroup]:
    """The MSP's groups and those of the clients the actor sees (403 without the jobs capability)."""
    require(actor, "jobs", "view")
    return DeviceGroup.objects.visible_to(actor).select_related("client")


def access_group(actor: Any, group_id: Any) -> DeviceGroup:
    """One device group, or NotFound."""
    group = get_visible(DeviceGroup.objects.select_related("client"), actor, group_id)
    require(actor, "jobs", "view")
    return group


def group_members(actor: Any, group: DeviceGroup) -> QuerySet[Device]:
    """The group's devices now (not retired) that the actor may see: the chosen ones, or those matching its
    filters. An MSP group spanning clients shows a restricted user only the devices of their clients."""
    queryset = Device.objects.visible_to(actor).exclude(state=DeviceState.RETIRED).select_related("client", "site")
    if group.client_id is not None:
        queryset = queryset.filter(client_id=group.client_id)
    if group.kind == GroupKind.STATIC:
        return queryset.filter(pk__in=group.devices.values("pk"))
    filters = group.filters or {}
    if filters.get("os_family"):
        queryset = queryset.filter(os_family=filters["os_family"])
    if filters.get("client_id"):
        queryset = queryset.filter(client_id=filters["client_id"])
    if filters.get("site_id"):
        queryset = queryset.filter(site_id=filters["site_id"])
    if filters.get("tag_id"):
        queryset = queryset.filter(pk__in=Device.tags.through.objects.filter(tag_id=filters["tag_id"])
                                   .values("device_id"))
    if filters.get("software"):
        queryset = queryset.filter(pk__in=SoftwareItem.objects.filter(name__icontains=filters["software"])
                                   .values("device_id"))
    if filters.get("device_kind"):
        queryset = queryset.filter(kind=filters["device_kind"])
    if filters.get("online") == "online":
        queryset = queryset.filter(last_seen_at__gte=online_cutoff())
    elif filters.get("online") == "offline":
        queryset = queryset.filter(Q(last_seen_at__lt=online_cutoff()) | Q(last_seen_at__isnull=True))
    return queryset


def scheduled_runs_visible(actor: Any) -> QuerySet[ScheduledRun]:
    """Scheduled runs of the MSP and of the clients the actor sees."""
    require(actor, "jobs", "view")
    return ScheduledRun.objects.visible_to(actor).select_related("client", "version", "version__script", "group",
                                                                 "target_client")


def access_scheduled_run(actor: Any, scheduled_id: Any) -> ScheduledRun:
    """One scheduled run, or NotFound."""
    scheduled = get_visible(ScheduledRun.objects.select_related("client", "version", "version__script", "group",
                                                                "target_client"), actor, scheduled_id)
    require(actor, "jobs", "view")
    return scheduled


def access_script_for_run(actor: Any, script_id: Any) -> Script:
    """A script to run, fetched without the role check: the devices are resolved first (another client's
    device is a 404 whatever the role), then the run checks the `jobs` right."""
    script: Script = _get_msp(Script.objects.all(), actor, script_id)
    return script
