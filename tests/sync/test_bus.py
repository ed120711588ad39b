"""Cross-process commit announcements through the real Redis server."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest
import redis

from dataplane.sync.bus import CommitBus, decode_record, encode_record
from dataplane.sync.subscriptions import SubscriptionManager
from dataplane.transactions import CommitRecord

from .test_subscriptions import Wire, _mutate

REDIS_URL = "redis://127.0.0.1:6379/0"
pytestmark = pytest.mark.redis


def test_record_codec_round_trips() -> None:
    record = CommitRecord(123, (), {7: [b"\x00\x01", b"\xff"], 9: []}, frozenset({"a", "b"}))
    origin, back = decode_record(encode_record("me", record))
    assert origin == "me"
    assert (back.ts, back.index_keys, back.tables) == (123, record.index_keys, record.tables)


def test_each_commit_reaches_the_other_processes_once_in_order() -> None:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.fail("the Redis server at 127.0.0.1:6379 is required")
    name = f"bus-{uuid.uuid4().hex[:8]}"
    got_a: list[int] = []
    got_b: list[int] = []
    done = threading.Event()

    def on_b(record: CommitRecord) -> None:
        got_b.append(record.ts)
        if len(got_b) == 200:
            done.set()

    a = CommitBus(REDIS_URL, name, lambda r: got_a.append(r.ts))
    b = CommitBus(REDIS_URL, name, on_b)
    other = CommitBus(REDIS_URL, name + "-other", on_b)
    for bus in (a, b, other):
        bus.start()
    try:
        for ts in range(1, 201):
            a.publish(CommitRecord(ts, (), {1: [ts.to_bytes(8, "big")]}, frozenset({"t"})))
        assert done.wait(20)
        time.sleep(0.2)
        assert got_b == list(range(1, 201))  # once each, in commit order
        assert got_a == []  # a process ignores its own announcements
        assert a.published == 200
    finally:
        for bus in (a, b, other):
            bus.stop()


def test_remote_commits_wait_until_readable_then_invalidate(db, backend) -> None:
    captured: list[CommitRecord] = []
    db.add_commit_listener(captured.append)

    async def scenario() -> None:
        manager = SubscriptionManager(db, backend)
        w = Wire(manager)
        w.add(0, "counter:get", {})
        _mutate(backend, "counter:bump", {})
        await manager.step()
        w.take()
        runs = backend.query_runs["counter:get"]
        # Another process's insert into `counters`, announced before this process can read it.
        keys = captured[-1].index_keys
        manager.ingest_remote(CommitRecord(db.latest_ts() + 1, (), keys, frozenset({"counters"})))
        await manager.step()
        assert backend.query_runs["counter:get"] == runs  # not readable yet: kept, not applied
        _mutate(backend, "messages:send", {"channel": "x", "body": "unrelated"})
        await manager.step()
        assert backend.query_runs["counter:get"] == runs + 1  # the remote write invalidated it
        assert not manager._remote

    asyncio.run(scenario())
