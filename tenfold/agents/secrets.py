"""Formats of enrollment tokens (`tfe_<prefix>_<secret>`) and agent credentials (`tfa_<prefix>_<secret>`).

Both are stored as the SHA-256 of the whole string: they are random, so no salt or stretching is needed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

_PATTERN = re.compile(r"^(?P<kind>tf[ea])_(?P<prefix>[0-9a-f]{8})_(?P<secret>[A-Za-z0-9_-]{32,64})$")
ENROLLMENT, CREDENTIAL = "tfe", "tfa"


def hash_secret(value: str) -> str:
    """The SHA-256 hex digest stored for a token or credential."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def new_secret(kind: str) -> tuple[str, str]:
    """A fresh `tfe_…` or `tfa_…` string and its prefix."""
    prefix = secrets.token_hex(4)
    return f"{kind}_{prefix}_{secrets.token_urlsafe(32)}", prefix


def prefix_of(value: str, kind: str) -> str | None:
    """The prefix of a well-formed string of this kind, or None."""
    match = _PATTERN.match(value) if len(value) <= 120 else None
    if match is None or match.group("kind") != kind:
        return None
    return match.group("prefix")


def matches(value: str, stored_hash: str) -> bool:
    """Whether the value hashes to the stored digest (constant time)."""
    return hmac.compare_digest(hash_secret(value), stored_hash)
