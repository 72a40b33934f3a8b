"""Builds check-in request bodies from spooled items within the protocol's limits (500 items, 1 MiB)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from .spool import MIB, SpoolItem, encode_item

MAX_ITEMS = 500
MAX_BODY_BYTES = MIB


@dataclass(frozen=True)
class CheckinBody:
    """One request body and the items it carries (a prefix of what was offered, in order)."""

    body: bytes
    items: list[SpoolItem]

    @property
    def last_seq(self) -> int | None:
        """The highest seq in the body, or None when it carries no item."""
        return self.items[-1].seq if self.items else None


def envelope_overhead(agent_version: str, policy_version: str, sent_at: str) -> int:
    """The size of a body that carries no item."""
    return len(_envelope(agent_version, policy_version, sent_at, b""))


def build_checkin(
    items: Sequence[SpoolItem],
    *,
    agent_version: str,
    policy_version: str,
    sent_at: str,
    max_items: int = MAX_ITEMS,
    max_bytes: int = MAX_BODY_BYTES,
) -> CheckinBody:
    """The largest prefix of `items` (oldest first) whose body stays within `max_items` and `max_bytes`."""
    budget = max_bytes - envelope_overhead(agent_version, policy_version, sent_at)
    chosen: list[SpoolItem] = []
    encoded: list[bytes] = []
    used = 0
    for item in items[:max_items]:
        blob = encode_item(item.seq, item.kind, item.at, item.data)
        cost = len(blob) + (1 if encoded else 0)
        if used + cost > budget:
            break
        used += cost
        chosen.append(item)
        encoded.append(blob)
    return CheckinBody(_envelope(agent_version, policy_version, sent_at, b",".join(encoded)), chosen)


def _envelope(agent_version: str, policy_version: str, sent_at: str, items_json: bytes) -> bytes:
    head = json.dumps(
        {"agent_version": agent_version, "policy_version": policy_version, "sent_at": sent_at},
        separators=(",", ":"), ensure_ascii=False,
    ).encode("utf-8")
    # The items are spliced in already encoded, so each is serialized once.
    return head[:-1] + b',"items":[' + items_json + b"]}"
