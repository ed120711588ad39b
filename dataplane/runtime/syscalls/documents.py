"""Document reads and writes of a query or mutation: `ctx.db.get/insert/patch/replace/delete`,
counts, id normalization and the transaction's metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...scheduled.jobs import SCHEDULED, owner_of
from ...values import from_json, to_json
from ..components import user_table
from ..isolate import SyscallFailure
from .base import Handler

if TYPE_CHECKING:
    from .database import DatabaseSyscalls

WRITE_OPS = frozenset({"1.0/insert", "1.0/shallowMerge", "1.0/replace", "1.0/remove"})


def _doc_json(doc: dict[str, Any] | None) -> Any:
    return None if doc is None else to_json(doc)


def _get(host: DatabaseSyscalls, a: dict[str, Any]) -> Any:
    doc_id = a.get("id")
    if not isinstance(doc_id, str):
        raise SyscallFailure("db.get needs a document id string")
    host.check_id_table(doc_id, a.get("table"))
    table = host.txn.table_for_id(doc_id)
    system = table is not None and user_table(table).startswith("_")
    if system and not a.get("isSystem"):
        raise SyscallFailure(f"Use ctx.db.system.get to read system table {table}")
    if table is not None and not system and a.get("isSystem"):
        raise SyscallFailure(f"ctx.db.system.get reads system tables; {table} is not one")
    doc = host.txn.get(doc_id)
    if doc is not None and table == SCHEDULED and owner_of(doc) != host.call.namespace:
        return None  # another namespace's job does not exist in this one
    return _doc_json(doc)


def _count(host: DatabaseSyscalls, a: dict[str, Any]) -> Any:
    return float(host.txn.count(str(a.get("table"))))


def _normalize_id(host: DatabaseSyscalls, a: dict[str, Any]) -> Any:
    table, id_string = a.get("table"), a.get("idString")
    if not isinstance(table, str) or not isinstance(id_string, str):
        raise SyscallFailure("normalizeId needs a table and an id string")
    return {"id": host.txn.normalize_id(table, id_string)}


def _snapshot_ts(host: DatabaseSyscalls, a: dict[str, Any]) -> Any:
    return to_json(host.txn.snapshot_ts)


def _insert(host: DatabaseSyscalls, a: dict[str, Any]) -> Any:
    table = host.check_table(a.get("table"), "db.insert")
    value = from_json(a.get("value"))
    if not isinstance(value, dict):
        raise SyscallFailure("db.insert needs an object")
    host.call.check_document(table, value)
    return {"_id": host.txn.insert(table, value)}


def _rewrite(host: DatabaseSyscalls, a: dict[str, Any], replace: bool) -> Any:
    """db.patch (shallow merge) or db.replace, checked against the schema afterwards."""
    doc_id = host.write_target(a)
    value = from_json(a.get("value"))
    if not isinstance(value, dict):
        raise SyscallFailure(f"db.{'replace' if replace else 'patch'} needs an object")
    if replace:
        host.txn.replace(doc_id, value)
    else:
        host.txn.patch(doc_id, value)
    host.check_written(doc_id)
    return None


def _patch(host: DatabaseSyscalls, a: dict[str, Any]) -> Any:
    return _rewrite(host, a, replace=False)


def _replace(host: DatabaseSyscalls, a: dict[str, Any]) -> Any:
    return _rewrite(host, a, replace=True)


def _remove(host: DatabaseSyscalls, a: dict[str, Any]) -> Any:
    host.txn.delete(host.write_target(a))
    return None


def _metrics(host: DatabaseSyscalls, a: dict[str, Any]) -> Any:
    txn = host.txn
    return {
        "bytesRead": {"used": txn.bytes_read, "remaining": None},
        "bytesWritten": {"used": txn.bytes_written, "remaining": None},
        "databaseQueries": {"used": txn.ranges_read, "remaining": None},
        "documentsRead": {"used": txn.documents_read, "remaining": None},
        "documentsWritten": {"used": txn.documents_written, "remaining": None},
        "functionsScheduled": {"used": host.scheduled, "remaining": None},
        "scheduledFunctionArgsBytes": {"used": 0, "remaining": None},
    }


DOCUMENT_OPS: dict[str, Handler[DatabaseSyscalls]] = {
    "1.0/get": _get,
    "1.0/count": _count,
    "1.0/db/normalizeId": _normalize_id,
    "1.0/getSnapshotTs": _snapshot_ts,
    "1.0/insert": _insert,
    "1.0/shallowMerge": _patch,
    "1.0/replace": _replace,
    "1.0/remove": _remove,
    "1.0/getTransactionMetrics": _metrics,
}
