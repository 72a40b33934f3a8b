"""Search providers: a seam through which higher apps (the service desk's tickets) add results to the
search page without knowledge importing them, like `tenfold/agents/hooks.py`.

A provider is `provider(actor, query, limit) -> list[SearchHit]` and must return only what the actor
may see. Knowledge registers its own provider (runbooks and client documentation) in its `apps.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class SearchHit:
    """One result: what it is (e.g. "runbook", "client_doc", "ticket"), its title, link, a plain-text
    snippet around the match, and when it last changed."""

    kind: str
    title: str
    url: str
    snippet: str
    updated_at: datetime | None


SearchProvider = Callable[[Any, str, int], "list[SearchHit]"]

_providers: dict[str, SearchProvider] = {}


def register_search_provider(name: str, provider: SearchProvider) -> None:
    """Add (or replace, by name) a provider of search results."""
    _providers[name] = provider


def unregister_search_provider(name: str) -> None:
    """Remove a provider (tests)."""
    _providers.pop(name, None)


def search_providers() -> dict[str, SearchProvider]:
    """The registered providers, by name."""
    return dict(_providers)


def search_everything(actor: Any, query: str, limit: int = 20) -> list[SearchHit]:
    """Every provider's hits for `query`, grouped by provider in registration order (each at most `limit`)."""
    hits: list[SearchHit] = []
    for provider in _providers.values():
        hits.extend(provider(actor, query, limit)[:limit])
    return hits
