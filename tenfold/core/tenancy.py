"""Tenancy built in: every client-owned query starts from `visible_to(actor)`, every fetch by id
goes through `get_visible`, and "missing" and "not yours" give the same 404."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models

from tenfold.core.errors import NotFound

M = TypeVar("M", bound=models.Model)


class ClientOwnedQuerySet(models.QuerySet[M]):
    """A queryset that knows which field holds the owning client (`Model.tenant_lookup`)."""

    def visible_to(self, actor: Any) -> ClientOwnedQuerySet[M]:
        """Only the rows the actor may see; nothing for an anonymous actor."""
        if actor is None or not getattr(actor, "is_authenticated", False):
            return self.none()
        scope = actor.client_scope()
        if scope is None:
            return self
        lookup = getattr(self.model, "tenant_lookup", "client_id")
        return self.filter(**{f"{lookup}__in": scope})

    def for_client(self, client_id: int) -> ClientOwnedQuerySet[M]:
        """Rows of one client (no access check: combine with visible_to)."""
        lookup = getattr(self.model, "tenant_lookup", "client_id")
        return self.filter(**{lookup: client_id})


def get_visible(queryset: models.QuerySet[M], actor: Any, pk: Any) -> M:
    """The row with this primary key if the actor may see it; NotFound otherwise, whichever the cause."""
    if not hasattr(queryset, "visible_to"):
        raise TypeError(f"{queryset.model.__name__} is not client-owned; it has no visible_to()")
    try:
        pk_value = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    if pk_value <= 0 or pk_value > 2**63 - 1:
        raise NotFound()
    obj = queryset.visible_to(actor).filter(pk=pk_value).first()
    if obj is None:
        raise NotFound()
    return obj
