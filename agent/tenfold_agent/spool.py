"""The offline spool: every collected item is written here (durably) before it is sent.

SQLite in WAL mode with `synchronous=FULL`, so an item that `put` returned is on disk. Each item gets a
sequence number, strictly increasing and kept across restarts; the server acknowledges the highest one
it applied, and `ack` deletes everything at or below it. The spool is bounded by size and age; when a
bound is crossed it drops the least important items first (metrics, then heartbeats, then older
check results, posture and inventory), never a job result, and counts what it dropped so that the
next heartbeat can report it.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from .util import iso, log, utcnow

# Lower is dropped first. A kind that is absent here is never dropped.
DROP_PRIORITY: dict[str, int] = {"metrics": 0, "heartbeat": 1, "check_result": 2, "posture": 3, "discovery": 3,
                                  "updates": 4, "inventory": 4}
NEVER_DROPPED = frozenset({"job_result"})
KINDS = frozenset(DROP_PRIORITY) | NEVER_DROPPED

MIB = 1024 * 1024
DEFAULT_MAX_BYTES = 64 * MIB
DEFAULT_MAX_AGE_S = 14 * 24 * 3600
# One item must fit in one check-in request (1 MiB) together with the envelope.
DEFAULT_MAX_ITEM_BYTES = MIB - 16 * 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    prio INTEGER,
    at TEXT NOT NULL,
    data TEXT NOT NULL,
    size INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS items_prio ON items (prio, seq) WHERE prio IS NOT NULL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    received REAL NOT NULL,
    type TEXT NOT NULL,
    status TEXT NOT NULL
);
"""


P = ParamSpec("P")
R = TypeVar("R")


def _locked(method: Callable[P, R]) -> Callable[P, R]:
    # The check-in loop and the job runner's thread share one connection: one call at a time.
    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with args[0]._lock:  # type: ignore[attr-defined]
            return method(*args, **kwargs)
    return wrapper


class ItemTooLarge(ValueError):
    """An item that could never be sent: larger than one check-in request allows."""


@dataclass(frozen=True)
class SpoolItem:
    """One spooled item, as it goes on the wire."""

    seq: int
    kind: str
    at: str
    data: dict[str, Any]
    size: int

    def as_wire(self) -> dict[str, Any]:
        """The item as the check-in body carries it."""
        return {"seq": self.seq, "kind": self.kind, "at": self.at, "data": self.data}


def encode_item(seq: int, kind: str, at: str, data: dict[str, Any]) -> bytes:
    """The compact JSON of one item; its length is what the item costs in a request body."""
    return json.dumps(
        {"seq": seq, "kind": kind, "at": at, "data": data}, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


class Spool:
    """A durable, bounded queue of items with persistent sequence numbers."""

    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        max_item_bytes: int = DEFAULT_MAX_ITEM_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self.max_item_bytes = max_item_bytes
        self.clock = clock
        path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: every write below opens its own explicit transaction.
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), isolation_level=None, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    # --- writing --------------------------------------------------------------------------------
    @_locked
    def put(self, kind: str, data: dict[str, Any], at: str | None = None) -> int:
        """Append an item durably and return its sequence number; may drop older, less important items."""
        if kind not in KINDS:
            raise ValueError(f"unknown item kind {kind!r}")
        with self._transaction():
            return self._insert(kind, data, at)

    @_locked
    def put_heartbeat(self, data: dict[str, Any], at: str | None = None) -> int:
        """Append a heartbeat that carries (as `dropped`) the count of items dropped since the last one."""
        with self._transaction():
            unreported = self._meta("dropped_unreported")
            self._set_meta("dropped_unreported", 0)
            return self._insert("heartbeat", {**data, "dropped": unreported}, at)

    def _insert(self, kind: str, data: dict[str, Any], at: str | None) -> int:
        at = at or iso(utcnow())
        seq = self._meta("last_seq") + 1
        encoded = encode_item(seq, kind, at, data)
        if len(encoded) > self.max_item_bytes:
            raise ItemTooLarge(f"{kind} item of {len(encoded)} bytes exceeds {self.max_item_bytes}")
        self._db.execute(
            "INSERT INTO items (seq, kind, prio, at, data, size, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (seq, kind, DROP_PRIORITY.get(kind), at, json.dumps(data, separators=(",", ":"), ensure_ascii=False),
             len(encoded), self.clock()),
        )
        self._set_meta("last_seq", seq)
        self._enforce_bounds()
        return seq

    def _enforce_bounds(self) -> None:
        cutoff = self.clock() - self.max_age_s
        expired = self._db.execute(
            "SELECT seq, kind, data FROM items WHERE prio IS NOT NULL AND created < ? ORDER BY seq", (cutoff,)
        ).fetchall()
        self._drop(expired)
        excess = self.total_bytes() - self.max_bytes
        while excess > 0:
            victims: list[tuple[int, str, str]] = []
            freed = 0
            rows = self._db.execute(
                "SELECT seq, kind, data, size FROM items WHERE prio IS NOT NULL ORDER BY prio, seq LIMIT 1000"
            ).fetchall()
            if not rows:
                # Only job results are left: they are never dropped, so the bound is exceeded.
                log.warning("spool over its size bound with job results only (%d bytes over)", excess)
                return
            for seq, kind, data, size in rows:
                victims.append((seq, kind, data))
                freed += size
                if freed >= excess:
                    break
            self._drop(victims)
            excess -= freed

    def _drop(self, rows: Iterable[tuple[int, str, str]], reason: str = "dropped") -> int:
        count = 0
        carried = 0
        by_kind: dict[str, int] = {}
        for seq, kind, data in rows:
            self._db.execute("DELETE FROM items WHERE seq = ?", (seq,))
            by_kind[kind] = by_kind.get(kind, 0) + 1
            count += 1
            if kind == "heartbeat":
                # A dropped heartbeat loses the count it carried: put it back to be reported later.
                carried += int(json.loads(data).get("dropped", 0) or 0)
        for kind, n in by_kind.items():
            self._set_meta(f"{reason}:{kind}", self._meta(f"{reason}:{kind}") + n)
        if count:
            self._set_meta("dropped_unreported", self._meta("dropped_unreported") + count + carried)
        return count

    # --- reading and acknowledging -----------------------------------------------------------------
    @_locked
    def pending(self, limit: int = 500, max_bytes: int = MIB) -> list[SpoolItem]:
        """The oldest items, at most `limit` of them and at most `max_bytes` of encoded JSON with separators."""
        out: list[SpoolItem] = []
        used = 0
        cursor = self._db.execute("SELECT seq, kind, at, data, size FROM items ORDER BY seq LIMIT ?", (limit,))
        for seq, kind, at, data, size in cursor:
            cost = size + (1 if out else 0)  # the comma between items
            if used + cost > max_bytes:
                break
            used += cost
            out.append(SpoolItem(seq, kind, at, json.loads(data), size))
        cursor.close()
        return out

    @_locked
    def ack(self, ack_seq: int) -> int:
        """Delete every item whose seq is at or below `ack_seq` (the server has committed them)."""
        with self._transaction():
            last = self._meta("last_seq")
            if ack_seq > last:
                # The server's high-water mark is above anything this spool ever numbered (e.g. the
                # state directory was wiped and the device re-enrolled): items at or below it would be
                # skipped as duplicates, so renumber what is pending above it instead of losing it.
                self._rebase(ack_seq)
                return 0
            cur = self._db.execute("DELETE FROM items WHERE seq <= ?", (ack_seq,))
            return cur.rowcount

    def _rebase(self, above: int) -> None:
        rows = self._db.execute("SELECT seq, kind, at, data FROM items ORDER BY seq").fetchall()
        log.warning("server acknowledged seq %d above this spool's last %d: renumbering %d pending items",
                    above, self._meta("last_seq"), len(rows))
        self._db.execute("DELETE FROM items")
        seq = above
        for _old, kind, at, data in rows:
            seq += 1
            size = len(encode_item(seq, kind, at, json.loads(data)))
            self._db.execute(
                "INSERT INTO items (seq, kind, prio, at, data, size, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (seq, kind, DROP_PRIORITY.get(kind), at, data, size, self.clock()),
            )
        self._set_meta("last_seq", seq)

    @_locked
    def discard(self, seqs: Iterable[int]) -> int:
        """Remove items the server rejected by name (counted as `rejected`, reported like dropped ones)."""
        wanted = sorted(set(seqs))
        with self._transaction():
            rows = []
            for seq in wanted:
                row = self._db.execute("SELECT seq, kind, data FROM items WHERE seq = ?", (seq,)).fetchone()
                if row:
                    rows.append(row)
            return self._drop(rows, reason="rejected")

    # --- jobs seen (so a job delivered twice runs once) ---------------------------------------------
    @_locked
    def job_seen(self, job_id: str) -> bool:
        """True when this job was already received."""
        return self._db.execute("SELECT 1 FROM jobs WHERE job_id = ?", (job_id,)).fetchone() is not None

    @_locked
    def job_record(self, job_id: str, job_type: str, status: str) -> None:
        """Remember a received job and what became of it."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO jobs (job_id, received, type, status) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (job_id) DO UPDATE SET status = excluded.status",
                (job_id, self.clock(), job_type, status),
            )

    @_locked
    def jobs_with_status(self, status: str) -> list[tuple[str, str]]:
        """`(job_id, type)` of the received jobs whose last recorded status is `status`."""
        rows = self._db.execute("SELECT job_id, type FROM jobs WHERE status = ? ORDER BY received, job_id",
                                (status,)).fetchall()
        return [(str(job_id), str(job_type)) for job_id, job_type in rows]

    # --- figures ----------------------------------------------------------------------------------
    @_locked
    def last_seq(self) -> int:
        """The highest sequence number ever assigned."""
        return self._meta("last_seq")

    @_locked
    def count(self) -> int:
        """How many items are waiting."""
        return int(self._db.execute("SELECT COUNT(*) FROM items").fetchone()[0])

    @_locked
    def total_bytes(self) -> int:
        """The encoded size of all waiting items."""
        return int(self._db.execute("SELECT COALESCE(SUM(size), 0) FROM items").fetchone()[0])

    @_locked
    def oldest_created(self) -> float | None:
        """When the oldest waiting item was spooled (epoch seconds), or None."""
        row = self._db.execute("SELECT MIN(created) FROM items").fetchone()
        return None if row[0] is None else float(row[0])

    @_locked
    def dropped(self) -> dict[str, int]:
        """Counts of dropped and rejected items per kind since the spool was created (`dropped:metrics`…)."""
        rows = self._db.execute(
            "SELECT key, value FROM meta WHERE key LIKE 'dropped:%' OR key LIKE 'rejected:%'"
        ).fetchall()
        return {str(k): int(v) for k, v in rows}

    @_locked
    def unreported_dropped(self) -> int:
        """Dropped items not yet carried by a heartbeat."""
        return self._meta("dropped_unreported")

    @_locked
    def close(self) -> None:
        """Close the database."""
        self._db.close()

    # --- plumbing ---------------------------------------------------------------------------------
    def _meta(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def _set_meta(self, key: str, value: int) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
