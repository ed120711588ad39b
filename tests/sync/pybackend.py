"""A SyncBackend whose functions are Python, reading and writing the real Database.

It exercises the sync layer against real transactions and read sets without V8; the V8
path is covered by the official-client tests in tests/compat.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from dataplane.auth import Identity
from dataplane.sync.backend import ActionRun, FunctionFailure, MutationRun, QueryRun
from dataplane.transactions import Database, IndexDefinition, Transaction
from dataplane.values import from_json, to_json

Fn = Callable[[Transaction, dict[str, Any], Identity | None], Any]


def _list(txn: Transaction, args: dict[str, Any], ident: Identity | None) -> Any:
    rng = [{"type": "Eq", "fieldPath": "channel", "value": args["channel"]}]
    return list(txn.index_scan("messages", "by_channel", rng))


def _send(txn: Transaction, args: dict[str, Any], ident: Identity | None) -> Any:
    if args.get("body") == "":
        raise FunctionFailure("body must not be empty", {"code": 42.0}, ("[ERROR] empty",))
    return txn.insert("messages", {"channel": args["channel"], "body": args["body"]})


def _count(txn: Transaction, args: dict[str, Any], ident: Identity | None) -> Any:
    return float(txn.count("counters"))


def _bump(txn: Transaction, args: dict[str, Any], ident: Identity | None) -> Any:
    return txn.insert("counters", {"n": 1.0})


def _whoami(txn: Transaction, args: dict[str, Any], ident: Identity | None) -> Any:
    return None if ident is None or ident.user is None else dict(ident.user)


def _boom(txn: Transaction, args: dict[str, Any], ident: Identity | None) -> Any:
    list(txn.table_scan("counters"))
    raise FunctionFailure("Uncaught Error: boom", None, ("[LOG] 'about to fail'",))


QUERIES: dict[str, Fn] = {
    "messages:list": _list,
    "counter:get": _count,
    "auth:whoami": _whoami,
    "fail:boom": _boom,
}
MUTATIONS: dict[str, Fn] = {"messages:send": _send, "counter:bump": _bump}


class PyBackend:
    """Functions keyed by canonical path; counts executions so tests can see sharing."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.set_indexes("messages", [IndexDefinition("by_channel", ["channel"])])
        db.ensure_table("counters")
        self.lock = threading.Lock()
        self.query_runs: dict[str, int] = {}
        self.mutation_runs = 0
        self.gate: threading.Event | None = None  # set to hold mutations until released

    def latest_ts(self) -> int:
        return self.db.latest_ts()

    def run_query(
        self,
        path: str,
        args: dict[str, Any],
        identity: Identity | None,
        ts: int,
        journal: str | None,
    ) -> QueryRun:
        fn = QUERIES.get(path)
        if fn is None:
            raise FunctionFailure(f"Could not find public function for '{path}'")
        with self.lock:
            self.query_runs[path] = self.query_runs.get(path, 0) + 1
        txn = self.db.begin(ts)
        value = fn(txn, from_json(args), identity)
        return QueryRun(to_json(value), (f"[LOG] '{path}'",), txn.read_set, txn.snapshot_ts)

    def run_mutation(
        self,
        path: str,
        args: dict[str, Any],
        identity: Identity | None,
        request_key: str | None = None,
        first_send: bool = False,
    ) -> MutationRun:
        fn = MUTATIONS.get(path)
        if fn is None:
            raise FunctionFailure(f"Could not find public function for '{path}'")
        if self.gate is not None:
            self.gate.wait(30)
        with self.lock:
            self.mutation_runs += 1
        value, ts = self.db.run_mutation(lambda txn: fn(txn, from_json(args), identity))
        return MutationRun(to_json(value), (), ts)

    def run_action(self, path: str, args: dict[str, Any], identity: Identity | None) -> ActionRun:
        if path == "actions:echo":
            return ActionRun(args, ("[INFO] 'echo'",))
        raise FunctionFailure("action failed", "plain string data")
