"""Transactions over the document store: snapshot reads, read sets, OCC commit, write log."""

from __future__ import annotations

from .catalog import BY_CREATION_TIME, BY_ID, IndexDefinition
from .database import CommitListener, Database, open_database
from .errors import (
    DatabaseError,
    DocumentNotFound,
    IndexNotFound,
    InvalidIdError,
    OccConflict,
    SchemaError,
    TransactionLimitError,
    WriteLogTruncated,
)
from .readset import CommitRecord, DocumentWrite, Interval, ReadSet
from .transaction import Savepoint, Transaction

__all__ = [
    "BY_CREATION_TIME",
    "BY_ID",
    "CommitListener",
    "CommitRecord",
    "Database",
    "DatabaseError",
    "DocumentNotFound",
    "DocumentWrite",
    "IndexDefinition",
    "IndexNotFound",
    "Interval",
    "InvalidIdError",
    "OccConflict",
    "ReadSet",
    "Savepoint",
    "SchemaError",
    "Transaction",
    "TransactionLimitError",
    "WriteLogTruncated",
    "open_database",
]
