"""Storage-level helpers import needs and the Transaction API does not offer on purpose.

Import must recreate tables under their exported numbers (ids encode the table number, so
references between documents only stay valid that way) and insert documents with their
exported `_id` and `_creationTime`. Both go through the same catalog/commit paths as the
engine's own code. TODO(lead): fold these into Database/Transaction as supported APIs.
"""

from __future__ import annotations

from typing import Any

from ..ids import encode_id
from ..storage import IndexRow, TableRow
from ..transactions import Database, Transaction
from ..transactions.catalog import (
    BUILTIN_INDEXES,
    FIRST_USER_TABLE,
    TableMeta,
    validate_table_name,
)
from ..transactions.transaction import PendingWrite


def _number_fits(db: Database, name: str, number: int | None) -> bool:
    if number is None or number < 1 or number in db.catalog.by_number:
        return False
    return name.startswith("_") == (number < FIRST_USER_TABLE)


def ensure_table_numbered(db: Database, name: str, number: int | None) -> TableMeta:
    """The table, created under `number` when that number is free (else the next one)."""
    meta = db.catalog.by_name.get(name)
    if meta is not None:
        return meta
    validate_table_name(name)
    if not _number_fits(db, name, number):
        return db.ensure_table(name)
    assert number is not None
    with db._commit_lock:
        meta = db.catalog.by_name.get(name)
        if meta is not None:
            return meta
        if not _number_fits(db, name, number):
            return db._create_table_locked(name)
        first = db.catalog.next_index_id
        indexes = {
            index_name: IndexRow(first + i, number, index_name, fields)
            for i, (index_name, fields) in enumerate(BUILTIN_INDEXES.items())
        }
        ts = db._next_ts()
        db.persistence.create_table(TableRow(number, name), list(indexes.values()), ts)
        meta = TableMeta(number, name, indexes)
        db.catalog = db.catalog.with_table(meta, first + len(indexes))
        db._publish_schema_change(ts, name)
        return meta


def stage_insert(txn: Transaction, meta: TableMeta, internal: bytes, doc: dict[str, Any]) -> str:
    """Buffer an insert with a chosen identity; `doc` must already carry `_creationTime`."""
    doc_id = encode_id(meta.number, internal)
    doc["_id"] = doc_id
    txn.writes[internal] = PendingWrite(meta, doc_id, None, doc)
    return doc_id
