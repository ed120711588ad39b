"""Turning a transaction's buffered writes into storage rows and a commit record.

Done before the committer lock is taken (only the ts is filled in under it), so the serial
part of a commit stays short.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from ..storage.keys import index_key
from ..values import to_json
from .catalog import Catalog
from .errors import DatabaseError
from .readset import CommitRecord, DocumentWrite

if TYPE_CHECKING:
    from .transaction import Transaction

# (internal id, table number, value JSON or None) and (index id, key, internal id, deleted)
PreparedDoc = tuple[bytes, int, bytes | None]
PreparedEntry = tuple[int, bytes, bytes, bool]


def has_writes(txn: Transaction) -> bool:
    """Whether committing would change anything (a patch back to the same value still counts)."""
    return any(w.value is not w.base for w in txn.writes.values())


def prepare_writes(
    txn: Transaction, catalog: Catalog
) -> tuple[list[PreparedDoc], list[PreparedEntry]]:
    """Document values and index entry changes (old key tombstoned if it moved)."""
    docs: list[PreparedDoc] = []
    entries: list[PreparedEntry] = []
    for internal, w in txn.writes.items():
        if w.value is w.base:
            continue
        meta = catalog.by_number.get(w.table.number)
        if meta is None:
            raise DatabaseError(f"Table {w.table.name} no longer exists")
        new = w.value
        # orjson may hand back an over-allocated buffer; the document cache counts len(), so
        # keep an exact-size copy or its byte budget would hold several times that in memory.
        encoded = None if new is None else bytes(memoryview(orjson.dumps(to_json(new))))
        docs.append((internal, meta.number, encoded))
        for index in meta.indexes.values():
            old_key = None if w.base is None else index_key(w.base, index.fields, internal)
            new_key = None if new is None else index_key(new, index.fields, internal)
            if old_key is not None and old_key != new_key:
                entries.append((index.index_id, old_key, internal, True))
            if new_key is not None:
                entries.append((index.index_id, new_key, internal, False))
    return docs, entries


def commit_record(ts: int, txn: Transaction, entries: list[PreparedEntry]) -> CommitRecord:
    """The write-log record of a commit: documents written and every index key touched."""
    keys: dict[int, list[bytes]] = {}
    for index_id, key, _, _ in entries:
        keys.setdefault(index_id, []).append(key)
    writes = tuple(
        DocumentWrite(w.table.name, w.doc_id, w.value)
        for w in txn.writes.values()
        if w.value is not w.base
    )
    return CommitRecord(ts, writes, keys, frozenset(w.table for w in writes))


def record_size(docs: list[PreparedDoc], entries: list[PreparedEntry]) -> int:
    """Rough memory a logged record holds (decoded values take about 3x their JSON)."""
    return 200 + sum(len(v) * 3 for _, _, v in docs if v is not None) + 80 * len(entries)
