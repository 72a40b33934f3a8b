"""Check-in bodies: at most 500 items and 1 MiB, oldest first, as large as the limits allow."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from tenfold_agent.payload import MAX_BODY_BYTES, build_checkin
from tenfold_agent.spool import MIB, SpoolItem, encode_item

ENVELOPE = {"agent_version": "0.1.0", "policy_version": "c0ffee", "sent_at": "2026-11-26T16:01:00Z"}


def _item(seq: int, text: str, kind: str = "check_result") -> SpoolItem:
    data = {"check_id": seq, "status": "pass", "value": 1.5, "message": text}
    return SpoolItem(seq, kind, "2026-11-26T16:00:00Z", data, len(encode_item(seq, kind, "2026-11-26T16:00:00Z", data)))


def test_body_is_the_protocol_envelope() -> None:
    body = build_checkin([_item(1, "ok"), _item(2, "é")], **ENVELOPE)
    decoded = json.loads(body.body)
    assert decoded == {**ENVELOPE, "items": [
        {"seq": 1, "kind": "check_result", "at": "2026-11-26T16:00:00Z",
         "data": {"check_id": 1, "status": "pass", "value": 1.5, "message": "ok"}},
        {"seq": 2, "kind": "check_result", "at": "2026-11-26T16:00:00Z",
         "data": {"check_id": 2, "status": "pass", "value": 1.5, "message": "é"}},
    ]}
    assert body.last_seq == 2


def test_empty_body() -> None:
    body = build_checkin([], **ENVELOPE)
    assert json.loads(body.body)["items"] == [] and body.last_seq is None


def test_at_most_500_items() -> None:
    items = [_item(i, "x") for i in range(1, 1201)]
    body = build_checkin(items, **ENVELOPE)
    assert len(body.items) == 500 and body.items[-1].seq == 500
    assert len(json.loads(body.body)["items"]) == 500


def test_at_most_one_mebibyte() -> None:
    items = [_item(i, "y" * 100_000) for i in range(1, 30)]
    body = build_checkin(items, **ENVELOPE)
    assert len(body.body) <= MIB
    assert len(body.items) == 10  # each item is ~100 kB: the eleventh does not fit
    assert len(body.body) + items[10].size + 1 > MIB


@given(
    texts=st.lists(st.text(max_size=4000), max_size=80),
    max_items=st.integers(1, 600),
    max_bytes=st.integers(200, 60_000),
)
def test_body_is_the_largest_prefix_within_limits(texts: list[str], max_items: int, max_bytes: int) -> None:
    items = [_item(i + 1, t) for i, t in enumerate(texts)]
    body = build_checkin(items, **ENVELOPE, max_items=max_items, max_bytes=max_bytes)
    assert len(body.body) <= max_bytes
    assert len(body.items) <= max_items
    assert body.items == items[: len(body.items)]  # a prefix, oldest first
    decoded = json.loads(body.body)
    assert [i["seq"] for i in decoded["items"]] == [i.seq for i in body.items]
    assert [i["data"]["message"] for i in decoded["items"]] == [i.data["message"] for i in body.items]
    n = len(body.items)
    if n < min(len(items), max_items):
        # The next item would not have fitted: the body is as large as it may be.
        grown = build_checkin(items[: n + 1], **ENVELOPE, max_items=n + 1, max_bytes=10**9)
        assert len(grown.body) > max_bytes


def test_default_limit_is_one_mebibyte() -> None:
    assert MAX_BODY_BYTES == 1024 * 1024
