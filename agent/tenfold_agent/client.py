"""HTTP client of the agent protocol (`docs/agent-protocol.md`), on the standard library's urllib.

TLS certificates are always verified (against the system's CAs, or a CA file named at enrollment);
plain http:// is only for a loopback development server. Failures become typed exceptions that the
run loop turns into waits: `RetryLater` (429, wait Retry-After plus jitter), `ServerUnavailable`
(5xx, connection or TLS errors: exponential backoff with jitter up to 10 minutes) and
`CredentialRejected` (401: the agent stops). Nothing here touches the spool, so a failure never
loses an item: items leave the spool only when an answer acknowledges them.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import random
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from . import __version__

BACKOFF_BASE_S = 5.0
BACKOFF_CAP_S = 600.0
RETRY_AFTER_CAP_S = 3600.0
MAX_ANSWER_BYTES = 16 * 1024 * 1024


class ProtocolError(Exception):
    """An answer that is not a success; `code` and `message` come from the server's error body."""

    def __init__(self, status: int | None, code: str, message: str, errors: Any = None) -> None:
        super().__init__(f"{status or 'no answer'} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors


class ServerUnavailable(ProtocolError):
    """5xx, a connection or TLS failure, or an unreadable answer: back off and try again."""


class RetryLater(ProtocolError):
    """429: the server asks the agent to wait `retry_after` seconds (None when the header is absent or unusable)."""

    def __init__(self, status: int, code: str, message: str, retry_after: float | None) -> None:
        super().__init__(status, code, message)
        self.retry_after = retry_after


class CredentialRejected(ProtocolError):
    """401 on a check-in: the credential is revoked or unknown; the agent must be enrolled again."""

    @property
    def revoked(self) -> bool:
        """True when the server says the credential was revoked (rather than unknown)."""
        return self.code == "credential_revoked"


class EnrollmentRejected(ProtocolError):
    """The enrollment token was refused (unknown, expired, revoked or used up) or the request was invalid."""


class RequestTooLarge(ProtocolError):
    """413: the body was larger than the server accepts."""


class PayloadRejected(ProtocolError):
    """422: nothing was applied; `seqs` are the items the server named as invalid (maybe none)."""

    @property
    def seqs(self) -> list[int]:
        """Sequence numbers named in the error body's `errors`."""
        return rejected_seqs(self.errors)


def backoff_delay(
    attempt: int, rand: Callable[[], float] = random.random, base: float = BACKOFF_BASE_S, cap: float = BACKOFF_CAP_S
) -> float:
    """Seconds to wait after the `attempt`-th consecutive failure (0-based): exponential, jittered, capped."""
    ceiling = min(cap, base * 2 ** min(attempt, 32))
    # Half fixed and half random: agents that failed together spread out, yet none retries at once.
    return ceiling / 2 + rand() * ceiling / 2


def parse_retry_after(header: str | None, now: datetime | None = None) -> float | None:
    """Seconds named by a `Retry-After` header (delta-seconds or an HTTP-date), capped at an hour; None if unusable."""
    if header is None:
        return None
    text = header.strip()
    seconds: float
    if text.isdigit():
        seconds = float(text)
    else:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    return min(seconds, RETRY_AFTER_CAP_S)


def retry_after_delay(seconds: float, rand: Callable[[], float] = random.random) -> float:
    """The wait for a 429: what the server asked for, plus up to 10 % (at least 1 s) of jitter."""
    # Jitter so that every agent told "60" does not come back in the same second.
    return seconds + rand() * max(1.0, seconds * 0.1)


def rejected_seqs(errors: Any) -> list[int]:
    """The item seqs a 422 body names: `{"seq:103": […]}` (the server's form), `{"103": …}` or `[{"seq": 103}]`."""
    found: set[int] = set()
    if isinstance(errors, list):
        for entry in errors:
            if isinstance(entry, bool):
                continue
            if isinstance(entry, int):
                found.add(entry)
            elif isinstance(entry, dict) and isinstance(entry.get("seq"), int):
                found.add(entry["seq"])
    elif isinstance(errors, dict):
        for key, value in errors.items():
            text = key.removeprefix("seq:") if isinstance(key, str) else ""
            if text.isdigit():
                found.add(int(text))
            elif key in ("seq", "seqs") and isinstance(value, list):
                found.update(v for v in value if isinstance(v, int) and not isinstance(v, bool))
    return sorted(found)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A POST must not silently turn into a GET elsewhere: a redirect is reported as an error."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class AgentClient:
    """Talks to one Tenfold server: enrollment, then check-ins with the device's credential."""

    def __init__(
        self,
        server_url: str,
        credential: str | None = None,
        *,
        verify_tls: bool = True,
        ca_file: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.credential = credential
        self.timeout = timeout
        context = ssl.create_default_context(cafile=ca_file)
        if not verify_tls:
            # Reached only for an http:// loopback development server (config.check_server_url).
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _NoRedirect())

    def enroll(self, payload: dict[str, Any]) -> dict[str, Any]:
        """POST /agent/v1/enroll with an enrollment token; returns the 201 answer."""
        body = json.dumps(payload).encode("utf-8")
        try:
            return self._post("/agent/v1/enroll", body, auth=False)
        except (CredentialRejected, PayloadRejected) as exc:
            raise EnrollmentRejected(exc.status, exc.code, exc.message, exc.errors) from exc

    def checkin(self, body: bytes) -> dict[str, Any]:
        """POST /agent/v1/checkin with a body built by `payload.build_checkin`; returns the 200 answer."""
        return self._post("/agent/v1/checkin", body, auth=True)

    def _post(self, path: str, body: bytes, *, auth: bool) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "User-Agent": f"tenfold-agent/{__version__}"}
        if auth:
            if not self.credential:
                raise CredentialRejected(None, "credential_missing", "the agent has no credential: enroll it first")
            headers["Authorization"] = f"Bearer {self.credential}"
        # server_url was checked at enrollment: https, or http to a loopback address.
        request = urllib.request.Request(  # noqa: S310
            self.server_url + path, data=body, headers=headers, method="POST"
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                raw = response.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise self._error(exc) from exc
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ssl.SSLCertVerificationError):
                raise ServerUnavailable(None, "tls_verification_failed", str(reason)) from exc
            raise ServerUnavailable(None, "connection_failed", str(reason)) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise ServerUnavailable(None, "connection_failed", str(exc) or type(exc).__name__) from exc
        if len(raw) > MAX_ANSWER_BYTES:
            raise ServerUnavailable(None, "answer_too_large", "the server's answer exceeds 16 MiB")
        try:
            answer = json.loads(raw)
        except ValueError as exc:
            raise ServerUnavailable(None, "invalid_answer", "the server's answer is not JSON") from exc
        if not isinstance(answer, dict):
            raise ServerUnavailable(None, "invalid_answer", "the server's answer is not a JSON object")
        return answer

    def _error(self, exc: urllib.error.HTTPError) -> ProtocolError:
        status = exc.code
        try:
            raw = exc.read(64 * 1024)
        except OSError:
            raw = b""
        code, message, errors = f"http_{status}", exc.reason or "", None
        try:
            body = json.loads(raw)
            if isinstance(body, dict):
                code = str(body.get("code") or code)
                message = str(body.get("message") or message)
                errors = body.get("errors")
        except ValueError:
            pass  # a proxy's HTML error page: the status alone decides
        if status == 429:
            return RetryLater(status, code, message, parse_retry_after(exc.headers.get("Retry-After")))
        if status == 401:
            return CredentialRejected(status, code, message, errors)
        if status == 413:
            return RequestTooLarge(status, code, message, errors)
        if status == 422:
            return PayloadRejected(status, code, message, errors)
        if 300 <= status < 400:
            where = exc.headers.get("Location", "?")
            return ServerUnavailable(status, "unexpected_redirect", f"redirected to {where}: check the server URL")
        if status >= 500:
            return ServerUnavailable(status, code, message, errors)
        return ProtocolError(status, code, message, errors)
