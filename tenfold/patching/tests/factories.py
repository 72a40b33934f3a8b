"""Builders of patching test data: devices that listed their updates, updates, policies."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from django.utils import timezone

from tenfold.assets.models import Device
from tenfold.clients.models import Client, Site
from tenfold.patching.models import ApprovalPolicy, DeviceUpdate, DeviceUpdateScan, Update

_n = itertools.count(1)


def make_client(name: str | None = None) -> Client:
    return Client.objects.create(name=name or f"Client {next(_n)}", status="active")


def make_device(client: Client, *, site: Site | None = None, name: str | None = None, scanned: bool = True,
                **fields: Any) -> Device:
    device = Device.objects.create(client=client, site=site, name=name or f"PC-{next(_n):03d}",
                                   managed=fields.pop("managed", True),
                                   state=fields.pop("state", "active"), os_family=fields.pop("os_family", "linux"),
                                   last_seen_at=timezone.now(), **fields)
    if scanned:
        DeviceUpdateScan.objects.create(client=client, device=device, scanned_at=timezone.now(), sources=["apt"])
    return device


def make_update(identifier: str | None = None, *, category: str = "security", severity: str = "",
                source: str = "apt", version: str = "1.0", **fields: Any) -> Update:
    identifier = identifier or f"pkg-{next(_n)}"
    return Update.objects.create(source=source, identifier=identifier, version=version,
                                 title=fields.pop("title", identifier), category=category, severity=severity, **fields)


def missing(device: Device, update: Update, *, state: str = "missing", first_seen_at: datetime | None = None,
            **fields: Any) -> DeviceUpdate:
    at = first_seen_at or timezone.now()
    return DeviceUpdate.objects.create(client=device.client, device=device, update=update, state=state,
                                       first_seen_at=at, last_seen_at=at, available_version=update.version, **fields)


def make_policy(scope: str = "global", **fields: Any) -> ApprovalPolicy:
    return ApprovalPolicy.objects.create(scope=scope, name=fields.pop("name", f"Policy {next(_n)}"), **fields)
