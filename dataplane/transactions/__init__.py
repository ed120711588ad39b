"""Transactions over the document store: snapshot reads, read sets, OCC commit, write log."""

from __future__ import annotations

from .catalog import BY_CREATION_TIME, BY_ID, IndexDefinition
from .database import CommitListener, Database, open_database
from .errors import (
    DatabaseError,
    DocumentNotFound,
    DuplicateRequest,
    HistoryCollected,
    IndexNotFound,
    InvalidIdError,
    OccConflict,
    SchemaError,
    TransactionLimitError,
    WriteLogTruncated,
)
from .readset import CommitRecord, DocumentWrite, Interval, ReadSet, ReadSetIndex
from .transaction import MutationRequest, Savepoint, Transaction

__all__ = [
    "BY_CREATION_TIME",
    "BY_ID",
    "CommitListener",
    "CommitRecord",
    "Database",
    "DatabaseError",
    "DocumentNotFound",
    "DocumentWrite",
    "DuplicateRequest",
    "HistoryCollected",
    "IndexDefinition",
    "IndexNotFound",
    "Interval",
    "InvalidIdError",
    "MutationRequest",
    "OccConflict",
    "ReadSet",
    "ReadSetIndex",
    "Savepoint",
    "SchemaError",
    "Transaction",
    "TransactionLimitError",
    "WriteLogTruncated",
    "open_database",
]
