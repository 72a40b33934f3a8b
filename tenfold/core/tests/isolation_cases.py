"""Isolation cases of core's pages: home, health, language, MSP settings."""

from __future__ import annotations

from typing import Any

from tenfold.core.isolation import Case, World, register
from tenfold.core.models import Organization, Schedule, TaxRate

MODELS = (Organization, TaxRate, Schedule)


def tax_rate(world: World) -> dict[str, Any]:
    rate = world.extra.get("tax_rate") or TaxRate.objects.create(name="VAT 20", rate="20.000")
    world.extra["tax_rate"] = rate
    return {"tax_rate_id": rate.pk}


def schedule(world: World) -> dict[str, Any]:
    row = world.extra.get("schedule") or Schedule.objects.create(
        name="isolation.sample", task_path="tenfold.core.tasks.prune_workers", cron="0 * * * *")
    world.extra["schedule"] = row
    return {"schedule_id": row.pk}


register(
    Case("ui:healthz", "public"),
    Case("ui:set_language", "public", method="POST", body=lambda w: {"language": "fr", "next": "/"}),
    Case("ui:home", "own"),
    Case("ui:core:settings", "object", "settings", "change", method="POST", client_owned=False,
         body=lambda w: {"name": "Changed MSP", "currency": "EUR", "loaded_labour_cost": "50.00",
                         "default_language": "en", "default_time_zone": "Europe/Paris"}, models=MODELS),
    Case("ui:core:tax_rate_create", "create", "settings", "change", method="POST", client_owned=False,
         body=lambda w: {"name": "VAT 5.5", "rate": "5.5"}, models=MODELS),
    Case("ui:core:tax_rate_edit", "object", "settings", "change", method="POST", params=tax_rate,
         client_owned=False, body=lambda w: {"name": "VAT 19.6", "rate": "19.6"}, models=MODELS),
    Case("ui:core:schedule_list", "list", "settings"),
    Case("ui:core:schedule_edit", "object", "settings", "change", method="POST", params=schedule,
         client_owned=False, body=lambda w: {"enabled": "", "cron": "5 * * * *"}, models=MODELS),
    Case("ui:core:audit_log", "list", "audit"),
)
