"""A transaction's write set and read set as JSON, so the committer can validate and apply it."""

from __future__ import annotations

import base64
from typing import Any

from ..ids import decode_id
from ..transactions import Database, DatabaseError, ReadSet, Transaction
from ..transactions.transaction import MutationRequest
from ..values import from_json, to_json


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def encode_transaction(txn: Transaction, token: str) -> dict[str, Any]:
    """Everything OCC and the write path need: snapshot ts, read set, buffered writes."""
    rs = txn.read_set
    return {
        "token": token,
        "snapshotTs": txn.snapshot_ts,
        "intervals": [
            [i.index_id, _b64(i.lo), None if i.hi is None else _b64(i.hi)]
            for ivs in rs.intervals.values()
            for i in ivs
        ],
        "points": [[index_id, [_b64(k) for k in keys]] for index_id, keys in rs.points.items()],
        "missingTables": sorted(rs.missing_tables),
        "writes": [
            [
                w.table.name,
                w.doc_id,
                None if w.base is None else to_json(w.base),
                None if w.value is None else to_json(w.value),
            ]
            for w in txn.writes.values()
            if w.value is not w.base
        ],
        "request": None
        if txn.request is None
        else [txn.request.key, txn.request.result_json, txn.request.check],
    }


def decode_transaction(db: Database, body: Any) -> tuple[Transaction, str]:
    """The committer's copy of a replica's transaction; DatabaseError on malformed input."""
    try:
        token = body["token"]
        snapshot_ts = int(body["snapshotTs"])
        if not isinstance(token, str) or not 8 <= len(token) <= 100:
            raise DatabaseError("token must be a string of 8-100 characters")
        if not 0 <= snapshot_ts <= db.latest_ts():
            raise DatabaseError(f"snapshot ts {snapshot_ts} is not a commit of this deployment")
        txn = Transaction(db, snapshot_ts)
        rs = ReadSet()
        for index_id, lo, hi in body["intervals"]:
            rs.add_interval(int(index_id), _unb64(lo), None if hi is None else _unb64(hi))
        for index_id, keys in body["points"]:
            for key in keys:
                rs.add_point(int(index_id), _unb64(key))
        for table in body["missingTables"]:
            rs.add_missing_table(str(table))
        txn.read_set = rs
        for table, doc_id, base, value in body["writes"]:
            meta = db.catalog.by_name.get(table)
            parts = decode_id(doc_id)
            if meta is None or parts is None or parts.table_number != meta.number:
                raise DatabaseError(f"write to unknown table or id: {table} {doc_id}")
            txn.stage_write(
                meta,
                parts.internal,
                doc_id,
                None if base is None else from_json(base),
                None if value is None else from_json(value),
            )
        request = body.get("request")
        if request is not None:
            key, result_json, check = request
            if not isinstance(key, str) or not isinstance(result_json, str) or not key:
                raise DatabaseError("request must be [key, result JSON, check]")
            txn.request = MutationRequest(key, result_json, bool(check))
    except (KeyError, TypeError, ValueError) as exc:
        raise DatabaseError(f"Malformed forwarded commit: {exc}") from exc
    return txn, token
