"""The effective policy of a device: the global, baseline, client, tag, site and device policies merged,
with where each part comes from; and the fast, cached provider the agent check-in asks.

Precedence, broadest first: global < baseline (the client's tier and those below it) < client < tag (the
policies of every tag the device carries; between two of them, the one created last wins) < site <
device. A narrower check of the same type and target (checktypes.target_of) replaces a broader one; a
narrower *disabled* check switches the broader one off. Collectors are overridden key by key.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q

from tenfold.assets.models import Device
from tenfold.core.tiers import Tier
from tenfold.monitoring.checktypes import DEFAULT_COLLECTORS, target_of
from tenfold.monitoring.models import SCOPE_RANK, CheckDefinition, ClientBaseline, Policy, PolicyScope

GENERATION_KEY = "monitoring:policy-generation"


@dataclass(frozen=True)
class Source:
    """One check of the effective policy and the policy it comes from; `replaces` lists the broader
    checks it overrides (or, for a disabled check, switches off)."""

    check: CheckDefinition
    policy: Policy
    scope: str
    replaces: tuple[CheckDefinition, ...] = ()

    @property
    def active(self) -> bool:
        return self.check.enabled


@dataclass(frozen=True)
class EffectivePolicy:
    """What a device runs: the checks and collectors in the agent's shape, a version, and the sources."""

    version: str
    checks: list[dict[str, Any]]
    collectors: dict[str, Any]
    sources: list[Source] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)

    def as_agent_policy(self) -> dict[str, Any]:
        """The `policy` object of the check-in answer (docs/agent-protocol.md)."""
        return {"version": self.version, "checks": self.checks, "collectors": self.collectors}

    def includes_check(self, check_id: int) -> bool:
        return any(c["id"] == check_id for c in self.checks)


def canonical_json(data: Any) -> bytes:
    """Sorted keys, no spaces: the same policy always hashes to the same version."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def tiers_up_to(tier: str | None) -> list[str]:
    """The tier and every tier it includes (Better: Good and Better)."""
    if not tier:
        return []
    return [t.value for t in Tier if Tier.includes(tier, t.value)]


def _policy_order(policy: Policy) -> tuple[int, int, int]:
    tier_rank = Tier.rank(policy.baseline_tier) if policy.baseline_tier else 0
    return SCOPE_RANK[PolicyScope(policy.scope)], tier_rank, policy.pk


def merge(policies: Iterable[Policy], os_family: str = "") -> EffectivePolicy:
    """Merge the policies that apply to one device (each with its checks prefetched); a check meant for
    another operating system than the device's is left out before merging."""
    ordered = sorted(policies, key=_policy_order)
    chosen: dict[tuple[str, str], Source] = {}
    collectors: dict[str, Any] = dict(DEFAULT_COLLECTORS)
    for policy in ordered:
        collectors.update(policy.collectors or {})
        for check in sorted(policy.checks.all(), key=lambda c: c.pk):
            if check.os_family and check.os_family != os_family:
                continue
            key = (check.check_type, target_of(check.check_type, check.params or {}))
            previous = chosen.get(key)
            replaces = (*previous.replaces, previous.check) if previous else ()
            chosen[key] = Source(check=check, policy=policy, scope=policy.scope, replaces=replaces)
    sources = sorted(chosen.values(), key=lambda s: s.check.pk)
    checks = [{"id": s.check.pk, "type": s.check.check_type, "interval": s.check.interval_s,
               "params": s.check.params} for s in sources if s.check.enabled]
    version = hashlib.sha256(canonical_json({"checks": checks, "collectors": collectors})).hexdigest()
    return EffectivePolicy(version=version, checks=checks, collectors=collectors, sources=sources,
                           policies=ordered)


def _applicable(client_ids: Iterable[int], site_ids: Iterable[int], device_ids: Iterable[int],
                tiers: Iterable[str], tag_ids: Iterable[int] = ()) -> list[Policy]:
    """Enabled policies that may apply to these devices, with their checks, in two queries."""
    condition = Q(scope=PolicyScope.GLOBAL)
    condition |= Q(scope=PolicyScope.CLIENT, client_id__in=list(client_ids))
    condition |= Q(scope=PolicyScope.SITE, site_id__in=list(site_ids))
    condition |= Q(scope=PolicyScope.DEVICE, device_id__in=list(device_ids))
    tiers, tag_ids = list(tiers), list(tag_ids)
    if tiers:
        condition |= Q(scope=PolicyScope.BASELINE, baseline_tier__in=tiers)
    if tag_ids:
        condition |= Q(scope=PolicyScope.TAG, tag_id__in=tag_ids)
    return list(Policy.objects.filter(condition, enabled=True).select_related("tag").prefetch_related("checks"))


def _applies(policy: Policy, device_id: int, site_id: int | None, client_id: int, tiers: list[str],
             tag_ids: Collection[int] = ()) -> bool:
    if policy.scope == PolicyScope.GLOBAL:
        return True
    if policy.scope == PolicyScope.BASELINE:
        return policy.baseline_tier in tiers
    if policy.scope == PolicyScope.CLIENT:
        return policy.client_id == client_id
    if policy.scope == PolicyScope.TAG:
        return policy.tag_id in tag_ids
    if policy.scope == PolicyScope.SITE:
        return site_id is not None and policy.site_id == site_id
    return policy.device_id == device_id


def _device_tags(device_ids: Iterable[int]) -> dict[int, set[int]]:
    """The tag ids each device carries, in one query."""
    tags: dict[int, set[int]] = {}
    links = Device.tags.through.objects.filter(device_id__in=list(device_ids)).values_list("device_id", "tag_id")
    for device_id, tag_id in links:
        tags.setdefault(device_id, set()).add(tag_id)
    return tags


def client_tier(client_id: int) -> str | None:
    """The plan tier whose baseline applies to a client, if any."""
    return ClientBaseline.objects.filter(client_id=client_id).values_list("tier", flat=True).first()


def effective_policy(device: Device) -> EffectivePolicy:
    """The effective policy of one device (its tags are read here: the device may come without them)."""
    tiers = tiers_up_to(client_tier(device.client_id))
    tag_ids = _device_tags([device.pk]).get(device.pk, set())
    policies = _applicable([device.client_id], [device.site_id] if device.site_id else [], [device.pk], tiers,
                           tag_ids)
    return merge([p for p in policies if _applies(p, device.pk, device.site_id, device.client_id, tiers, tag_ids)],
                 device.os_family)


def effective_policies(devices: list[Device]) -> dict[int, EffectivePolicy]:
    """The effective policies of many devices of one or more clients, in a bounded number of queries."""
    if not devices:
        return {}
    client_ids = {d.client_id for d in devices}
    tier_of = dict(ClientBaseline.objects.filter(client_id__in=client_ids).values_list("client_id", "tier"))
    all_tiers = {t for tier in tier_of.values() for t in tiers_up_to(tier)}
    tags_of = _device_tags([d.pk for d in devices])
    policies = _applicable(client_ids, {d.site_id for d in devices if d.site_id}, [d.pk for d in devices],
                           all_tiers, {t for tags in tags_of.values() for t in tags})
    result = {}
    for device in devices:
        tiers = tiers_up_to(tier_of.get(device.client_id))
        tag_ids = tags_of.get(device.pk, set())
        result[device.pk] = merge([p for p in policies
                                   if _applies(p, device.pk, device.site_id, device.client_id, tiers, tag_ids)],
                                  device.os_family)
    return result


# --- the provider of the check-in answer -------------------------------------------------------


def generation() -> int:
    """The policies generation: bumped on every change of a policy, a check or a baseline."""
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        value = cache.get(GENERATION_KEY, 1)
    return int(value)


# The check-in's hot path. Each process keeps an index of every enabled policy (with its checks) and
# every client's tier, loaded once per generation, and the merged answer per distinct device context
# (client, site, OS family, the tags a tag policy names, and the device itself only when a device policy
# names it): a fleet of 20,000 devices has a few hundred contexts. A device's policy then costs no SQL at
# all. The generation
# is read from the shared cache at most once a second, so another process's change is seen within 1 s
# and this process's own change at once.
GENERATION_RECHECK_SECONDS = 1.0
MAX_CONTEXTS = 50_000


@dataclass
class _Index:
    generation: int
    policies: list[Policy]
    tier_of: dict[int, str]
    device_scoped: frozenset[int]
    tagged: dict[int, frozenset[int]]  # device id -> the tags it carries that some policy names
    answers: dict[tuple[Any, ...], tuple[str, dict[str, Any]]] = field(default_factory=dict)


_index: list[_Index | None] = [None]
_local_generation: list[float] = [0, 0.0]  # [generation, monotonic time it was read]
_local_lock = threading.Lock()


def forget_local() -> None:
    """Drop this process's index (after a change here, and between tests)."""
    with _local_lock:
        _index[0] = None
        _local_generation[:] = [0, 0.0]


def _current_generation() -> int:
    now = time.monotonic()
    if now - _local_generation[1] > GENERATION_RECHECK_SECONDS:
        _local_generation[:] = [generation(), now]
    return int(_local_generation[0])


def _load_index(current: int) -> _Index:
    policies = list(Policy.objects.filter(enabled=True).prefetch_related("checks"))
    policy_tags = {p.tag_id for p in policies if p.scope == PolicyScope.TAG and p.tag_id}
    tagged: dict[int, set[int]] = {}
    if policy_tags:  # a tag change bumps the generation (monitoring handles device.tags_changed)
        links = Device.tags.through.objects.filter(tag_id__in=policy_tags).values_list("device_id", "tag_id")
        for device_id, tag_id in links:
            tagged.setdefault(device_id, set()).add(tag_id)
    return _Index(generation=current, policies=policies,
                  tier_of=dict(ClientBaseline.objects.values_list("client_id", "tier")),
                  device_scoped=frozenset(p.device_id for p in policies
                                          if p.scope == PolicyScope.DEVICE and p.device_id),
                  tagged={device_id: frozenset(tags) for device_id, tags in tagged.items()})


def _current_index() -> _Index:
    current = _current_generation()
    index = _index[0]
    if index is None or index.generation != current:
        with _local_lock:
            index = _index[0]
            if index is None or index.generation != current:
                index = _index[0] = _load_index(current)
    return index


def _bump() -> None:
    forget_local()
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # the key is gone (cache cleared or evicted): start a new count
        cache.set(GENERATION_KEY, 2, timeout=None)


def bump_generation() -> None:
    """Invalidate every cached device policy once the current transaction commits."""
    transaction.on_commit(_bump)


def policy_for_device(device: Any) -> tuple[str, dict[str, Any]]:
    """`(version, policy)` of a device for the check-in answer.

    Registered with `tenfold.agents.hooks`. `device` is a Device (or anything with its `pk`,
    `client_id`, `site_id` and `os_family`), or a device id, which costs one query. With the device's
    fields at hand and the index loaded, it costs no query."""
    if isinstance(device, int):
        device = Device.objects.filter(pk=device).only("pk", "client_id", "site_id", "os_family").first()
        if device is None:
            empty = merge([])
            return empty.version, empty.as_agent_policy()
    index = _current_index()
    device_id, client_id, site_id = int(device.pk), int(device.client_id), device.site_id
    os_family = device.os_family or ""
    tags = index.tagged.get(device_id, frozenset())
    key = (client_id, site_id, os_family, device_id if device_id in index.device_scoped else 0, tags)
    answer = index.answers.get(key)
    if answer is None:
        tiers = tiers_up_to(index.tier_of.get(client_id))
        effective = merge([p for p in index.policies if _applies(p, device_id, site_id, client_id, tiers, tags)],
                          os_family)
        answer = (effective.version, effective.as_agent_policy())
        if len(index.answers) >= MAX_CONTEXTS:
            index.answers.clear()
        index.answers[key] = answer
    return answer
