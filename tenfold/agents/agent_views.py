"""The agent endpoints under /agent/v1/ (docs/agent-protocol.md): plain Django views, no session,
no CSRF (agents authenticate by enrollment token or credential, never by cookie), JSON errors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from tenfold.agents import auth, fastpath, overload, protocol, services
from tenfold.core.context import client_ip, current_origin
from tenfold.core.errors import TenfoldError

logger = logging.getLogger("tenfold.agents")


def _error(status: int, code: str, message: str, errors: dict[str, list[str]] | None = None) -> JsonResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    return JsonResponse(body, status=status)


def agent_endpoint(view: Callable[[HttpRequest], JsonResponse]) -> Callable[[HttpRequest], JsonResponse]:
    """POST only, CSRF-exempt, never cached; domain and protocol errors become {code, message}."""

    @csrf_exempt
    @never_cache
    @wraps(view)
    def wrapper(request: HttpRequest) -> JsonResponse:
        if request.method != "POST":
            response = _error(405, "method_not_allowed", "Use POST.")
            response["Allow"] = "POST"
            return response
        try:
            return view(request)
        except protocol.ProtocolError as exc:
            return _error(422, "validation_error", exc.message, exc.errors)
        except TenfoldError as exc:
            return _error(exc.status, exc.code, str(exc.message), exc.errors or None)
        except DatabaseError:
            logger.exception("agent endpoint %s could not commit", request.path)
            response = _error(503, "unavailable", "The server cannot store data right now: retry later.")
            response["Retry-After"] = "30"
            return response

    return wrapper


def _ip(request: HttpRequest) -> str:
    return current_origin().ip or client_ip(request.META)


@agent_endpoint
def enroll(request: HttpRequest) -> JsonResponse:
    """POST /agent/v1/enroll: an enrollment token in, the device's own credential out."""
    payload = protocol.parse_enroll(request.body)
    enrollment = services.agent_enroll(token=payload.token, payload=payload, ip=_ip(request))
    return JsonResponse(services.enroll_answer(enrollment), status=201)


@agent_endpoint
def checkin(request: HttpRequest) -> JsonResponse:
    """POST /agent/v1/checkin: heartbeat, metrics, results, inventory, posture and job results in;
    the acknowledged seq, policy and pending jobs out (after commit). Over the process's in-flight limit:
    429 with Retry-After, nothing read or written (the WSGI lane, when the request came through it, has
    already taken the slot)."""
    if request.META.get(overload.ADMITTED_KEY):
        return _checkin(request)
    limiter = overload.checkin_limiter()
    with limiter.slot() as admitted:
        if admitted:
            return _checkin(request)
    response = JsonResponse(overload.REFUSAL, status=429)
    response["Retry-After"] = str(limiter.retry_after())
    return response


def _checkin(request: HttpRequest) -> JsonResponse:
    credential = auth.bearer_credential(request.headers.get("Authorization", ""))
    if credential is None:
        auth.authenticate(request)  # raises the 401
    try:
        payload = protocol.parse_checkin(request.body)
    except protocol.ProtocolError:
        auth.authenticate(request)  # an unknown caller hears 401, whatever its body
        raise
    answer = fastpath.checkin_fast(credential or "", payload, _ip(request))
    if answer is None:
        caller = auth.authenticate(request)
        answer = services.checkin_apply(caller=caller, checkin=payload, ip=_ip(request))
    return JsonResponse(answer)

