"""Writes of core records: organization settings, tax rates, schedules."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenfold.core import audit
from tenfold.core.errors import ValidationError
from tenfold.core.models import Organization, Schedule, TaxRate
from tenfold.core.roles import require
from tenfold.core.scheduler import next_run, validate_cron
from tenfold.core.selectors import organization

ORGANIZATION_FIELDS = ("name", "currency", "loaded_labour_cost", "default_language", "default_time_zone")


@transaction.atomic
def organization_update(*, actor: Any, data: dict[str, Any]) -> Organization:
    """Change the MSP's settings (owner/admin)."""
    require(actor, "settings", "change")
    org = organization()
    before = audit.snapshot(org)
    for key, value in data.items():
        if key not in ORGANIZATION_FIELDS:
            raise ValidationError(_("Unknown field: %(field)s") % {"field": key})
        setattr(org, key, value)
    org.currency = org.currency.upper()
    if len(org.currency) != 3 or not org.currency.isalpha():
        raise ValidationError(_("Enter a three-letter currency code, e.g. EUR."), field="currency")
    org.full_clean()
    org.save()
    changes = audit.diff(before, audit.snapshot(org))
    if changes:
        audit.record(actor, "organization.updated", org, changes=changes)
    return org


@transaction.atomic
def tax_rate_save(*, actor: Any, data: dict[str, Any], tax_rate: TaxRate | None = None) -> TaxRate:
    """Create or change a tax rate; marking one default clears the previous default."""
    require(actor, "settings", "change")
    rate = tax_rate or TaxRate()
    before = audit.snapshot(rate) if tax_rate else {}
    for key in ("name", "rate", "is_default"):
        if key in data:
            setattr(rate, key, data[key])
    rate.full_clean(validate_unique=False, validate_constraints=False)
    if rate.is_default:
        TaxRate.objects.exclude(pk=rate.pk).filter(is_default=True).update(is_default=False)
    try:
        with transaction.atomic():
            rate.save()
    except IntegrityError as exc:
        raise ValidationError(_("A tax rate with this name already exists."), field="name") from exc
    audit.record(actor, "tax_rate.updated" if tax_rate else "tax_rate.created", rate,
                 changes=audit.diff(before, audit.snapshot(rate)))
    return rate


@transaction.atomic
def schedule_update(*, actor: Any, schedule: Schedule, enabled: bool, cron: str) -> Schedule:
    """Pause, resume or re-time a schedule."""
    require(actor, "settings", "change")
    before = audit.snapshot(schedule)
    schedule.cron = validate_cron(cron)
    schedule.enabled = enabled
    schedule.next_run_at = next_run(schedule.cron, timezone.now())
    schedule.save()
    audit.record(actor, "schedule.updated", schedule, changes=audit.diff(before, audit.snapshot(schedule)))
    return schedule
