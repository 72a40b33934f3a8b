"""What of knowledge a client's portal users may read: only what staff shared with the client, of their own
company. The environment overview (`ClientDoc.shared_with_client`) and the client's own runbooks marked
shared (never an MSP-wide runbook, never an archived one); nothing else, and never the vault. roles.md gives
"R shared docs" to portal administrators and nothing to portal users (403). Another company's item, or one
not shared, is a 404."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from tenfold.core.errors import NotFound, PermissionDenied
from tenfold.core.roles import require
from tenfold.core.tenancy import get_visible
from tenfold.knowledge.models import ClientDoc, Runbook


def _require_portal_docs(actor: Any) -> None:
    """Portal users whose role may read shared documentation; staff read knowledge in its own screens (403)."""
    if not getattr(actor, "is_portal", False):
        raise PermissionDenied()
    require(actor, "runbooks", "view")


def _shared_runbooks() -> QuerySet[Runbook]:
    return Runbook.objects.filter(shared_with_client=True, archived=False, client__isnull=False)


def _shared_docs() -> QuerySet[ClientDoc]:
    return ClientDoc.objects.filter(shared_with_client=True)


def portal_shared_runbooks(actor: Any) -> QuerySet[Runbook]:
    """The runbooks shared with the actor's own company, by title."""
    _require_portal_docs(actor)
    return Runbook.objects.visible_to(actor).filter(
        shared_with_client=True, archived=False, client_id=actor.client_id).order_by("title", "pk")


def portal_shared_doc(actor: Any) -> ClientDoc | None:
    """The actor's company's documentation if it is shared with the company, else None."""
    _require_portal_docs(actor)
    doc: ClientDoc | None = ClientDoc.objects.visible_to(actor).filter(
        shared_with_client=True, client_id=actor.client_id).first()
    return doc


def _own(actor: Any, obj: Any) -> Any:
    # Fetched first (another company's or not shared: 404), then the role (403).
    _require_portal_docs(actor)
    if obj.client_id != actor.client_id:
        raise NotFound()
    return obj


def access_portal_runbook(actor: Any, runbook_id: Any) -> Runbook:
    """One runbook shared with the actor's company, else NotFound."""
    runbook: Runbook = _own(actor, get_visible(_shared_runbooks(), actor, runbook_id))
    return runbook


def access_portal_doc(actor: Any, doc_id: Any) -> ClientDoc:
    """The actor's company's documentation when it is shared, else NotFound."""
    doc: ClientDoc = _own(actor, get_visible(_shared_docs().select_related("client"), actor, doc_id))
    return doc
