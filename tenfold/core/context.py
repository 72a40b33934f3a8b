"""Where the current request comes from, for the audit log (set by RequestContextMiddleware)."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class RequestOrigin:
    """The network origin of the current request and the API token used, if any."""

    ip: str = ""
    user_agent: str = ""
    token_id: int | None = None


_NO_ORIGIN = RequestOrigin()
_origin: ContextVar[RequestOrigin] = ContextVar("tenfold_request_origin", default=_NO_ORIGIN)


def current_origin() -> RequestOrigin:
    """The origin of the request being served (empty outside a request)."""
    return _origin.get()


def set_origin(origin: RequestOrigin) -> object:
    """Set the origin; returns a token for reset_origin."""
    return _origin.set(origin)


def reset_origin(token: object) -> None:
    """Restore the origin that was current before set_origin."""
    _origin.reset(token)  # type: ignore[arg-type]


def client_ip(meta: Mapping[str, Any]) -> str:
    """The caller's address from a WSGI environ or `request.META`: behind a TLS-terminating proxy
    (SECURE_PROXY_SSL_HEADER set), the first address of X-Forwarded-For."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return str(forwarded.split(",")[0].strip())
    return str(meta.get("REMOTE_ADDR", ""))
