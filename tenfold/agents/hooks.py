"""Hooks through which a higher app feeds the check-in answer without agents importing it (rule 2).

monitoring registers the provider of a device's policy in its `apps.py`; the check-in answer asks
`policy_for_device(device)` and sends the policy only when its version differs from the agent's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PolicyProvider = Callable[[Any], "tuple[str, dict[str, Any]]"]

_provider: PolicyProvider | None = None


def register_policy_provider(func: PolicyProvider) -> None:
    """Set the function that returns `(version, policy)` for a device (the last registration wins)."""
    global _provider
    _provider = func


def policy_for_device(device: Any) -> tuple[str, dict[str, Any]] | None:
    """The device's current policy as `(version, policy)`, or None when no provider is registered.

    `device` is a device id, or a Device (or anything with its `pk`, `client_id`, `site_id` and `os_family`)."""
    if _provider is None:
        return None
    return _provider(device)


# The MSP's script-signing keys, for the enrollment and check-in answers. automation registers the
# provider; it returns None when no key exists, else
# `{"keys": [{"key_id", "public_key", "countersigned_by", "countersignature"}], "revoked": [{"key_id",
# "revoked_by", "signature"}]}` from a per-process cache (no SQL on the check-in's hot path).
SigningKeysProvider = Callable[[], "dict[str, Any] | None"]

_signing_keys_provider: SigningKeysProvider | None = None


def register_signing_keys_provider(func: SigningKeysProvider) -> None:
    """Set the function that returns the signing keys' state (the last registration wins)."""
    global _signing_keys_provider
    _signing_keys_provider = func


def signing_keys() -> dict[str, Any] | None:
    """The active signing keys and the signed revocations, or None (no key, or no provider)."""
    if _signing_keys_provider is None:
        return None
    return _signing_keys_provider()
