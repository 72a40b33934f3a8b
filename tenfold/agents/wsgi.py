"""The check-in ahead of Django's request handling.

`CheckinFastLane` wraps the WSGI application. A `POST /agent/v1/checkin` with a well-formed credential,
a body within the size limit and a valid check-in that the fast path can take is answered here,
without middleware, URL routing or the per-request connection health check (the thread keeps its
database connection; a broken one is closed and the request handed on). Everything else, including
every error answer, goes to Django's view, which gives the same answers it always gave: the body
already read is handed on with the request.

Every check-in, whichever path answers it, first takes a slot of this process's check-in limiter
(`tenfold.agents.overload`): over the limit it is answered `429` with `Retry-After` at once, before its
body is read, its credential looked up or anything written.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection

from tenfold.agents import fastpath, overload, protocol
from tenfold.agents.auth import bearer_credential
from tenfold.core.context import client_ip

logger = logging.getLogger("tenfold.agents")

CHECKIN_PATH = "/agent/v1/checkin"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
HEADERS = [("Content-Type", "application/json"), ("Cache-Control", "no-store, max-age=0"),
           ("X-Content-Type-Options", "nosniff")]


class CheckinFastLane:
    """WSGI middleware: the common check-in answered before Django; the rest passed to `app`."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != CHECKIN_PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        limiter = overload.checkin_limiter()
        started = limiter.try_enter()
        if started is None:
            status, headers, body = overload.refusal(limiter)
            start_response(status, headers)
            return [body]
        try:
            # Django's view must not take a second slot for this check-in.
            environ[overload.ADMITTED_KEY] = True
            return self._checkin(environ, start_response)
        finally:
            # Django builds the whole (JSON) answer inside the call: the work is done when it returns.
            limiter.leave(started)

    def _checkin(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        credential = bearer_credential(environ.get("HTTP_AUTHORIZATION", ""))
        try:
            length = int(environ.get("CONTENT_LENGTH") or "-1")
        except ValueError:
            length = -1
        if credential is None or not 0 <= length <= settings.TENFOLD_MAX_REQUEST_BYTES:
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(length)
        answer = self._answer(credential, body, environ)
        if answer is None:
            environ["wsgi.input"] = io.BytesIO(body)
            return self.app(environ, start_response)
        data = json.dumps(answer, separators=(",", ":")).encode()
        start_response("200 OK", [*HEADERS, ("Content-Length", str(len(data)))])
        return [data]

    @staticmethod
    def _answer(credential: str, body: bytes, environ: dict[str, Any]) -> dict[str, Any] | None:
        try:
            checkin = protocol.parse_checkin(body)
        except protocol.ProtocolError:
            return None  # Django's view answers with the errors (or 401 to an unknown caller)
        try:
            return fastpath.checkin_fast(credential, checkin, client_ip(environ))
        except DatabaseError:
            # A connection the server closed, a database restarting: Django's view reconnects and
            # answers 503 if the database is really away. Items written before the error are deduplicated.
            logger.warning("check-in fast lane: database error, handing the check-in to the full path",
                           exc_info=True)
            connection.close()
            return None
