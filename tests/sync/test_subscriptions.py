"""Subscription manager + session state machine over the real Database (steps driven by hand)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from dataplane.auth import Identity
from dataplane.sync.protocol import AddQuery, ModifyQuerySet, RemoveQuery, decode_ts
from dataplane.sync.session import SyncSession
from dataplane.sync.subscriptions import SubscriptionManager

from .pybackend import PyBackend


class Wire:
    """A session plus every frame it was sent, decoded."""

    def __init__(self, manager: SubscriptionManager) -> None:
        self.frames: list[dict[str, Any]] = []
        self.session = SyncSession(manager, self._send)
        self.qs = 0

    async def _send(self, payload: bytes) -> None:
        self.frames.append(orjson.loads(payload))

    def add(self, query_id: int, path: str, args: dict[str, Any]) -> None:
        self.session.modify_query_set(
            ModifyQuerySet(self.qs, self.qs + 1, (AddQuery(query_id, path, args, None, None),))
        )
        self.qs += 1

    def remove(self, query_id: int) -> None:
        self.session.modify_query_set(
            ModifyQuerySet(self.qs, self.qs + 1, (RemoveQuery(query_id),))
        )
        self.qs += 1

    def take(self) -> list[dict[str, Any]]:
        out, self.frames = self.frames, []
        return out


def _mutate(backend: PyBackend, path: str, args: dict[str, Any]) -> int:
    return backend.run_mutation(path, args, None).commit_ts


def test_shared_execution_and_only_intersecting_queries_rerun(db, backend) -> None:
    async def scenario() -> None:
        manager = SubscriptionManager(db, backend)
        a, b = Wire(manager), Wire(manager)
        a.add(0, "messages:list", {"channel": "x"})
        a.add(1, "counter:get", {})
        b.add(5, "messages:list", {"channel": "x"})
        b.add(6, "messages:list", {"channel": "y"})
        await manager.step()
        assert backend.query_runs == {"messages:list": 2, "counter:get": 1}
        first_a = a.take()
        assert len(first_a) == 1
        t = first_a[0]
        assert t["startVersion"] == {"querySet": 0, "identity": 0, "ts": "AAAAAAAAAAA="}
        assert t["endVersion"]["querySet"] == 2
        assert {m["queryId"]: m["value"] for m in t["modifications"]} == {0: [], 1: 0.0}
        assert len(b.take()) == 1

        _mutate(backend, "messages:send", {"channel": "x", "body": "hi"})
        await manager.step()
        # one re-run of the shared channel-x query; channel y and the counter untouched
        assert backend.query_runs == {"messages:list": 3, "counter:get": 1}
        (ta,) = a.take()
        assert ta["startVersion"] == t["endVersion"]
        assert [m["queryId"] for m in ta["modifications"]] == [0]
        assert ta["modifications"][0]["value"][0]["body"] == "hi"
        (tb,) = b.take()
        assert [m["queryId"] for m in tb["modifications"]] == [5]
        assert decode_ts(tb["endVersion"]["ts"]) == db.latest_ts()

        _mutate(backend, "counter:bump", {})
        await manager.step()
        assert backend.query_runs == {"messages:list": 3, "counter:get": 2}
        (ta2,) = a.take()
        assert ta2["startVersion"] == ta["endVersion"]
        assert ta2["modifications"] == [
            {
                "type": "QueryUpdated",
                "queryId": 1,
                "value": 1.0,
                "logLines": ["[LOG] 'counter:get'"],
                "journal": None,
            }
        ]
        assert b.take() == []

    asyncio.run(scenario())


def test_unchanged_result_after_overlapping_write_is_not_sent(db, backend) -> None:
    async def scenario() -> None:
        manager = SubscriptionManager(db, backend)
        w = Wire(manager)
        doc_id = _mutate(backend, "messages:send", {"channel": "x", "body": "same"})
        w.add(0, "messages:list", {"channel": "x"})
        await manager.step()
        w.take()
        doc = backend.run_query("messages:list", {"channel": "x"}, None, db.latest_ts(), None)
        assert doc_id

        def rewrite(txn: Any) -> None:
            current = txn.get(doc.value[0]["_id"])
            txn.replace(current["_id"], {"channel": "x", "body": "same"})

        db.run_mutation(rewrite)
        runs = backend.query_runs["messages:list"]
        await manager.step()
        assert backend.query_runs["messages:list"] == runs + 1  # it did re-run
        assert w.take() == []  # but the same result is not re-sent

    asyncio.run(scenario())


def test_removal_failure_and_read_your_writes(db, backend) -> None:
    async def scenario() -> None:
        manager = SubscriptionManager(db, backend)
        w = Wire(manager)
        w.add(0, "fail:boom", {})
        await manager.step()
        (t,) = w.take()
        assert t["modifications"] == [
            {
                "type": "QueryFailed",
                "queryId": 0,
                "errorMessage": "Uncaught Error: boom",
                "logLines": ["[LOG] 'about to fail'"],
                "journal": None,
            }
        ]
        w.remove(0)
        assert manager.subscription_count == 0
        await manager.step()
        (t2,) = w.take()
        assert t2["modifications"] == [{"type": "QueryRemoved", "queryId": 0}]
        assert t2["endVersion"]["querySet"] == 2

        ts = _mutate(backend, "counter:bump", {})
        w.session.wait_for_ts(ts + 10**12)  # a ts not reached yet: nothing may be sent
        await manager.step()
        assert w.take() == []
        w.session._min_ts = ts  # as if that ts had been reached: the deferred flush happens
        await manager.step()
        (t3,) = w.take()
        assert t3["modifications"] == []
        assert decode_ts(t3["endVersion"]["ts"]) >= ts
        assert t3["startVersion"] == t2["endVersion"]

    asyncio.run(scenario())


def test_identity_change_reruns_and_resends_everything(db, backend) -> None:
    async def scenario() -> None:
        manager = SubscriptionManager(db, backend)
        w = Wire(manager)
        w.add(0, "auth:whoami", {})
        w.add(1, "counter:get", {})
        await manager.step()
        (t,) = w.take()
        assert {m["queryId"]: m["value"] for m in t["modifications"]} == {0: None, 1: 0.0}
        user = Identity.for_user({"tokenIdentifier": "i|u", "subject": "u", "issuer": "i"})
        w.session.set_identity(user, 0)
        await manager.step()
        (t2,) = w.take()
        assert t2["endVersion"]["identity"] == 1
        values = {m["queryId"]: m["value"] for m in t2["modifications"]}
        assert values == {0: {"tokenIdentifier": "i|u", "subject": "u", "issuer": "i"}, 1: 0.0}
        assert manager.subscription_count == 2  # the anonymous ones were released

    asyncio.run(scenario())


def test_live_task_follows_commits_from_other_threads(db, backend) -> None:
    async def scenario() -> None:
        manager = SubscriptionManager(db, backend)
        manager.start()
        try:
            w = Wire(manager)
            w.add(0, "counter:get", {})
            for _ in range(200):
                if w.frames:
                    break
                await asyncio.sleep(0.01)
            assert w.take()[0]["modifications"][0]["value"] == 0.0
            await asyncio.to_thread(_mutate, backend, "counter:bump", {})
            for _ in range(200):
                if w.frames:
                    break
                await asyncio.sleep(0.01)
            (t,) = w.take()
            assert t["modifications"][0]["value"] == 1.0
        finally:
            await manager.stop()

    asyncio.run(scenario())


def test_large_transitions_are_chunked_in_order(db, backend) -> None:
    async def scenario() -> None:
        manager = SubscriptionManager(db, backend)
        w = Wire(manager)
        w.session.chunk_threshold = 64
        for i in range(5):
            _mutate(backend, "messages:send", {"channel": "big", "body": f"body number {i}"})
        w.add(0, "messages:list", {"channel": "big"})
        await manager.step()
        chunks = w.take()
        assert len(chunks) > 3
        assert all(c["type"] == "TransitionChunk" for c in chunks)
        assert [c["partNumber"] for c in chunks] == list(range(len(chunks)))
        assert len({c["transitionId"] for c in chunks}) == 1
        whole = orjson.loads("".join(c["chunk"] for c in chunks))
        assert whole["type"] == "Transition"
        assert len(whole["modifications"][0]["value"]) == 5

    asyncio.run(scenario())
