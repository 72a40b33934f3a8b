"""The spool: durable, ordered, bounded, and honest about what it dropped."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tenfold_agent.spool import ItemTooLarge, Spool, encode_item


def test_seq_survives_a_restart_and_ack_deletes_up_to_it(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    spool = Spool(path)
    seqs = [spool.put("metrics", {"cpu_pct": float(i)}) for i in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    spool.close()

    spool = Spool(path)
    assert [i.seq for i in spool.pending()] == [1, 2, 3, 4, 5]
    assert spool.pending()[2].data == {"cpu_pct": 2.0}
    assert spool.ack(3) == 3
    assert [i.seq for i in spool.pending()] == [4, 5]
    assert spool.put("heartbeat", {"uptime_s": 1}) == 6
    spool.ack(6)
    spool.close()

    # Everything acknowledged: the next number still continues, it is not derived from the rows left.
    spool = Spool(path)
    assert spool.count() == 0
    assert spool.put("metrics", {}) == 7
    spool.close()


def test_database_is_wal_with_full_sync(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db")
    assert spool._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert spool._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    spool.close()


def test_committed_items_are_visible_to_another_connection(tmp_path: Path) -> None:
    """What put() returned is committed, not sitting in an open transaction."""
    spool = Spool(tmp_path / "s.db")
    spool.put("job_result", {"job_id": 1, "status": "failed"})
    other = sqlite3.connect(str(tmp_path / "s.db"))
    assert other.execute("SELECT seq, kind FROM items").fetchall() == [(1, "job_result")]
    other.close()
    spool.close()


def _size(kind: str, data: dict, seq: int = 1) -> int:
    return len(encode_item(seq, kind, "2026-11-26T16:00:00Z", data))


def _padded(kind: str, size: int = 100) -> dict:
    """Data that makes an item of `kind` exactly `size` bytes with a one-digit seq."""
    return {"p": "x" * (size - _size(kind, {"p": ""}))}


AT = "2026-11-26T16:00:00Z"


def test_size_bound_drops_metrics_first_then_heartbeats_never_job_results(tmp_path: Path) -> None:
    # Six items of 100 bytes fit (two-digit seqs add a byte each: the slack covers it), seven do not.
    spool = Spool(tmp_path / "s.db", max_bytes=6 * 100 + 10)
    for kind in ("job_result", "heartbeat", "metrics", "heartbeat", "metrics", "check_result"):
        spool.put(kind, _padded(kind), at=AT)  # seqs 1 to 6
    assert spool.count() == 6 and spool.dropped() == {}
    spool.put("check_result", _padded("check_result"), at=AT)  # seq 7: the oldest metrics goes
    assert [i.seq for i in spool.pending()] == [1, 2, 4, 5, 6, 7]
    spool.put("check_result", _padded("check_result"), at=AT)  # seq 8: the other metrics goes
    assert [i.seq for i in spool.pending()] == [1, 2, 4, 6, 7, 8]
    spool.put("check_result", _padded("check_result"), at=AT)  # seq 9: then the oldest heartbeat
    assert [i.seq for i in spool.pending()] == [1, 4, 6, 7, 8, 9]
    assert spool.dropped() == {"dropped:metrics": 2, "dropped:heartbeat": 1}
    assert spool.unreported_dropped() == 3
    for _ in range(20):
        spool.put("job_result", _padded("job_result"), at=AT)
    # Only job results are left, and every one of them is kept even over the bound.
    assert [i.kind for i in spool.pending(limit=1000)] == ["job_result"] * 21
    assert spool.dropped()["dropped:check_result"] == 4 and spool.dropped()["dropped:heartbeat"] == 2
    spool.close()


def test_next_heartbeat_reports_dropped_and_a_dropped_heartbeat_hands_its_count_on(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_bytes=3 * 100 + 10)
    for _ in range(5):
        spool.put("metrics", _padded("metrics"), at=AT)
    assert spool.unreported_dropped() == 2
    seq = spool.put_heartbeat({"uptime_s": 5}, at=AT)  # 6; its arrival drops one more metrics
    heartbeat = next(i for i in spool.pending() if i.seq == seq)
    assert heartbeat.data == {"uptime_s": 5, "dropped": 2}
    assert spool.unreported_dropped() == 1
    spool.ack(seq - 1)  # the metrics are delivered; the heartbeat waits
    for _ in range(3):
        spool.put("check_result", _padded("check_result"), at=AT)
    # Three check results and the heartbeat do not fit: the heartbeat goes, and with it the 2 it carried.
    assert [i.kind for i in spool.pending()] == ["check_result"] * 3
    assert spool.unreported_dropped() == 1 + 2 + 1
    spool.close()


def test_age_bound_drops_old_items_except_job_results(tmp_path: Path) -> None:
    now = [1000.0]
    spool = Spool(tmp_path / "s.db", max_age_s=100, clock=lambda: now[0])
    spool.put("metrics", {})
    spool.put("job_result", {"job_id": 1})
    spool.put("inventory", {})
    now[0] = 1200.0
    spool.put("heartbeat", {})
    assert [(i.seq, i.kind) for i in spool.pending()] == [(2, "job_result"), (4, "heartbeat")]
    assert spool.dropped() == {"dropped:metrics": 1, "dropped:inventory": 1}
    spool.close()


def test_pending_respects_limit_and_bytes_oldest_first(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db")
    for n in range(10):
        spool.put("metrics", {"n": n}, at="2026-11-26T16:00:00Z")
    size = spool.pending()[0].size
    assert [i.seq for i in spool.pending(limit=3)] == [1, 2, 3]
    # Two items and the comma between them fit, a third does not.
    assert [i.seq for i in spool.pending(max_bytes=size * 2 + 1)] == [1, 2]
    assert [i.seq for i in spool.pending(max_bytes=size * 2)] == [1]
    spool.close()


def test_oversized_item_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_item_bytes=200)
    with pytest.raises(ItemTooLarge):
        spool.put("inventory", {"software": "x" * 500})
    assert spool.count() == 0
    assert spool.put("metrics", {}) == 1  # the refused item did not use a number
    spool.close()


def test_discard_counts_rejected_items(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db")
    for _ in range(3):
        spool.put("check_result", {})
    assert spool.discard([2, 99]) == 1
    assert [i.seq for i in spool.pending()] == [1, 3]
    assert spool.dropped() == {"rejected:check_result": 1}
    spool.close()


def test_ack_above_last_seq_renumbers_pending_items(tmp_path: Path) -> None:
    """A server high-water mark above this spool (a wiped state dir) must not swallow new items."""
    spool = Spool(tmp_path / "s.db")
    spool.put("metrics", {"a": 1})
    spool.put("job_result", {"job_id": 5})
    assert spool.ack(500) == 0
    items = spool.pending()
    assert [(i.seq, i.kind, i.data) for i in items] == [(501, "metrics", {"a": 1}), (502, "job_result", {"job_id": 5})]
    assert items[0].size == len(encode_item(501, "metrics", items[0].at, {"a": 1}))
    assert spool.put("heartbeat", {}) == 503
    spool.close()


def test_jobs_are_remembered(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db")
    assert not spool.job_seen("12")
    spool.job_record("12", "reboot", "failed")
    assert spool.job_seen("12")
    spool.close()


KIND = st.sampled_from(["metrics", "heartbeat", "check_result", "posture", "inventory", "job_result"])
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("put"), KIND, st.integers(0, 120)),
        st.tuples(st.just("ack"), st.integers(0, 3), st.just(0)),
        st.tuples(st.just("reopen"), st.just(""), st.just(0)),
    ),
    max_size=60,
)


@given(ops=OPS)
def test_spool_invariants_under_any_sequence_of_operations(tmp_path_factory: pytest.TempPathFactory, ops: list) -> None:
    """Seqs strictly increase across reopens; pending is oldest first; the size bound holds except for
    job results; no job result is ever lost; dropped counts add up."""
    path = tmp_path_factory.mktemp("spool") / "s.db"
    max_bytes = 1500
    spool = Spool(path, max_bytes=max_bytes)
    last = 0
    acked = 0
    job_results: set[int] = set()
    put_count = 0
    for op, arg, size in ops:
        if op == "put":
            seq = spool.put(arg, {"pad": "x" * size})
            assert seq > last
            last = seq
            put_count += 1
            if arg == "job_result":
                job_results.add(seq)
        elif op == "ack":
            items = spool.pending()
            if items:
                acked_seq = items[min(arg, len(items) - 1)].seq
                spool.ack(acked_seq)
                acked = max(acked, acked_seq)
                job_results = {s for s in job_results if s > acked_seq}
        else:
            spool.close()
            spool = Spool(path, max_bytes=max_bytes)
        pending = spool.pending(limit=10_000, max_bytes=10**9)
        seqs = [i.seq for i in pending]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        assert all(s > acked for s in seqs)
        assert job_results <= set(seqs)
        non_job_bytes = sum(i.size for i in pending if i.kind != "job_result")
        if non_job_bytes:
            assert spool.total_bytes() <= max_bytes
    assert spool.last_seq() == last
    delivered_or_waiting = put_count - sum(spool.dropped().values())
    assert delivered_or_waiting >= spool.count()
    spool.close()
