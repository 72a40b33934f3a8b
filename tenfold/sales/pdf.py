"""Quote PDFs: the quote page's own document template rendered by WeasyPrint, with the print stylesheet Tenfold
serves itself. Nothing is fetched from the network: the only resources a quote may load are Tenfold's static
files, read from disk."""

from __future__ import annotations

import mimetypes
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils.translation import gettext as _


def _static_fetcher() -> Any:
    from weasyprint import URLFetcher
    from weasyprint.urls import URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):  # type: ignore[misc]
        """Serves /static/… from the static files finders; refuses every other URL."""

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            path = urlsplit(url).path
            if not path.startswith(settings.STATIC_URL):
                raise ValueError(f"a quote PDF loads only Tenfold's static files, not {url}")
            relative = path[len(settings.STATIC_URL):]
            if ".." in relative.split("/"):
                raise ValueError(f"refused static path {relative}")
            found = finders.find(relative)
            if not found or isinstance(found, list):
                raise ValueError(f"no static file {relative}")
            with open(found, "rb") as handle:
                body = handle.read()
            kind = mimetypes.guess_type(found)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body=body, headers={"Content-Type": kind})

    return StaticOnlyFetcher()


def quote_pdf(context: dict[str, Any], *, base_url: str) -> bytes:
    """The quote document (`sales/quote_pdf.html`, which includes the page's `sales/quote_document.html`) as PDF."""
    import weasyprint

    html = render_to_string("sales/quote_pdf.html", {**context, "pdf_title": _("Quote")})
    pdf: bytes = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=_static_fetcher()).write_pdf()
    return pdf
