"""API plumbing shared by every app's router: strict input schemas, pagination, error mapping."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

from tenfold.core.errors import ValidationError

T = TypeVar("T")


def _text_problem(value: Any) -> str | None:
    """Why a text of a request cannot be stored (a NUL, which PostgreSQL refuses, or a lone surrogate, which
    is not UTF-8), looking into lists and objects; None when it can."""
    if isinstance(value, str):
        if "\x00" in value:
            return "Text cannot contain NUL characters."
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "Text must be valid Unicode (no lone surrogates)."
    elif isinstance(value, list | tuple):
        return next((p for p in map(_text_problem, value) if p), None)
    elif isinstance(value, dict):
        return next((p for p in map(_text_problem, [*value.keys(), *value.values()]) if p), None)
    return None


class InputSchema(Schema):
    """Base of every request body: unknown fields are an error, not silently dropped; text that no database
    could store (a NUL, a lone surrogate) is refused with a 422 rather than failing at the database (a 500 the
    schema run found on PostgreSQL)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        problem = _text_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class ErrorOut(Schema):
    """The body of every 4xx answer."""

    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["Not found."])
    errors: dict[str, list[str]] | None = None


class Page(Schema, Generic[T]):
    """One page of a list."""

    items: list[T]
    count: int
    page: int
    pages: int
    page_size: int


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 413: ErrorOut, 422: ErrorOut,
          429: ErrorOut}


def paginate(queryset: QuerySet[Any], page: int, page_size: int | None) -> dict[str, Any]:
    """Slice a queryset into a Page body; page numbers start at 1."""
    size = page_size or settings.TENFOLD_API_PAGE_SIZE
    if size < 1 or size > 500:
        raise ValidationError(field="page_size", message="page_size must be between 1 and 500.")
    if page < 1:
        raise ValidationError(field="page", message="page must be 1 or more.")
    count = queryset.count()
    pages = max(1, -(-count // size))
    # A page past the last is empty without asking the database (a huge page number would overflow the
    # OFFSET of some engines).
    items = list(queryset[(page - 1) * size: page * size]) if page <= pages else []
    return {"items": items, "count": count, "page": page, "pages": pages, "page_size": size}


def ordering_param(value: str | None, allowed: dict[str, str], default: str) -> list[str]:
    """Map a public sort key ("name", "-name") to model fields; unknown keys are an error."""
    value = value or default
    descending = value.startswith("-")
    key = value.lstrip("-")
    if key not in allowed:
        raise ValidationError(field="ordering", message=f"ordering must be one of: {', '.join(sorted(allowed))}"
                              " (prefix with - for descending).")
    field = allowed[key]
    return [f"-{field}" if descending else field, "-pk" if descending else "pk"]


def actor_of(request: HttpRequest) -> Any:
    """The user behind this API request (token or session)."""
    auth = getattr(request, "auth", None)
    return auth if auth is not None else request.user
