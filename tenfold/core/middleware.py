"""Request-level guards: size limit, security headers (strict CSP), request origin for the audit log."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from tenfold.core.context import RequestOrigin, client_ip, reset_origin, set_origin

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
# Swagger UI sets inline style attributes; its page runs no inline script.
CSP_API_DOCS = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


class RequestSizeLimitMiddleware:
    """Refuse bodies over TENFOLD_MAX_REQUEST_BYTES with 413 before anything reads them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.TENFOLD_MAX_REQUEST_BYTES
        length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            size = int(length)
        except ValueError:
            size = -1
        if size < 0 or size > limit:
            message = _("The request body is larger than %(limit)s bytes.") % {"limit": limit}
            if size < 0:
                message = _("The Content-Length header is not a number.")
            return JsonResponse({"code": "request_too_large" if size >= 0 else "bad_request",
                                 "message": message}, status=413 if size >= 0 else 400)
        return self.get_response(request)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class NulCharacterMiddleware:
    """Refuse a NUL character in a query string (`%00`) or in a form field with 400 before any view reads it:
    PostgreSQL can neither store nor compare text holding one, so a search or a note carrying it would fail at
    the database (a 500 the schema run found). Forms built on Django's fields refuse it already; this also covers
    the views that read a single posted value, and every list's `?q=`. JSON bodies are the API schemas' (422)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:
            return _bad_request(_("Query parameters cannot contain NUL characters."))
        if request.method == "POST" and request.content_type in FORM_TYPES:
            # The body first (bounded by RequestSizeLimitMiddleware, at DATA_UPLOAD_MAX_MEMORY_SIZE): parsing a
            # multipart form from the stream would leave no body for a view that reads it (a JSON endpoint sent a
            # form answers its own 4xx).
            request.body  # noqa: B018
            if any("\x00" in key or any("\x00" in value for value in values) for key, values in request.POST.lists()):
                return _bad_request(_("Form fields cannot contain NUL characters."))
        return self.get_response(request)


def _bad_request(message: str) -> HttpResponse:
    return JsonResponse({"code": "bad_request", "message": message}, status=400)


class SecurityHeadersMiddleware:
    """Content-Security-Policy without unsafe-inline, and a restrictive Permissions-Policy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        csp = CSP_API_DOCS if request.path.startswith("/api/v1/docs") else CSP
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), usb=()")
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


class RequestContextMiddleware:
    """Remember the client address and user agent for audit rows written during the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        origin = RequestOrigin(ip=client_ip(request.META), user_agent=request.META.get("HTTP_USER_AGENT", ""))
        token = set_origin(origin)
        try:
            return self.get_response(request)
        finally:
            reset_origin(token)


class DomainErrorMiddleware:
    """Pages raise domain errors like services do; they become the 404 and 403 pages here."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from tenfold.core.errors import NotFound, PermissionDenied
        from tenfold.core.views import error_403, error_404

        if isinstance(exception, NotFound):
            return error_404(request, exception)
        if isinstance(exception, PermissionDenied):
            return error_403(request, exception)
        return None
