"""Cache of the latest committed version of recently read or written documents.

Entries are (table number, version ts, stored JSON or None if deleted), as storage returns them.
A snapshot at T may use an entry only if its version ts <= T: the committer overwrites an entry
with every newer version, so an entry is always the newest version, and the newest version <= T
is what T must see. Callers serialise `put` with the lock that publishes commits, and only cache
a version read from storage when it is known to be the newest (the reader's snapshot is the
latest commit). Raw JSON is cached, not dicts, so no caller can mutate a shared value.
"""

from __future__ import annotations

from collections import OrderedDict

Entry = tuple[int, int, bytes | None]


class DocumentCache:
    """Byte-bounded LRU keyed by internal document id."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._entries: OrderedDict[bytes, Entry] = OrderedDict()

    def lookup(self, internal: bytes, snapshot_ts: int) -> Entry | None:
        """The entry if it is visible at snapshot_ts (OrderedDict ops are atomic under the GIL)."""
        entry = self._entries.get(internal)
        if entry is None or entry[1] > snapshot_ts:
            return None
        return entry

    def put(self, internal: bytes, entry: Entry) -> None:
        """Record a version (newest known); caller holds the publishing lock."""
        old = self._entries.pop(internal, None)
        if old is not None:
            self._bytes -= _size(old)
        self._entries[internal] = entry
        self._bytes += _size(entry)
        while self._bytes > self._max_bytes and self._entries:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= _size(evicted)

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0


def _size(entry: Entry) -> int:
    return 64 + (len(entry[2]) if entry[2] is not None else 0)
