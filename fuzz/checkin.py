"""Atheris target: the agent check-in parser (`tenfold.agents.protocol.parse_checkin`) on arbitrary bytes.

A body is either a valid check-in or a `ProtocolError` (the endpoint's 422); any other exception, a hang
or a crash is a finding, to be fixed with a regression test in tenfold/agents/tests. The seed corpus
(fuzz/corpus/checkin/) holds real bodies of every item kind, so the mutations start from the shape
agents send.

    python fuzz/checkin.py WORK_DIR fuzz/corpus/checkin -max_total_time=60    # as `make test` runs it
    python fuzz/checkin.py WORK_DIR fuzz/corpus/checkin -max_total_time=3600  # a longer local run

(libFuzzer adds what it finds to the first directory: give it a scratch one, not the seed corpus.)
"""

from __future__ import annotations

import copy
import json
import random
import sys
from typing import Any

import atheris

with atheris.instrument_imports():
    from tenfold.agents import protocol


def test_one(data: bytes) -> None:
    try:
        checkin = protocol.parse_checkin(data)
    except protocol.ProtocolError as exc:
        assert isinstance(exc.message, str) and isinstance(exc.errors, dict)
        return
    seqs = [item.seq for item in checkin.items]
    assert seqs == sorted(set(seqs)), "items are accepted only in strictly increasing seq order"


# Values a mutation puts in place of another: the edges the validators must hold.
ODD_VALUES: list[Any] = [
    0, -1, 1, 2**31, 2**63, -(2**63) - 1, 10**30, 1.5, -0.0, 1e308, float("nan"), float("inf"), True, False, None,
    "", " ", "\x00", "\ud800", "é" * 300, "x" * 70_000, "2026-11-26T16:01:00", "1999-12-31T23:59:59Z",
    "2026-02-30T00:00:00Z", "aa:bb:cc:dd:ee:ff", "AABB.CCDD.EEFF", "ff:ff:ff:ff:ff:ff", "192.0.2.300",
    "fe80::1%eth0", "10.0.0.0/33", "heartbeat", "check_result", "inventory", "job_result", [], {}, [1, 2], {"a": 1},
]


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += _paths(value, (*prefix, index))
    return found


def _mutate_document(doc: Any, rng: random.Random) -> Any:
    """One structural change at a random place: a value replaced, a key removed or added, an item
    duplicated or dropped, two items swapped."""
    paths = _paths(doc)
    path = rng.choice(paths)
    if not path:
        return copy.deepcopy(rng.choice(ODD_VALUES))
    parent: Any = doc
    for step in path[:-1]:
        parent = parent[step]
    key = path[-1]
    action = rng.randrange(5)
    if action == 0 and isinstance(parent, dict):
        del parent[key]
    elif action == 1 and isinstance(parent, dict):
        parent[rng.choice(["device_id", "client_id", "extra", str(rng.random())])] = copy.deepcopy(
            rng.choice(ODD_VALUES))
    elif action == 2 and isinstance(parent, list):
        parent.insert(key, copy.deepcopy(parent[key]))
    elif action == 3 and isinstance(parent, list) and len(parent) > 1:
        other = rng.randrange(len(parent))
        parent[key], parent[other] = parent[other], parent[key]
    else:
        parent[key] = copy.deepcopy(rng.choice(ODD_VALUES))
    return doc


def mutate(data: bytes, max_size: int, seed: int) -> bytes:
    """Mostly structure-aware mutations of a JSON body (so the validators, not only the JSON decoder,
    are exercised), sometimes libFuzzer's byte-level ones."""
    rng = random.Random(seed)  # noqa: S311 - reproducible mutations, not secrets
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return bytes(atheris.Mutate(data, max_size))
    if rng.random() < 0.15:
        return bytes(atheris.Mutate(data, max_size))
    for _ in range(rng.randint(1, 3)):
        doc = _mutate_document(doc, rng)
    return json.dumps(doc).encode()[:max_size]


def main() -> None:
    atheris.Setup(sys.argv, test_one, custom_mutator=mutate)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
