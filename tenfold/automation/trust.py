"""The signing keys' state as agents receive it: in the enrollment answer (active keys) and in every
check-in answer (active keys with their countersignatures, and the signed revocations).

Registered with `tenfold.agents.hooks` at start-up. The check-in's hot path must not query the database,
so each process keeps the state it last loaded and reloads it when the generation in the shared cache
changes (read at most once a second); a change of keys sets a new random generation after commit.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from django.core.cache import cache
from django.db import transaction

GENERATION_KEY = "automation:signing-keys-generation"
RECHECK_SECONDS = 1.0

_lock = threading.Lock()
# [generation, monotonic time the generation was read, the state for that generation]
_local: list[Any] = ["", 0.0, None]


def forget_local() -> None:
    """Drop this process's copy (after a change here, and between tests)."""
    with _lock:
        _local[:] = ["", 0.0, None]


def _generation() -> str:
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        value = cache.get(GENERATION_KEY, "")
    return str(value)


def _bump() -> None:
    forget_local()
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def bump_generation() -> None:
    """Make every process reload the keys once the current transaction commits."""
    transaction.on_commit(_bump)


def load_state() -> dict[str, Any] | None:
    """The state from the database: None when no key was ever registered."""
    from tenfold.automation.models import KeyStatus, SigningKey

    rows = list(SigningKey.objects.select_related("countersigned_by", "revoked_by_key").order_by("created_at", "pk"))
    if not rows:
        return None
    keys = [{"key_id": k.key_id, "public_key": k.public_key,
             "countersigned_by": k.countersigned_by.key_id if k.countersigned_by else None,
             "countersignature": k.countersignature or None}
            for k in rows if k.status == KeyStatus.ACTIVE]
    revoked = [{"key_id": k.key_id, "revoked_by": k.revoked_by_key.key_id if k.revoked_by_key else None,
                "signature": k.revocation_signature}
               for k in rows if k.status == KeyStatus.REVOKED]
    # Endorsements of keys that were revoked since still matter to an agent that trusts only an old key:
    # they are the chain from what it trusts to what is active now.
    chain = [{"key_id": k.key_id, "public_key": k.public_key,
              "countersigned_by": k.countersigned_by.key_id if k.countersigned_by else None,
              "countersignature": k.countersignature or None}
             for k in rows if k.status == KeyStatus.REVOKED and k.countersignature]
    return {"keys": keys + chain, "revoked": revoked}


def signing_keys() -> dict[str, Any] | None:
    """The provider registered with agents: this process's copy of the current generation's state."""
    now = time.monotonic()
    with _lock:
        if now - _local[1] > RECHECK_SECONDS:
            generation = _generation()
            if generation != _local[0]:
                _local[2] = load_state()
                _local[0] = generation
            _local[1] = now
        state: dict[str, Any] | None = _local[2]
        return state
