"""Markdown to safe HTML: markdown-it renders (raw HTML off), nh3 then keeps only an allow-list of tags,
attributes and URL schemes, so a runbook or a client's documentation can never carry a script."""

from __future__ import annotations

from functools import lru_cache

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset({
    "a", "abbr", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "img",
    "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
})
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align", "style"},
    "td": {"align", "style"},
    "ol": {"start"},
    "code": {"class"},
}
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
MAX_MARKDOWN_LENGTH = 200_000


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # "js-default" is CommonMark with raw HTML disabled, plus tables and strikethrough.
    return MarkdownIt("js-default", {"linkify": False, "typographer": False}).enable(["table", "strikethrough"])


def sanitize_html(html: str) -> str:
    """Keep only the allowed tags, attributes and URL schemes; links get rel="noopener noreferrer"."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        filter_style_properties={"text-align"},
    )


def render_markdown(text: str) -> SafeString:
    """Markdown as sanitized HTML, safe to put in a page (scripts, event handlers, javascript: URLs gone)."""
    html = _parser().render(text or "")
    return mark_safe(sanitize_html(html))  # noqa: S308  # nosec B308 B703 - sanitized by nh3 just above
