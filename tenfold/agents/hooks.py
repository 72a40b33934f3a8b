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
