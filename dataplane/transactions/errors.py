"""Database errors. All derive from DatabaseError and carry a message fit for a developer."""

from __future__ import annotations


class DatabaseError(Exception):
    """Base class of every error raised by the transactional storage engine."""


class OccConflict(DatabaseError):
    """A write committed since the snapshot touched something this transaction read."""


class TransactionLimitError(DatabaseError):
    """A transaction read or wrote more than Convex's per-transaction limits allow."""


class DocumentNotFound(DatabaseError):
    """A replace, patch or delete named a document that does not exist."""


class InvalidIdError(DatabaseError):
    """A string that is not a well-formed document id, or an id of the wrong table."""


class IndexNotFound(DatabaseError):
    """A query named an index that the table does not have."""


class SchemaError(DatabaseError):
    """An invalid table name or index definition."""


class WriteLogTruncated(DatabaseError):
    """commits_since was asked about commits older than the in-memory write log keeps."""


class DuplicateRequest(DatabaseError):
    """A mutation request key was already committed: replay its recorded result instead."""

    def __init__(self, key: str) -> None:
        super().__init__(f"mutation request {key[:12]}... already committed")
        self.key = key


class HistoryCollected(DatabaseError):
    """A read asked for a snapshot or changes older than the retained history."""
