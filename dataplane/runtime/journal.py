"""Query journals: what makes reactive pagination stable.

A subscribed query that paginates ends its first page wherever `numItems` ran out. Re-run after
a write, the same page must keep that end (growing when documents are inserted inside it,
shrinking when some are deleted) instead of sliding, or items would jump between pages. The
end cursor travels as the query's journal: returned with each result, kept by the server for
re-runs and resent by clients when they reconnect. Opaque to clients; a journal this server
cannot read is ignored (the page is computed afresh).
"""

from __future__ import annotations

import orjson

MAX_JOURNAL_CHARS = 8192


def make_journal(end_cursor: str | None) -> str | None:
    """The journal for a run whose (first) paginate() ended at `end_cursor`."""
    if end_cursor is None:
        return None
    return orjson.dumps({"endCursor": end_cursor}).decode()


def journal_end_cursor(journal: str | None) -> str | None:
    """The end cursor recorded in `journal`, or None when absent or unreadable."""
    if not journal or len(journal) > MAX_JOURNAL_CHARS:
        return None
    try:
        data = orjson.loads(journal)
    except orjson.JSONDecodeError:
        return None
    cursor = data.get("endCursor") if isinstance(data, dict) else None
    return cursor if isinstance(cursor, str) else None
