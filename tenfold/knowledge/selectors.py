"""Reads of runbooks, client documentation and the vault, always scoped to what the actor may see."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from tenfold.clients.models import Client
from tenfold.core.errors import NotFound, PermissionDenied
from tenfold.core.roles import has_capability, require
from tenfold.core.tenancy import get_visible
from tenfold.knowledge.models import (
    CheckRunbookLink,
    ClientDoc,
    Credential,
    CredentialReveal,
    KeyApplication,
    NetworkItem,
    Runbook,
    RunbookCategory,
    RunbookVersion,
    SearchDocument,
)
from tenfold.knowledge.search import SearchHit
from tenfold.monitoring.models import CheckDefinition


def _require_staff(actor: Any, capability: str, action: str = "view") -> None:
    """Knowledge is the MSP's working material: portal users are refused (403), then the role decides."""
    if getattr(actor, "is_portal", False):
        raise PermissionDenied()
    require(actor, capability, action)


def _access(queryset: QuerySet[Any], actor: Any, pk: Any, capability: str) -> Any:
    # Fetch first (missing or another client's: 404), then check the role (403).
    obj = get_visible(queryset, actor, pk)
    _require_staff(actor, capability)
    return obj


# --- Runbooks ----------------------------------------------------------------------------------------------


def runbooks_visible(actor: Any) -> QuerySet[Runbook]:
    """Runbooks the actor may see: the MSP's and those of the clients they see."""
    _require_staff(actor, "runbooks")
    return Runbook.objects.visible_to(actor).select_related("category", "client")


def runbook_list(actor: Any) -> QuerySet[Runbook]:
    """Runbooks with their step counts, for list screens."""
    return runbooks_visible(actor).annotate(step_count=Count("steps"))


def access_runbook(actor: Any, runbook_id: Any) -> Runbook:
    """One runbook, or NotFound (missing and not-yours answer alike)."""
    return _access(Runbook.objects.select_related("category", "client", "updated_by"), actor, runbook_id, "runbooks")


def categories() -> QuerySet[RunbookCategory]:
    """Every category (MSP-level)."""
    return RunbookCategory.objects.all()


def categories_with_counts(actor: Any) -> list[tuple[RunbookCategory, int]]:
    """Every category with the number of runbooks filed under it that the actor sees (archived included)."""
    _require_staff(actor, "runbooks")
    counts = dict(Runbook.objects.visible_to(actor).filter(category__isnull=False).order_by()
                  .values("category_id").annotate(n=Count("pk")).values_list("category_id", "n"))
    return [(category, counts.get(category.pk, 0)) for category in RunbookCategory.objects.all()]


def access_category(actor: Any, category_id: Any) -> RunbookCategory:
    """One category (MSP-level: every staff user sees them), or NotFound; portal users: 403."""
    try:
        pk = int(category_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    category = RunbookCategory.objects.filter(pk=pk).first() if 0 < pk <= 2**63 - 1 else None
    if category is None:
        raise NotFound()
    _require_staff(actor, "runbooks")
    return category


def runbook_versions(runbook: Runbook) -> QuerySet[RunbookVersion]:
    """The versions of a runbook, newest first."""
    return runbook.versions.select_related("author").order_by("-number")


def access_version(runbook: Runbook, number: Any) -> RunbookVersion:
    """One version of a runbook the caller already accessed, or NotFound."""
    try:
        value = int(number)
    except (TypeError, ValueError):
        raise NotFound() from None
    version = runbook.versions.select_related("author").filter(number=value).first()
    if version is None:
        raise NotFound()
    return version


def _steps_text(steps: list[dict[str, Any]]) -> list[str]:
    return [f"[{'required' if s.get('required') else 'optional'}] {s.get('text', '')}" for s in steps]


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified diff, with its kind for colouring ("add", "del", "hunk", "ctx")."""

    kind: str
    text: str


def version_diff(old: RunbookVersion, new: RunbookVersion) -> list[DiffLine]:
    """The unified diff (difflib) from `old` to `new`: title, body and steps."""
    before = [f"# {old.title}", "", *old.body_markdown.splitlines(), "", "## Steps", *_steps_text(old.steps)]
    after = [f"# {new.title}", "", *new.body_markdown.splitlines(), "", "## Steps", *_steps_text(new.steps)]
    lines = []
    for line in difflib.unified_diff(before, after, f"v{old.number}", f"v{new.number}", lineterm="", n=3):
        if line.startswith(("---", "+++")):
            continue
        kind = "hunk" if line.startswith("@@") else "add" if line.startswith("+") else \
            "del" if line.startswith("-") else "ctx"
        lines.append(DiffLine(kind, line))
    return lines


def runbook_for_check(check_definition_id: int) -> Runbook | None:
    """The runbook to follow when this check fails: one linked to the check itself, else to its type;
    None when neither exists or the runbook is archived. No access check (linked runbooks are the MSP's)."""
    check_type = CheckDefinition.objects.filter(pk=check_definition_id).values_list("check_type", flat=True).first()
    if check_type is None:
        return None
    links = CheckRunbookLink.objects.select_related("runbook").filter(
        Q(check_definition_id=check_definition_id) | Q(check_definition__isnull=True, check_type=check_type),
        runbook__archived=False)
    specific = [link for link in links if link.check_definition_id is not None]
    chosen = specific[0] if specific else next(iter(links), None)
    return chosen.runbook if chosen else None


def check_links(actor: Any) -> QuerySet[CheckRunbookLink]:
    """The check → runbook links (MSP-level: every staff user with runbook access sees them)."""
    _require_staff(actor, "runbooks")
    return CheckRunbookLink.objects.visible_to(actor).select_related("runbook", "check_definition")


def access_check_link(actor: Any, link_id: Any) -> CheckRunbookLink:
    """One link, or NotFound."""
    return _access(CheckRunbookLink.objects.select_related("runbook"), actor, link_id, "runbooks")


# --- Client documentation ----------------------------------------------------------------------------------


def access_client_for_docs(actor: Any, client_id: Any) -> Client:
    """A client whose documentation the actor may read: NotFound if they cannot see it, 403 for portal users."""
    return _access(Client.objects.all(), actor, client_id, "runbooks")


def client_doc(client: Client) -> ClientDoc | None:
    """The client's documentation record (None before anyone wrote it)."""
    return ClientDoc.objects.select_related("reviewed_by").filter(client=client).first()


def client_docs_visible(actor: Any) -> QuerySet[ClientDoc]:
    """Client documentation records the actor may see."""
    _require_staff(actor, "runbooks")
    return ClientDoc.objects.visible_to(actor).select_related("client", "reviewed_by")


def network_items(client: Client) -> QuerySet[NetworkItem]:
    return NetworkItem.objects.filter(client=client).select_related("site").order_by("kind", "name", "pk")


def key_applications(client: Client) -> QuerySet[KeyApplication]:
    return KeyApplication.objects.filter(client=client).order_by("name", "pk")


def access_network_item(actor: Any, item_id: Any) -> NetworkItem:
    return _access(NetworkItem.objects.select_related("client"), actor, item_id, "runbooks")


def access_key_application(actor: Any, app_id: Any) -> KeyApplication:
    return _access(KeyApplication.objects.select_related("client"), actor, app_id, "runbooks")


# --- Vault --------------------------------------------------------------------------------------------------


def credentials_visible(actor: Any) -> QuerySet[Credential]:
    """Credentials the actor may see (names, never secrets): the MSP's and those of their clients."""
    _require_staff(actor, "vault")
    return Credential.objects.visible_to(actor).select_related("client").defer(
        "wrapped_key", "secret_ciphertext", "totp_ciphertext")


def access_credential(actor: Any, credential_id: Any) -> Credential:
    """One credential, or NotFound."""
    return _access(Credential.objects.select_related("client", "created_by"), actor, credential_id, "vault")


def credential_reveals(credential: Credential, limit: int = 100) -> QuerySet[CredentialReveal]:
    """Who revealed the credential, newest first."""
    return credential.reveals.select_related("user").order_by("-at", "-pk")[:limit]


# --- Search --------------------------------------------------------------------------------------------------

MAX_QUERY = 200
_TOKEN_RE = re.compile(r"\w+", re.UNICODE)


def query_tokens(query: str) -> list[str]:
    """The words of a query (at most 8, letters and digits only: no search operator gets through)."""
    return [t.lower() for t in _TOKEN_RE.findall(query[:MAX_QUERY])][:8]


def _matching_ids(tokens: list[str], candidates: QuerySet[SearchDocument], limit: int) -> list[int]:
    """Ids of matching documents, best first, using the database's full-text index."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
        from django.db.models.expressions import RawSQL

        query = SearchQuery(" & ".join(f"{t}:*" for t in tokens), search_type="raw", config="simple")
        vector = RawSQL('"knowledge_searchdocument"."search_vector"', [], output_field=SearchVectorField())
        pg_rows = candidates.annotate(vector=vector).filter(vector=query).annotate(
            rank=SearchRank(vector, query)).order_by("-rank", "-updated_at").values_list("pk", flat=True)[:limit]
        return list(pg_rows)
    if connection.vendor == "sqlite":
        from django.db.models.expressions import RawSQL

        match = " ".join(f'"{t}"*' for t in tokens)
        fts = ("SELECT {col} FROM knowledge_searchdocument_fts WHERE knowledge_searchdocument_fts MATCH %s")
        rank = RawSQL("(" + fts.format(col="bm25(knowledge_searchdocument_fts, 5.0, 1.0)")  # noqa: S611  # nosec B611
                      + ' AND rowid = "knowledge_searchdocument"."id")', [match])
        matching = RawSQL(fts.format(col="rowid"), [match])  # noqa: S611  # nosec B611 - MATCH text is a parameter
        sqlite_rows = candidates.filter(pk__in=matching).annotate(rank=rank).order_by(
            "rank", "-updated_at").values_list("pk", flat=True)[:limit]
        return list(sqlite_rows)
    # Other databases: a plain containment search, so the page still works.
    for token in tokens:
        candidates = candidates.filter(Q(title__icontains=token) | Q(body__icontains=token))
    return list(candidates.order_by("-updated_at").values_list("pk", flat=True)[:limit])


def snippet(body: str, tokens: list[str], width: int = 180) -> str:
    """Plain text around the first matched word."""
    text = " ".join(body.split())
    lower = text.lower()
    positions = [lower.find(t) for t in tokens if lower.find(t) >= 0]
    start = max(0, min(positions) - width // 3) if positions else 0
    piece = text[start:start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")


def search_knowledge(actor: Any, query: str, limit: int = 20) -> list[SearchHit]:
    """Runbooks and client documentation matching `query` that the actor may see, best first."""
    tokens = query_tokens(query)
    if not tokens or getattr(actor, "is_portal", True) or not has_capability(actor, "runbooks", "view"):
        return []
    candidates = SearchDocument.objects.visible_to(actor)
    ids = _matching_ids(tokens, candidates, limit)
    docs = {doc.pk: doc for doc in SearchDocument.objects.filter(pk__in=ids)}
    return [SearchHit(kind=docs[pk].kind, title=docs[pk].title, url=docs[pk].url,
                      snippet=snippet(docs[pk].body, tokens), updated_at=docs[pk].updated_at)
            for pk in ids if pk in docs]


def runbook_url(runbook_id: int) -> str:
    return reverse("knowledge:runbook_detail", args=[runbook_id])
