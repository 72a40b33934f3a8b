"""Authentication of agent requests by credential, with a small per-process cache.

The cache maps a credential prefix to its hash, device and client for a few seconds
(`TENFOLD_AGENT_CREDENTIAL_CACHE_SECONDS`, 5 by default), so a burst of check-ins (an agent
delivering its spool) costs no credential query, and a revocation takes effect within seconds in
every process. Revoking in this process also drops the entry at once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tenfold.agents import secrets
from tenfold.agents.models import AgentCredential
from tenfold.core.errors import TenfoldError

MAX_ENTRIES = 20_000


class AgentAuthError(TenfoldError):
    """The request's credential is missing, unknown, wrong or revoked."""

    code = "credential_invalid"
    status = 401
    default_message = _("The agent credential is not valid.")


def credential_revoked() -> AgentAuthError:
    return AgentAuthError(_("This agent's credential was revoked: enroll the device again."),
                          code="credential_revoked")


@dataclass(frozen=True)
class AuthenticatedAgent:
    """Who is calling: the credential and the device and client it belongs to (never from the payload)."""

    credential_id: int
    prefix: str
    secret_hash: str
    device_id: int
    client_id: int
    revoked: bool
    last_used_at: datetime | None
    loaded_at: float


_cache: OrderedDict[str, AuthenticatedAgent] = OrderedDict()
_lock = threading.Lock()


def ttl_seconds() -> float:
    return float(getattr(settings, "TENFOLD_AGENT_CREDENTIAL_CACHE_SECONDS", 5))


def cache_clear() -> None:
    """Forget every cached credential (tests, and after a revocation in this process)."""
    with _lock:
        _cache.clear()


def forget(prefix: str) -> None:
    """Drop one credential from this process's cache."""
    with _lock:
        _cache.pop(prefix, None)


def remember_used(entry: AuthenticatedAgent, at: datetime) -> None:
    """Note that the credential's first use or last-used time was written."""
    with _lock:
        if entry.prefix in _cache:
            _cache[entry.prefix] = replace(entry, last_used_at=at)


def _load(prefix: str) -> AuthenticatedAgent | None:
    now = time.monotonic()
    with _lock:
        entry = _cache.get(prefix)
        if entry is not None and now - entry.loaded_at < ttl_seconds():
            _cache.move_to_end(prefix)
            return entry
    row = (AgentCredential.objects.filter(prefix=prefix)
           .values_list("pk", "secret_hash", "device_id", "client_id", "revoked_at", "last_used_at").first())
    if row is None:
        return None
    pk, secret_hash, device_id, client_id, revoked_at, last_used_at = row
    entry = AuthenticatedAgent(pk, prefix, secret_hash, device_id, client_id, revoked_at is not None,
                               last_used_at, now)
    with _lock:
        _cache[prefix] = entry
        _cache.move_to_end(prefix)
        while len(_cache) > MAX_ENTRIES:
            _cache.popitem(last=False)
    return entry


def bearer_credential(header: str) -> str | None:
    """The `tfa_…` credential of an `Authorization: Bearer` header when it is well formed."""
    scheme, _sep, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or secrets.prefix_of(value, secrets.CREDENTIAL) is None:
        return None
    return value


def authenticate(request: HttpRequest) -> AuthenticatedAgent:
    """The agent behind `Authorization: Bearer tfa_…`, or AgentAuthError (401)."""
    value = bearer_credential(request.headers.get("Authorization", ""))
    prefix = secrets.prefix_of(value, secrets.CREDENTIAL) if value is not None else None
    if value is None or prefix is None:
        raise AgentAuthError()
    entry = _load(prefix)
    # Unknown prefix and wrong secret answer alike; "revoked" is said only to the holder of the secret.
    if entry is None or not secrets.matches(value, entry.secret_hash):
        raise AgentAuthError()
    if entry.revoked:
        raise credential_revoked()
    return entry
