"""The personal API token format: `tf_<prefix>_<secret>`, stored as the SHA-256 of the whole token."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

PREFIX_BYTES = 4  # 8 hex characters: the public, indexed part
SECRET_BYTES = 32
TOKEN_PATTERN = re.compile(r"^tf_(?P<prefix>[0-9a-f]{8})_(?P<secret>[A-Za-z0-9_-]{32,64})$")


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored for a token (tokens are random, so no salt or stretching is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh token and its prefix."""
    prefix = secrets.token_hex(PREFIX_BYTES)
    return f"tf_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}", prefix


def prefix_of(token: str) -> str | None:
    """The prefix of a well-formed token, or None."""
    match = TOKEN_PATTERN.match(token)
    return match.group("prefix") if match else None


def matches(token: str, stored_hash: str) -> bool:
    """Whether the token hashes to the stored value (constant time)."""
    return hmac.compare_digest(hash_token(token), stored_hash)
