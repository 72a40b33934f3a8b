"""Typed domain errors; the API and the UI map them to 4xx with a stable code and a translated message."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class TenfoldError(Exception):
    """Base of every domain error: a stable machine code, a translatable message, an HTTP status."""

    code = "error"
    status = 400
    default_message: Any = _("The request could not be processed.")

    def __init__(self, message: Any = None, *, code: str | None = None, field: str | None = None,
                 errors: dict[str, list[str]] | None = None) -> None:
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        self.field = field
        self.errors = errors or ({field: [str(self.message)]} if field else {})
        super().__init__(str(self.message))

    def as_body(self) -> dict[str, Any]:
        """The JSON body the API answers with."""
        body: dict[str, Any] = {"code": self.code, "message": str(self.message)}
        if self.errors:
            body["errors"] = {k: [str(m) for m in v] for k, v in self.errors.items()}
        return body


class NotFound(TenfoldError):
    """Missing, or not visible to the actor: the same answer for both."""

    code = "not_found"
    status = 404
    default_message = _("Not found.")


class PermissionDenied(TenfoldError):
    """The actor may see the record but not do this to it."""

    code = "permission_denied"
    status = 403
    default_message = _("You do not have permission to do this.")


class ValidationError(TenfoldError):
    """Input that breaks a rule; `errors` maps field names to messages."""

    code = "validation_error"
    status = 422
    default_message = _("Some fields are not valid.")


class Conflict(TenfoldError):
    """The change clashes with the current state (duplicate, stale version, wrong status)."""

    code = "conflict"
    status = 409
    default_message = _("This conflicts with the current state.")


def validation_error_from_django(exc: Any) -> ValidationError:
    """Turn Django's ValidationError (from full_clean) into ours, field by field."""
    errors: dict[str, list[str]] = {}
    if hasattr(exc, "error_dict"):
        for field, items in exc.error_dict.items():
            errors[field] = [str(m) for item in items for m in item.messages]
    else:
        errors["__all__"] = [str(m) for m in exc.messages]
    first = next(iter(errors.values()))[0] if errors else None
    return ValidationError(first or ValidationError.default_message, errors=errors)
