"""The main navigation: each app registers its entries with the capability that shows them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse

from tenfold.core.roles import has_capability


@dataclass(frozen=True)
class NavItem:
    """A navigation entry shown to users whose role may `view` the capability."""

    key: str
    label: Any
    url_name: str
    capability: str
    order: int = 100
    portal: bool = False
    icon: str = ""
    visible: Callable[[Any], bool] | None = None


_items: dict[str, NavItem] = {}


def register(item: NavItem) -> None:
    """Add (or replace) a navigation entry."""
    _items[item.key] = item


def navigation_for(user: Any, path: str) -> list[dict[str, Any]]:
    """The entries this user may see, in order, with the current one marked."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    is_portal = bool(getattr(user, "is_portal", False))
    result = []
    for item in sorted(_items.values(), key=lambda i: (i.order, i.key)):
        if item.portal != is_portal or not has_capability(user, item.capability, "view"):
            continue
        if item.visible is not None and not item.visible(user):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        result.append({"key": item.key, "label": item.label, "url": url, "icon": item.icon,
                       "active": path == url if url == "/" else path.startswith(url)})
    return result


HomeCard = Callable[[Any], "dict[str, Any] | None"]
_home_cards: list[HomeCard] = []


def register_home_card(provider: HomeCard) -> None:
    """Add a dashboard figure: the provider returns {label, value, url} for a user, or None to hide it."""
    if provider not in _home_cards:
        _home_cards.append(provider)


def home_cards_for(user: Any) -> list[dict[str, Any]]:
    """The dashboard figures this user may see."""
    return [card for provider in _home_cards if (card := provider(user)) is not None]
