"""Isolation cases of the KPI, forecast and inventory report pages and API (see tenfold/core/isolation.py)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from tenfold.assets.models import Device, Licence
from tenfold.billing.models import Invoice, InvoiceLine
from tenfold.core.isolation import Case, World, register
from tenfold.reporting.kpi_models import ReportSubscription

API = "api:{} /api/v1/{}"
STAFF = {"staff_only": True}
MARKER = "Isolation KPI device A"


def records_a(world: World) -> None:
    """Client A's MRR this month (an issued invoice line) and a device with a licence."""
    if "kpi_records" in world.extra:
        return
    month = timezone.localdate().replace(day=1)
    invoice = Invoice.objects.create(client=world.client_a, status="issued", number="KPI-ISO-1", issue_date=month,
                                     subtotal=Decimal("100.00"), total=Decimal("100.00"))
    InvoiceLine.objects.create(client=world.client_a, invoice=invoice, kind="recurring", description="Managed",
                               unit_price=Decimal("100.00"), amount=Decimal("100.00"), period_start=month)
    Device.objects.create(client=world.client_a, name=MARKER, kind="server", state="active", managed=True)
    Licence.objects.create(client=world.client_a, product="Isolation Office", seats=3, match_pattern="office")
    world.extra["kpi_records"] = True


def built(world: World) -> dict[str, Any]:
    records_a(world)
    return {}


def key_params(world: World) -> dict[str, Any]:
    records_a(world)
    return {"key": "mrr"}


def client_params(world: World) -> dict[str, Any]:
    records_a(world)
    return {"client_id": world.client_a.pk}


def subscription_params(world: World) -> dict[str, Any]:
    if "kpi_subscription" not in world.extra:
        world.extra["kpi_subscription"] = ReportSubscription.objects.create(
            client=world.client_a, recipients="alice.isolated@client-a.example", next_send_on=date(2030, 1, 1))
    return {"subscription_id": world.extra["kpi_subscription"].pk}


def subscription_body(world: World) -> dict[str, Any]:
    return {"report": "inventory", "client": str(world.client_a.pk), "recipients": world.users["admin"].email,
            "cadence": "monthly", "format": "pdf", "enabled": "on",
            "next_send_on": (timezone.localdate() + timedelta(days=1)).isoformat()}


def subscription_edit_body(world: World) -> dict[str, Any]:
    return {"report": "patch", "recipients": world.users["admin"].email, "cadence": "weekly", "format": "csv",
            "next_send_on": (timezone.localdate() + timedelta(days=2)).isoformat(), "enabled": "on"}


def subscription_api_body(world: World) -> dict[str, Any]:
    return {"report": "inventory", "client_id": world.client_a.pk, "recipients": [world.users["admin"].email],
            "cadence": "monthly", "format": "csv",
            "next_send_on": (timezone.localdate() + timedelta(days=1)).isoformat()}


def leak_subscription(world: World) -> str:
    subscription_params(world)
    return world.client_a.name


def leak_name(world: World) -> str:
    records_a(world)
    return world.client_a.name


def leak_device(world: World) -> str:
    records_a(world)
    return MARKER


register(
    Case("ui:reporting:kpi_dashboard", "list", "kpis", params=built, leak=leak_name, **STAFF),
    Case("ui:reporting:kpi_detail", "list", "kpis", params=key_params, leak=leak_name, **STAFF),
    Case("ui:reporting:forecasts", "list", "kpis", params=built, leak=leak_name, **STAFF),
    Case("ui:reporting:inventory_index", "list", "devices", params=built, leak=leak_name, **STAFF),
    Case("ui:reporting:inventory_report", "object", "devices", params=client_params, **STAFF),
    Case("ui:reporting:subscription_list", "list", "scorecards", params=built, leak=leak_name, **STAFF),
    Case("ui:reporting:subscription_create", "create", "scorecards", "add", method="POST", body=subscription_body,
         models=(ReportSubscription,), **STAFF),
    Case("ui:reporting:subscription_edit", "object", "scorecards", "change", method="POST",
         params=subscription_params, body=subscription_edit_body, models=(ReportSubscription,), **STAFF),
    Case("ui:portal:inventory_report", "list", "devices", params=built, leak=leak_device, portal_only=True),
    Case("ui:reporting:subscription_delete", "object", "scorecards", "delete", method="POST",
         params=subscription_params, models=(ReportSubscription,), **STAFF),
    Case(API.format("GET", "kpis/"), "list", "kpis", params=built, leak=leak_name, **STAFF),
    Case(API.format("GET", "kpis/{key}"), "list", "kpis", params=key_params, leak=leak_name, **STAFF),
    Case(API.format("GET", "forecasts/"), "list", "kpis", params=built, leak=leak_name, **STAFF),
    Case(API.format("GET", "inventory-reports/{client_id}"), "object", "devices", params=client_params, **STAFF),
    Case(API.format("GET", "inventory-reports/{client_id}/csv"), "object", "devices", params=client_params,
         **STAFF),
    Case(API.format("GET", "report-subscriptions"), "list", "scorecards", leak=leak_subscription, **STAFF),
    Case(API.format("POST", "report-subscriptions"), "create", "scorecards", "add", method="POST",
         body=subscription_api_body, models=(ReportSubscription,), **STAFF),
    Case(API.format("GET", "report-subscriptions/{subscription_id}"), "object", "scorecards",
         params=subscription_params, **STAFF),
    Case(API.format("PATCH", "report-subscriptions/{subscription_id}"), "object", "scorecards", "change",
         method="PATCH", params=subscription_params,
         body=lambda w: {"recipients": [w.users["admin"].email], "enabled": False}, models=(ReportSubscription,),
         **STAFF),
    Case(API.format("DELETE", "report-subscriptions/{subscription_id}"), "object", "scorecards", "delete",
         method="DELETE", params=subscription_params, models=(ReportSubscription,), **STAFF),
)
