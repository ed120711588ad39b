"""Per-transaction limits, the same defaults Convex documents for queries and mutations."""

from __future__ import annotations

from typing import Final

MAX_DOCUMENTS_READ: Final = 32_000
MAX_BYTES_READ: Final = 16 << 20
MAX_INDEX_RANGES_READ: Final = 4_096
MAX_DOCUMENTS_WRITTEN: Final = 16_000
MAX_BYTES_WRITTEN: Final = 16 << 20

MAX_TABLES: Final = 10_000
MAX_INDEXES_PER_TABLE: Final = 32
MAX_FIELDS_PER_INDEX: Final = 16
MAX_NAME_LEN: Final = 64

# Old document/index versions are kept this long (snapshot reads may go back this far)...
RETENTION_NS: Final = 10 * 60 * 1_000_000_000
# ...and collected by a background thread this often.
GC_INTERVAL_S: Final = 120.0
# Rows examined per garbage-collection step (the committer lock is held for one step).
GC_CHUNK_ROWS: Final = 2_000

# Latest versions of recently used documents kept in memory (stored JSON bytes).
DOCUMENT_CACHE_BYTES: Final = 32 << 20

# How many recent commits stay in memory for OCC validation and commits_since.
WRITE_LOG_CAPACITY: Final = 50_000
# ...and at most about this many bytes of documents, whichever limit is hit first.
WRITE_LOG_MAX_BYTES: Final = 64 << 20
