"""Declarative list screens (a filter, a table, one generic view): the same view answers the full page
or, for an HTMX request, only the table fragment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.text import slugify


@dataclass(frozen=True)
class Column:
    """A table column: header, how to read the cell, optional sort field and link."""

    key: str
    label: Any
    accessor: Callable[[Any], Any] | None = None
    sort: str | None = None
    link: Callable[[Any], str] | None = None
    badge: bool = False
    # The badge's CSS modifier (badge-<key>): by default the field's stored value, never its translated label.
    badge_key: Callable[[Any], str] | None = None

    def value(self, row: Any) -> Any:
        if self.accessor is not None:
            return self.accessor(row)
        value = row
        for part in self.key.split("__"):
            value = getattr(value, part, None)
            if value is None:
                return ""
        display = getattr(row, f"get_{self.key}_display", None)
        return display() if callable(display) else value

    def badge_class(self, row: Any) -> str:
        """The same CSS modifier in every language: from badge_key, else the stored value, else the label."""
        if self.badge_key is not None:
            return slugify(self.badge_key(row))
        if self.accessor is None:
            raw = row
            for part in self.key.split("__"):
                raw = getattr(raw, part, None)
            if raw is not None and raw != "":
                return slugify(str(raw))
        return slugify(str(self.value(row)))


@dataclass(frozen=True)
class ChoiceFilter:
    """A filter on a field from a fixed set of choices (select box)."""

    name: str
    label: Any
    field: str
    choices: Callable[[HttpRequest], list[tuple[str, Any]]]


@dataclass
class ListSpec:
    """What a list screen shows and how it can be searched, filtered and sorted."""

    columns: list[Column]
    search_fields: list[str] = field(default_factory=list)
    filters: list[ChoiceFilter] = field(default_factory=list)
    default_sort: str = "name"
    page_size: int | None = None


def apply_list_params(request: HttpRequest, queryset: QuerySet[Any], spec: ListSpec) -> tuple[QuerySet[Any],
                                                                                               dict[str, Any]]:
    """Apply ?q= search, choice filters and ?sort= to the queryset; unknown values are ignored."""
    state: dict[str, Any] = {"q": request.GET.get("q", "").strip()[:200], "filters": {}}
    if state["q"] and spec.search_fields:
        words = state["q"].split()[:8]
        for word in words:
            queryset = queryset.filter(reduce(or_, (Q(**{f"{f}__icontains": word}) for f in spec.search_fields)))
    for flt in spec.filters:
        value = request.GET.get(flt.name, "")
        allowed = {str(v) for v, _ in flt.choices(request)}
        if value and value in allowed:
            queryset = queryset.filter(**{flt.field: value})
            state["filters"][flt.name] = value
    sortable = {c.key: c.sort for c in spec.columns if c.sort}
    sort = request.GET.get("sort", spec.default_sort)
    key = sort.lstrip("-")
    if key not in sortable:
        sort, key = spec.default_sort, spec.default_sort.lstrip("-")
    sort_field = sortable.get(key, key)
    descending = sort.startswith("-")
    queryset = queryset.order_by(f"-{sort_field}" if descending else sort_field, "-pk" if descending else "pk")
    state["sort"] = sort
    return queryset, state


def render_list(request: HttpRequest, queryset: QuerySet[Any], spec: ListSpec, *, template: str,
                context: dict[str, Any] | None = None,
                partial: str = "core/partials/list_results.html") -> HttpResponse:
    """Render a list page, or just its table (`partial`) for HTMX requests."""
    queryset, state = apply_list_params(request, queryset, spec)
    paginator = Paginator(queryset, spec.page_size or settings.TENFOLD_LIST_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    params: dict[str, str] = {k: str(v) for k, v in request.GET.items() if k != "page" and v}
    sort_links = {}
    for column in spec.columns:
        if not column.sort:
            continue
        next_sort = f"-{column.key}" if state["sort"] == column.key else column.key
        sort_links[column.key] = "?" + urlencode({**{k: v for k, v in params.items() if k != "sort"},
                                                  "sort": next_sort})
    rows = [{"object": obj, "cells": [{"value": c.value(obj), "link": c.link(obj) if c.link else "",
                                        "badge": c.badge, "key": c.key,
                                        "badge_class": c.badge_class(obj) if c.badge else ""} for c in spec.columns]}
            for obj in page.object_list]
    ctx = {
        "page_obj": page, "rows": rows, "columns": spec.columns, "state": state,
        "filters": [{"name": f.name, "label": f.label, "choices": f.choices(request),
                     "value": state["filters"].get(f.name, "")} for f in spec.filters],
        "sort_links": sort_links, "query_string": urlencode(params), "has_search": bool(spec.search_fields),
        **(context or {}),
    }
    htmx = getattr(request, "htmx", None)
    is_htmx = bool(htmx) and not getattr(htmx, "boosted", False)
    if is_htmx and request.headers.get("HX-Target") == "list-results":
        return render(request, partial, ctx)
    return render(request, template, ctx)


def model_label(model: type[Model]) -> str:
    """The model's verbose plural name, for page titles."""
    return str(model._meta.verbose_name_plural).capitalize()
