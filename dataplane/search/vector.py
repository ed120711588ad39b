"""Vector search: the `vectorIndex`es of a deployment and `ctx.vectorSearch`.

Indexes (see hnsw.py) follow committed writes, persist to <data_dir>/search/vector/ on a
periodic checkpoint and on close, and at start-up are loaded, reconciled with the table
when the saved copy is stale, or rebuilt when it is missing. When no write to the table
committed after the search's snapshot, the index *is* that snapshot and its answers are
used as they are; otherwise the documents written since the snapshot are read back and
scored from their snapshot versions, so results are those of the snapshot.
"""

from __future__ import annotations

import math
import shutil
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from ..transactions import CommitRecord, Database, Transaction, WriteLogTruncated
from .feed import CommitWatermark
from .filters import filter_keys, parse_vector_filter
from .specs import SearchError, VectorIndexSpec

if TYPE_CHECKING:  # numpy and hnswlib load on first use: a deployment starts without them
    import numpy as np

    from .hnsw import VectorIndex

MAX_LIMIT = 256
DEFAULT_LIMIT = 10
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class VectorHit:
    """One result: the document id and its cosine similarity to the query."""

    doc_id: str
    score: float

    def to_convex(self) -> dict[str, Any]:
        return {"_id": self.doc_id, "_score": self.score}


class VectorSearchEngine:
    """All vector indexes of a deployment, fed by its Database's commits."""

    def __init__(
        self, db: Database, data_dir: Path, checkpoint_interval: float | None = 60.0
    ) -> None:
        self.db = db
        self.root = Path(data_dir) / "search" / "vector"
        self.checkpoint_interval = checkpoint_interval
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None
        if checkpoint_interval is not None:
            self._checkpointer = threading.Thread(target=self._checkpoint_loop, daemon=True)
            self._checkpointer.start()
        self._indexes: dict[str, VectorIndex] = {}  # searchable
        self._feeding: dict[str, VectorIndex] = {}  # receiving commits (searchable + building)
        self._lock = threading.Lock()
        db.add_commit_listener(self._on_commit)
        self._watermark = CommitWatermark(db)

    def _on_commit(self, record: CommitRecord) -> None:
        for index in list(self._feeding.values()):
            index.apply(record)
        self._watermark.observe(record)

    def _dir(self, spec: VectorIndexSpec) -> Path:
        return self.root / spec.key

    def specs(self) -> list[VectorIndexSpec]:
        return [i.spec for i in self._indexes.values()]

    def index(self, name: str) -> VectorIndex:
        """The live index "table.index" (for diagnostics and tests)."""
        found = self._indexes.get(name)
        if found is None:
            raise SearchError(f"Vector index {name} not found")
        return found

    def set_indexes(self, specs: Iterable[VectorIndexSpec]) -> None:
        """Make the deployment's vector indexes exactly `specs`, building new ones now."""
        wanted = {s.key: s for s in specs}
        with self._lock:
            for key, index in list(self._indexes.items()):
                if wanted.get(key) != index.spec:
                    del self._indexes[key]
                    self._feeding.pop(key, None)
                    shutil.rmtree(self._dir(index.spec), ignore_errors=True)
            for key, spec in wanted.items():
                if key in self._indexes:
                    continue
                from .hnsw import VectorIndex

                index = VectorIndex(spec)
                index.hold()  # queue commits from now on, until loaded or built
                self._feeding[key] = index
                try:
                    ts = self.db.latest_ts()  # commits after it are held for release(ts)
                    saved_ts = index.load(self._dir(spec))
                    if saved_ts == ts:
                        index.source = "disk"
                        index.release(ts)
                    elif saved_ts is not None:
                        log.info("reconciling vector index with its table", index=key)
                        index.rebuild(self.db, reset=False)
                        index.source = "reconciled"
                    else:
                        log.info("building vector index", index=key)
                        index.rebuild(self.db)
                        index.source = "rebuilt"
                except BaseException:
                    self._feeding.pop(key, None)
                    raise
                self._indexes[key] = index

    def checkpoint(self, *, only_changed: bool = False) -> None:
        """Persist the indexes so the next start-up can skip (or shorten) rebuilding.

        The saved ts is the newest commit every index has applied; a copy that reflects more
        than that only makes the next start-up reconcile, never miss a write.
        """
        for index in list(self._indexes.values()):
            with index.lock:
                if only_changed and index.changes == index.saved_changes:
                    continue
                index.save(self._dir(index.spec), self._watermark.seen)
                index.saved_changes = index.changes

    def _checkpoint_loop(self) -> None:
        while not self._stop.wait(self.checkpoint_interval):
            try:
                self.checkpoint(only_changed=True)
            except Exception:
                log.exception("periodic vector index checkpoint failed")

    def close(self) -> None:
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=60)
        try:
            self.checkpoint()
        except Exception:
            log.exception("saving vector indexes failed")
        self.db.remove_commit_listener(self._on_commit)

    def search(
        self,
        index_name: str,
        vector: Any,
        limit: Any = DEFAULT_LIMIT,
        filter_expr: Any = None,
        txn: Transaction | None = None,
    ) -> list[VectorHit]:
        """`ctx.vectorSearch(table, index, {vector, limit, filter})` with index "table.index".

        Results are documents of the snapshot `txn` (default: the latest commit), ordered by
        cosine similarity, best first.
        """
        index = self._indexes.get(index_name)
        if index is None:
            raise SearchError(f"Vector index {index_name} not found")
        spec = index.spec
        query = self._check_query(spec, vector, limit)
        limit = int(limit)
        clauses = parse_vector_filter(filter_expr, spec.filter_fields, index_name)
        if txn is None:
            txn = self.db.begin()
        self._watermark.wait(txn.snapshot_ts)
        with index.lock:
            allowed = index.allowed_labels(clauses)
            if index.applied_ts <= txn.snapshot_ts and not index.holding:
                return [VectorHit(d, s) for d, s in index.candidates(query, limit, allowed)]
            # The index is ahead of the snapshot. Documents written since then are scored
            # from their snapshot versions; every other document is the same in both, so
            # the index's top (limit + changed) holds the snapshot's top `limit` of them.
            changed = self._changed_since(spec.table, txn.snapshot_ts)
            found = index.candidates(query, limit + len(changed), allowed)
        scores = {doc_id: score for doc_id, score in found if doc_id not in changed}
        for doc_id in changed:
            score = self._recheck(txn, spec, doc_id, query, clauses)
            if score is not None:
                scores[doc_id] = score
        hits = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return [VectorHit(d, s) for d, s in hits]

    def _changed_since(self, table: str, ts: int) -> set[str]:
        try:
            records = self.db.commits_since(ts)
        except WriteLogTruncated:
            raise SearchError(
                "Vector search snapshot is older than the write log; retry with a newer one"
            ) from None
        return {w.doc_id for r in records for w in r.writes if w.table == table}

    @staticmethod
    def _check_query(spec: VectorIndexSpec, vector: Any, limit: Any) -> np.ndarray:
        where = f"Vector search on {spec.key}"
        if isinstance(limit, bool) or not isinstance(limit, int | float) or limit != int(limit):
            raise SearchError(f"{where}: limit must be an integer, got {limit!r}")
        if not 1 <= limit <= MAX_LIMIT:
            raise SearchError(f"{where}: limit must be between 1 and {MAX_LIMIT}, got {limit}")
        if not isinstance(vector, list) or not vector:
            raise SearchError(f"{where}: `vector` must be a non-empty array of numbers")
        if len(vector) != spec.dimensions:
            raise SearchError(
                f"{where}: the vector has {len(vector)} dimensions but the index has "
                f"{spec.dimensions}"
            )
        if not all(
            isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
            for x in vector
        ):
            raise SearchError(f"{where}: `vector` must contain only finite numbers")
        import numpy as np

        query = np.asarray(vector, dtype=np.float32)
        if not np.any(query):
            raise SearchError(f"{where}: the query vector must not be all zeros")
        return query

    @staticmethod
    def _recheck(
        txn: Transaction,
        spec: VectorIndexSpec,
        doc_id: str,
        query: np.ndarray,
        clauses: list[tuple[int, bytes]] | None,
    ) -> float | None:
        """The exact score of the document as of the snapshot, None if it is not a match."""
        from .hnsw import cosine, document_vector

        doc = txn.get(doc_id)
        if doc is None:
            return None
        vec = document_vector(doc, spec)
        if vec is None:
            return None
        if clauses is not None:
            keys = filter_keys(doc, spec.filter_fields)
            if not any(keys[position] == key for position, key in clauses):
                return None
        return cosine(query, vec)
