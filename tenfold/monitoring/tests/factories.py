"""Builders of monitoring test data: devices, policies, checks and raw results."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from tenfold.assets.models import CheckResult, Device
from tenfold.clients.models import Client, Site
from tenfold.monitoring.models import CheckDefinition, Policy, PolicyScope

_n = itertools.count(1)
STATUS = {"pass": 0, "warn": 1, "fail": 2, "error": 3}


def make_client(name: str | None = None, **fields: Any) -> Client:
    return Client.objects.create(name=name or f"Client {next(_n)}", status=fields.pop("status", "active"), **fields)


def make_site(client: Client, name: str = "HQ") -> Site:
    return Site.objects.create(client=client, name=name)


def make_device(client: Client, *, site: Site | None = None, name: str | None = None, os_family: str = "linux",
                kind: str = "workstation", managed: bool = True, last_seen_at: datetime | None = None,
                **fields: Any) -> Device:
    return Device.objects.create(client=client, site=site, name=name or f"PC-{next(_n):03d}", os_family=os_family,
                                 kind=kind, managed=managed, state=fields.pop("state", "active"),
                                 last_seen_at=last_seen_at or timezone.now(), **fields)


def make_policy(scope: str = PolicyScope.GLOBAL, *, client: Client | None = None, site: Site | None = None,
                device: Device | None = None, name: str | None = None, collectors: dict[str, Any] | None = None,
                **fields: Any) -> Policy:
    if site is not None:
        client = site.client
    if device is not None:
        client = device.client
    return Policy.objects.create(scope=scope, client=client, site=site, device=device,
                                 name=name or f"Policy {next(_n)}", collectors=collectors or {}, **fields)


def make_check(policy: Policy, check_type: str = "cpu", params: dict[str, Any] | None = None, *,
               name: str | None = None, **fields: Any) -> CheckDefinition:
    defaults = {"cpu": {"warn_pct": 85, "fail_pct": 95, "samples": 1},
                "disk_free": {"mount": "/", "warn_pct": 20, "fail_pct": 10},
                "memory": {"warn_pct": 85, "fail_pct": 95}}
    return CheckDefinition.objects.create(policy=policy, check_type=check_type,
                                          params=params if params is not None else defaults.get(check_type, {}),
                                          name=name or f"{check_type} check {next(_n)}", **fields)


def add_results(device: Device, check: CheckDefinition, statuses: list[str],
                start: datetime | None = None) -> list[CheckResult]:
    """Raw results of one check on one device, one minute apart, in order."""
    start = start or timezone.now() - timedelta(minutes=len(statuses))
    rows = [CheckResult(client_id=device.client_id, device=device, check_id=check.pk, at=start + timedelta(minutes=i),
                        status=STATUS[s], value=float(i), message=f"{s} #{i}", seq=next(_n))
            for i, s in enumerate(statuses)]
    return CheckResult.objects.bulk_create(rows)
