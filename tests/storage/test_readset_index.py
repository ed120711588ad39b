"""ReadSetIndex finds exactly the read sets a commit overlaps (what ReadSet.overlaps says)."""

from __future__ import annotations

import random

from dataplane.transactions import CommitRecord, ReadSet, ReadSetIndex

ALPHABET = b"\x00\x01ab\xff"


def _key(rng: random.Random) -> bytes:
    return bytes(rng.choice(ALPHABET) for _ in range(rng.randint(0, 5)))


def _read_set(rng: random.Random) -> ReadSet:
    rs = ReadSet()
    for _ in range(rng.randint(0, 3)):
        lo, hi = sorted((_key(rng), _key(rng)))
        rs.add_interval(rng.randint(1, 3), lo, None if rng.random() < 0.15 else hi)
    for _ in range(rng.randint(0, 2)):
        rs.add_point(rng.randint(1, 3), _key(rng))
    if rng.random() < 0.1:
        rs.add_missing_table(rng.choice(["t1", "t2"]))
    return rs


def _record(rng: random.Random, ts: int) -> CommitRecord:
    keys = {i: [_key(rng) for _ in range(rng.randint(0, 4))] for i in (1, 2, 3)}
    tables = frozenset(rng.sample(["t1", "t2", "t3"], rng.randint(0, 2)))
    return CommitRecord(ts=ts, writes=(), index_keys=keys, tables=tables)


def test_index_agrees_with_overlaps() -> None:
    rng = random.Random(7)
    index: ReadSetIndex[int] = ReadSetIndex()
    live: dict[int, ReadSet | None] = {}
    for step in range(400):
        for owner in rng.sample(range(60), 8):  # file, re-file or drop some owners
            if rng.random() < 0.2:
                index.discard(owner)
                live.pop(owner, None)
            else:
                read_set = None if rng.random() < 0.05 else _read_set(rng)
                index.put(owner, read_set)
                live[owner] = read_set
        records = [_record(rng, step * 10 + i) for i in range(rng.randint(1, 3))]
        expected = {
            owner
            for owner, rs in live.items()
            if rs is None or any(rs.overlaps(r) for r in records)
        }
        assert index.invalidated(records) == expected
        assert len(index) == len(live)


def test_discard_leaves_nothing_behind() -> None:
    rng = random.Random(3)
    index: ReadSetIndex[int] = ReadSetIndex()
    for owner in range(50):
        index.put(owner, _read_set(rng))
    index.put(50, None)
    for owner in range(51):
        index.discard(owner)
    index.discard(99)  # unknown owners are ignored
    assert len(index) == 0
    assert not index._always and not index._tables and not index._points
    assert not index._intervals and not index._lengths


def test_equality_intervals_are_found_by_prefix() -> None:
    index: ReadSetIndex[str] = ReadSetIndex()
    for room in ("s1", "s12", "s2"):
        rs = ReadSet()
        prefix = b"\x06" + room.encode() + b"\x00"
        rs.add_interval(23, prefix + b"\x00doc", prefix + b"\x01")
        index.put(room, rs)
    written = CommitRecord(
        ts=1, writes=(), index_keys={23: [b"\x06s12\x00\x00zz"]}, tables=frozenset({"events"})
    )
    assert index.invalidated([written]) == {"s12"}
    before = CommitRecord(
        ts=2, writes=(), index_keys={23: [b"\x06s1\x00\x00a"]}, tables=frozenset()
    )
    assert index.invalidated([before]) == set()  # below s1's interval (lo ends in "doc")
