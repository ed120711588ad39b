"""Cross-process commit announcements over Redis pub/sub: one message per commit.

Each process serving a deployment publishes its own commits (ts, tables, index keys - what
`ReadSet.overlaps` needs) on `strata:<deployment>:commits` and hands the other processes'
commits to a callback. Publishing runs on its own thread, pipelining whatever queued up, so
the committer never waits for Redis.
"""

from __future__ import annotations

import base64
import threading
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

import orjson
import redis
import structlog

from ..transactions import CommitRecord

log = structlog.get_logger(__name__)
RemoteCommit = Callable[[CommitRecord], None]


def encode_record(origin: str, record: CommitRecord) -> bytes:
    return orjson.dumps(
        {
            "o": origin,
            "ts": record.ts,
            "t": sorted(record.tables),
            "k": {
                str(index_id): [base64.b64encode(k).decode() for k in keys]
                for index_id, keys in record.index_keys.items()
            },
        }
    )


def decode_record(raw: bytes) -> tuple[str, CommitRecord]:
    msg: dict[str, Any] = orjson.loads(raw)
    keys = {int(i): [base64.b64decode(k) for k in ks] for i, ks in msg["k"].items()}
    return str(msg["o"]), CommitRecord(int(msg["ts"]), (), keys, frozenset(msg["t"]))


class CommitBus:
    """Publishes local commits and delivers other processes' commits to `on_remote`."""

    def __init__(self, redis_url: str, deployment: str, on_remote: RemoteCommit) -> None:
        self.channel = f"strata:{deployment}:commits"
        self.origin = uuid.uuid4().hex
        self.on_remote = on_remote
        self._redis = redis.Redis.from_url(redis_url)
        self._queue: deque[CommitRecord] = deque()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._threads: list[threading.Thread] = []
        self.published = 0

    def start(self, _loop: Any = None) -> None:
        """Subscribe (before returning, so no later commit is missed) and start the threads."""
        if self._threads:
            return
        self._pubsub.subscribe(self.channel)
        for target, name in ((self._publish_loop, "pub"), (self._listen_loop, "sub")):
            thread = threading.Thread(target=target, name=f"commit-bus-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("commit bus started", channel=self.channel)

    def publish(self, record: CommitRecord) -> None:
        """Commit listener: queue the record for the publisher thread (never blocks)."""
        self._queue.append(record)
        self._wake.set()

    def _publish_loop(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            batch = []
            while self._queue:
                batch.append(self._queue.popleft())
            if not batch:
                continue
            try:
                pipe = self._redis.pipeline(transaction=False)
                for record in batch:
                    pipe.publish(self.channel, encode_record(self.origin, record))
                pipe.execute()
                self.published += len(batch)
            except redis.RedisError:
                log.exception("publishing commits to redis failed", count=len(batch))

    def _listen_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                message = self._pubsub.get_message(timeout=0.5)
            except (redis.RedisError, ValueError):
                if self._stopped.is_set():
                    return
                log.exception("reading commits from redis failed")
                self._stopped.wait(0.5)
                continue
            if message is None or message.get("type") != "message":
                continue
            origin, record = decode_record(message["data"])
            if origin != self.origin:
                try:
                    self.on_remote(record)
                except Exception:
                    log.exception("remote commit callback failed", ts=record.ts)

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        self._pubsub.close()
        self._redis.close()
