"""A storage-level helper import needs and the Transaction API does not offer on purpose.

Import inserts documents with their exported `_id` and `_creationTime` (tables keep their
exported numbers through `Database.ensure_table(name, number=...)`, since ids encode the
table number and references between documents only stay valid that way).
"""

from __future__ import annotations

from typing import Any

from ..ids import encode_id
from ..transactions import Transaction
from ..transactions.catalog import (
    TableMeta,
)
from ..transactions.transaction import PendingWrite


def stage_insert(txn: Transaction, meta: TableMeta, internal: bytes, doc: dict[str, Any]) -> str:
    """Buffer an insert with a chosen identity; `doc` must already carry `_creationTime`."""
    doc_id = encode_id(meta.number, internal)
    doc["_id"] = doc_id
    txn.writes[internal] = PendingWrite(meta, doc_id, None, doc)
    return doc_id
