"""The steps every service's write shares: copy allowed fields, validate, save with unique constraints left to
the database (no check-then-insert race)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext_lazy as _

from tenfold.core.errors import ValidationError, validation_error_from_django


def apply_fields(obj: models.Model, allowed: tuple[str, ...], data: dict[str, Any]) -> None:
    """Set the given fields on obj (strings trimmed); a field outside `allowed` is a ValidationError."""
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    for key, value in data.items():
        setattr(obj, key, value.strip() if isinstance(value, str) else value)


def clean_or_raise(obj: models.Model) -> None:
    """Field validation as our ValidationError; unique constraints are checked by save_or_unique_error."""
    try:
        obj.full_clean(validate_constraints=False, validate_unique=False)
    except DjangoValidationError as exc:
        raise validation_error_from_django(exc) from exc


def save_or_unique_error(obj: models.Model, *, unique_message: Any, unique_field: str) -> None:
    """Save in a savepoint; a unique-constraint violation becomes a ValidationError on `unique_field`."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise ValidationError(unique_message, field=unique_field) from exc
