"""Reads of devices and their inventory, always scoped to what the actor may see."""

from __future__ import annotations

from typing import Any

from django.db.models import BooleanField, Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from tenfold.assets.models import (
    CheckResult,
    Device,
    DeviceState,
    DeviceStateChange,
    DiscoveredDevice,
    Licence,
    SoftwareChange,
    SoftwareItem,
    Tag,
    online_cutoff,
)
from tenfold.core.errors import NotFound
from tenfold.core.roles import require
from tenfold.core.tenancy import get_visible


def with_online(queryset: QuerySet[Device]) -> QuerySet[Device]:
    """Annotate `is_online` (checked in within three intervals), computed by the database.

    A CASE, not a bare comparison: a device never seen (NULL) is offline, not unknown."""
    return queryset.annotate(is_online=Case(When(last_seen_at__gte=online_cutoff(), then=Value(True)),
                                            default=Value(False), output_field=BooleanField()))


def devices_visible(actor: Any) -> QuerySet[Device]:
    """Devices the actor may see, with their client and site, and whether each is online."""
    require(actor, "devices", "view")
    return with_online(Device.objects.visible_to(actor).select_related("client", "site").prefetch_related("tags"))


def access_device(actor: Any, device_id: Any) -> Device:
    """One device (with its tags), or NotFound (missing and not-yours answer alike); 403 if the role may
    not see devices."""
    device = get_visible(with_online(Device.objects.select_related("client", "site").prefetch_related("tags")),
                         actor, device_id)
    require(actor, "devices", "view")
    return device


# --- Tags ------------------------------------------------------------------------------------


def _require_staff_devices(actor: Any) -> None:
    # Tags are the MSP's own labels: staff see all of them, portal users none (not even their devices').
    require(actor, "devices", "view")
    if getattr(actor, "is_portal", True):
        require(None, "devices", "view")


def tags_visible(actor: Any) -> QuerySet[Tag]:
    """Every tag of the MSP with `device_count`, the devices carrying it that the actor may see."""
    _require_staff_devices(actor)
    visible = Device.objects.visible_to(actor).filter(tags=OuterRef("pk")).order_by().values("tags")
    count = visible.annotate(n=Count("pk")).values("n")
    return Tag.objects.annotate(device_count=Coalesce(Subquery(count, output_field=IntegerField()), Value(0)))


def access_tag(actor: Any, tag_id: Any) -> Tag:
    """One tag (MSP-level: staff only), or NotFound."""
    _require_staff_devices(actor)
    try:
        pk = int(tag_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    tag = tags_visible(actor).filter(pk=pk).first() if 0 < pk <= 2**63 - 1 else None
    if tag is None:
        raise NotFound()
    return tag


def tag_choices() -> list[tuple[str, str]]:
    """(id, name) of every tag, by name: the choices of the device list's tag filter and of tag forms."""
    return [(str(pk), name) for pk, name in Tag.objects.order_by("name", "pk").values_list("pk", "name")]


def device_software(device: Device, q: str = "") -> QuerySet[SoftwareItem]:
    """The device's installed software, optionally searched by name or publisher."""
    queryset = SoftwareItem.objects.filter(device=device).order_by("name", "version", "pk")
    term = q.strip()[:200]
    if term:
        queryset = queryset.filter(Q(name__icontains=term) | Q(publisher__icontains=term))
    return queryset


def device_check_results(device: Device, check_id: int | None = None) -> QuerySet[CheckResult]:
    """The raw check results the device's agent reported, newest first, optionally of one check."""
    queryset = CheckResult.objects.filter(device=device).order_by("-at", "-pk")
    if check_id is not None:
        queryset = queryset.filter(check_id=check_id)
    return queryset


def device_state_history(device: Device) -> QuerySet[DeviceStateChange]:
    """The device's lifecycle moves, newest first."""
    return DeviceStateChange.objects.filter(device=device).select_related("actor").order_by("-at", "-pk")


def device_software_changes(device: Device, limit: int = 50) -> list[SoftwareChange]:
    """The latest software installs, removals and updates of a device."""
    return list(SoftwareChange.objects.filter(device=device).order_by("-at", "name")[:limit])


def client_device_summary(client_id: int) -> dict[str, Any]:
    """Counts of a client's devices for its page: managed, online, retired, and by kind (one query each)."""
    from django.db.models import Count

    devices = Device.objects.filter(client_id=client_id)
    totals = devices.aggregate(
        total=Count("pk"), managed=Count("pk", filter=Q(managed=True) & ~Q(state="retired")),
        online=Count("pk", filter=Q(last_seen_at__gte=online_cutoff()) & ~Q(state="retired")),
        retired=Count("pk", filter=Q(state="retired")))
    by_kind = list(devices.exclude(state="retired").values("kind").annotate(count=Count("pk")).order_by("-count",
                                                                                                        "kind"))
    return {**{k: int(v or 0) for k, v in totals.items()}, "by_kind": by_kind}


# --- Discovered devices ----------------------------------------------------------------------


def discovered_visible(actor: Any) -> QuerySet[DiscoveredDevice]:
    """Discovered devices the actor may see, with their client, site and matching device."""
    require(actor, "devices", "view")
    return DiscoveredDevice.objects.visible_to(actor).select_related("client", "site", "matched_device")


def access_discovered(actor: Any, discovered_id: Any) -> DiscoveredDevice:
    """One discovered device, or NotFound; 403 if the role may not see devices."""
    row = get_visible(DiscoveredDevice.objects.select_related("client", "site", "matched_device"), actor,
                      discovered_id)
    require(actor, "devices", "view")
    return row


def managed_vs_discovered(client_id: int) -> tuple[int, int]:
    """(managed devices not retired, discovered devices neither matched nor ignored) of a client: the
    scorecard's managed-devices metric. Two counts, one query each."""
    managed = Device.objects.filter(client_id=client_id, managed=True).exclude(state=DeviceState.RETIRED).count()
    unmanaged = DiscoveredDevice.objects.filter(client_id=client_id, matched_device__isnull=True,
                                                ignored=False).count()
    return managed, unmanaged


# --- Licences --------------------------------------------------------------------------------


def with_installed(queryset: QuerySet[Licence]) -> QuerySet[Licence]:
    """Annotate `installed`: how many distinct devices of the licence's client (not retired) have a
    program whose name contains the match pattern, any case; computed by the database."""
    matching = (SoftwareItem.objects.filter(client_id=OuterRef("client_id"), name__icontains=OuterRef("match_pattern"))
                .exclude(device__state=DeviceState.RETIRED).order_by()
                .values("client_id").annotate(n=Count("device_id", distinct=True)).values("n"))
    return queryset.annotate(installed=Coalesce(Subquery(matching, output_field=IntegerField()), Value(0)))


def licences_visible(actor: Any) -> QuerySet[Licence]:
    """Licences the actor may see, with their installed count."""
    require(actor, "devices", "view")
    return with_installed(Licence.objects.visible_to(actor).select_related("client"))


def access_licence(actor: Any, licence_id: Any) -> Licence:
    """One licence with its installed count, or NotFound; 403 if the role may not see devices."""
    licence = get_visible(with_installed(Licence.objects.select_related("client")), actor, licence_id)
    require(actor, "devices", "view")
    return licence


def client_licences(client_id: int) -> list[Licence]:
    """A client's licences with installed counts, for its licences page."""
    return list(with_installed(Licence.objects.filter(client_id=client_id)).order_by("product", "pk"))
