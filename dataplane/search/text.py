"""Full-text search: one in-memory tantivy index per `searchIndex` of the schema.

Ranking is tantivy's BM25; every query term may match (OR), and the last term also
matches as a prefix (search-as-you-type): it is expanded into the indexed terms it begins,
each scored by BM25 like a typed term, so a document using a completion more often ranks
higher. Filter fields are exact-match keyword fields.

A search inside a mutation sees the mutation's own writes: the documents it inserted,
changed or deleted in the searched table are matched and scored in Python against the
index's statistics (BM25 without length normalisation) and merged into the ranking.

Reads are serializable: a search at snapshot S uses a tantivy searcher whose contents are
exactly the table at S. Commits are queued and folded into tantivy lazily (a tantivy commit
costs milliseconds, too much to pay inside every database commit); a search first applies
the queued commits up to S, one tantivy commit per database commit, keeping a searcher for
each state. A search records the whole table in the read set, so any write to the table
re-runs subscribed search queries.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import structlog
import tantivy

from ..transactions import BY_ID, CommitRecord, Database, Transaction
from ..values import ConvexValueError, from_json
from .feed import CommitWatermark, LiveIndex
from .filters import field_value, filter_keys, value_key
from .specs import SearchError, SearchIndexSpec

MAX_RESULTS = 1024
MAX_TERMS = 16
MAX_TERM_LEN = 32
MAX_FILTERS = 8
MAX_PREFIX_EXPANSIONS = 32  # indexed terms the last query term may complete to
BM25_K1 = 1.2
MAX_TAIL = 512  # queued commits beyond this are folded in one batch without a search
PER_COMMIT_FLUSH = 64  # up to this many queued commits get one searcher each
HISTORY = 64
ANALYZER = "convex_text"
log = structlog.get_logger(__name__)


class SearchSnapshotUnavailable(SearchError):
    """The index no longer has a searcher for this (old) snapshot; retry at a newer one."""


def analyzer() -> Any:
    """Split on anything but letters and digits, lowercase, drop terms over 32 bytes."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_TERM_LEN + 1))
        .filter(tantivy.Filter.lowercase())
        .build()
    )


_ANALYZER = analyzer()


def tokenize(text: str) -> list[str]:
    """The terms of a query or document, as the index sees them."""
    return list(_ANALYZER.analyze(text))


@dataclass(slots=True)
class _State:
    """A searcher over the table as of commit `ts`; valid for snapshots in [ts, until)."""

    ts: int
    until: int | None
    searcher: Any


class TextIndex(LiveIndex):
    """One tantivy index: doc id (raw), the search field, one keyword field per filter."""

    def __init__(self, spec: SearchIndexSpec) -> None:
        super().__init__(spec.table)
        self.spec = spec
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        builder.add_text_field("body", tokenizer_name=ANALYZER, index_option="freq")
        for i in range(len(spec.filter_fields)):
            builder.add_text_field(f"f{i}", tokenizer_name="raw", index_option="basic")
        self.schema = builder.build()
        self._tail: deque[CommitRecord] = deque()
        self._history: deque[_State] = deque(maxlen=HISTORY)
        self.clear()

    # ----- writes -----------------------------------------------------------------------

    def clear(self) -> None:
        self.index = tantivy.Index(self.schema)
        self.index.register_tokenizer(ANALYZER, analyzer())
        self.writer = self.index.writer(heap_size=15_000_000, num_threads=1)
        self._tail.clear()
        self._history.clear()

    def upsert(self, doc_id: str, doc: dict[str, Any]) -> None:
        self.writer.delete_documents_by_term("id", doc_id)
        text = field_value(doc, self.spec.search_field)
        fields: dict[str, Any] = {"id": doc_id, "body": text if isinstance(text, str) else ""}
        for i, key in enumerate(filter_keys(doc, self.spec.filter_fields)):
            fields[f"f{i}"] = key.hex()
        self.writer.add_document(tantivy.Document(**fields))

    def remove(self, doc_id: str) -> None:
        self.writer.delete_documents_by_term("id", doc_id)

    def apply(self, record: CommitRecord) -> None:
        """Queue the commit; fold the queue in if it grew large without any search."""
        if self.table not in record.tables:
            return
        with self.lock:
            if self.holding:
                super().apply(record)
                return
            self._tail.append(record)
            if len(self._tail) > MAX_TAIL:
                self._flush(record.ts, batch=True)

    def _publish(self, ts: int, first_ts: int | None = None) -> None:
        """Make a searcher for the state after commit ts; the previous state ends where the
        first commit folded into this one (first_ts) begins."""
        self.writer.commit()
        self.index.reload()
        if self._history:
            self._history[-1].until = ts if first_ts is None else first_ts
        self._history.append(_State(ts, None, self.index.searcher()))

    def release(self, ts: int) -> None:
        """After a build at snapshot ts: publish that state, queue the commits made since."""
        with self.lock:
            self._publish(ts)
            self._tail.extend(r for r in self._pending if r.ts > ts)
            self._pending = []
            self._building = False

    def _flush(self, upto: int, *, batch: bool = False) -> None:
        """Fold queued commits with ts <= upto into tantivy, publishing searchers."""
        ready = 0
        while ready < len(self._tail) and self._tail[ready].ts <= upto:
            ready += 1
        if not ready:
            return
        batch = batch or ready > PER_COMMIT_FLUSH
        first_ts = self._tail[0].ts
        for n in range(ready):
            record = self._tail.popleft()
            self._apply_locked(record)
            if not batch:
                self._publish(record.ts)
            elif n == ready - 1:
                self._publish(record.ts, first_ts)

    def searcher_at(self, ts: int) -> Any:
        """A searcher over exactly the table's contents at snapshot ts."""
        with self.lock:
            self._flush(ts)
            for state in reversed(self._history):
                if state.ts <= ts and (state.until is None or ts < state.until):
                    return state.searcher
        raise SearchSnapshotUnavailable(
            f"Search index {self.spec.key} has no state for this snapshot any more; "
            "the query will be retried at a newer one"
        )

    # ----- queries ----------------------------------------------------------------------

    def query_terms(self, searcher: Any, terms: list[str]) -> list[str]:
        """The terms to score: the query's, plus the indexed completions of its last term
        (the most frequent first, at most MAX_PREFIX_EXPANSIONS)."""
        completions = searcher.terms_with_prefix("body", terms[-1], limit=MAX_PREFIX_EXPANSIONS)
        return list(dict.fromkeys([*terms, *(term for term, _ in completions)]))

    def build_query(self, terms: list[str], filters: list[tuple[int, bytes]]) -> Any:
        """Any of `terms` (see query_terms), every filter."""
        Q, Occur = tantivy.Query, tantivy.Occur
        should = [(Occur.Should, Q.term_query(self.schema, "body", t)) for t in terms]
        clauses = [(Occur.Must, Q.boolean_query(should))]
        for position, key in filters:
            clauses.append((Occur.Must, Q.term_query(self.schema, f"f{position}", key.hex())))
        return Q.boolean_query(clauses)


def parse_search_filters(
    spec: SearchIndexSpec, filters: Any
) -> tuple[str, list[tuple[int, bytes]]]:
    """SerializedQuery `Search` source filters -> (query text, [(filter position, key)])."""
    where = f"Search query on {spec.key}"
    if not isinstance(filters, list):
        raise SearchError(f"{where}: filters must be a list")
    text: str | None = None
    eqs: list[tuple[int, bytes]] = []
    for f in filters:
        kind = f.get("type") if isinstance(f, dict) else None
        path = f.get("fieldPath") if isinstance(f, dict) else None
        if kind == "Search":
            if path != spec.search_field:
                raise SearchError(
                    f"{where}: the search field is {spec.search_field!r}, not {path!r}"
                )
            if text is not None:
                raise SearchError(f"{where}: only one .search() is allowed")
            if not isinstance(f.get("value"), str):
                raise SearchError(f"{where}: the search text must be a string")
            text = f["value"]
        elif kind == "Eq":
            if path not in spec.filter_fields:
                raise SearchError(
                    f"{where}: {path!r} is not a filter field of the index "
                    f"(filter fields: {', '.join(spec.filter_fields) or 'none'})"
                )
            try:
                value = from_json(f.get("value"))
            except ConvexValueError as exc:
                raise SearchError(f"{where}: {exc}") from None
            eqs.append((spec.filter_fields.index(path), value_key(value)))
        else:
            raise SearchError(f"{where}: unknown search filter {f!r}")
    if text is None:
        raise SearchError(f"{where}: a search query needs q.search({spec.search_field!r}, ...)")
    if len(eqs) > MAX_FILTERS:
        raise SearchError(f"{where}: at most {MAX_FILTERS} .eq() filters are allowed")
    return text, eqs


class TextSearchEngine:
    """All search indexes of a deployment, fed by its Database's commits."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._indexes: dict[str, TextIndex] = {}
        self._feeding: dict[str, TextIndex] = {}
        self._lock = threading.Lock()
        db.add_commit_listener(self._on_commit)
        self._watermark = CommitWatermark(db)

    def _on_commit(self, record: CommitRecord) -> None:
        for index in list(self._feeding.values()):
            index.apply(record)
        self._watermark.observe(record)

    def specs(self) -> list[SearchIndexSpec]:
        return [i.spec for i in self._indexes.values()]

    def index(self, name: str) -> TextIndex:
        found = self._indexes.get(name)
        if found is None:
            raise SearchError(f"Search index {name} not found")
        return found

    def set_indexes(self, specs: Iterable[SearchIndexSpec]) -> None:
        """Make the deployment's search indexes exactly `specs`, building new ones now."""
        wanted = {s.key: s for s in specs}
        with self._lock:
            for key, index in list(self._indexes.items()):
                if wanted.get(key) != index.spec:
                    del self._indexes[key]
                    self._feeding.pop(key, None)
            for key, spec in wanted.items():
                if key in self._indexes:
                    continue
                index = TextIndex(spec)
                index.hold()
                self._feeding[key] = index
                try:
                    log.info("building search index", index=key)
                    index.rebuild(self.db)
                except BaseException:
                    self._feeding.pop(key, None)
                    raise
                self._indexes[key] = index

    def close(self) -> None:
        self.db.remove_commit_listener(self._on_commit)

    def search(
        self, txn: Transaction, index_name: str, filters: Any, limit: int = MAX_RESULTS
    ) -> list[dict[str, Any]]:
        """Documents matching a `Search` query source, most relevant first, at txn's snapshot.

        `filters` is the SerializedQuery source's list of {type: Search|Eq, fieldPath, value}.
        """
        index = self.index(index_name)
        text, eqs = parse_search_filters(index.spec, filters)
        return self.search_text(txn, index, text, eqs, limit)

    def search_text(
        self,
        txn: Transaction,
        index: TextIndex,
        text: str,
        eqs: list[tuple[int, bytes]],
        limit: int = MAX_RESULTS,
    ) -> list[dict[str, Any]]:
        if not 1 <= limit <= MAX_RESULTS:
            raise SearchError(f"Search results are limited to 1..{MAX_RESULTS}, got {limit}")
        self._record_read(txn, index.spec.table)
        terms = tokenize(text)
        if len(terms) > MAX_TERMS:
            raise SearchError(
                f"Search query on {index.spec.key} has {len(terms)} terms; at most "
                f"{MAX_TERMS} are allowed"
            )
        if not terms:
            return []
        self._watermark.wait(txn.snapshot_ts)
        searcher = index.searcher_at(txn.snapshot_ts)
        own = [w for w in txn.writes.values() if w.table.name == index.spec.table]
        changed = {w.doc_id for w in own}
        query = index.build_query(index.query_terms(searcher, terms), eqs)
        # Hits for documents this transaction changed are stale: fetch enough to drop them.
        hits = searcher.search(query, min(limit + len(changed), MAX_RESULTS), count=False).hits
        ranked: list[tuple[float, dict[str, Any]]] = []
        for score, address in hits:
            doc_id = searcher.doc(address)["id"][0]
            if doc_id in changed:
                continue
            doc = txn.get(doc_id)
            if doc is not None:
                ranked.append((float(score), doc))
        if own:
            docs = [w.value for w in own if w.value is not None]
            ranked.extend(_score_own_writes(index, searcher, docs, terms, eqs))
            ranked.sort(key=lambda hit: -hit[0])  # stable: index order among equal scores
        return [doc for _, doc in ranked[:limit]]

    @staticmethod
    def _record_read(txn: Transaction, table: str) -> None:
        meta = txn.db.catalog.by_name.get(table)
        if meta is None:
            txn.read_set.add_missing_table(table)
        else:
            txn.read_set.add_interval(meta.indexes[BY_ID].index_id, b"", None)


def _score_own_writes(
    index: TextIndex,
    searcher: Any,
    docs: list[dict[str, Any]],
    terms: list[str],
    eqs: list[tuple[int, bytes]],
) -> list[tuple[float, dict[str, Any]]]:
    """(score, document) for a transaction's written documents that match the search: the
    query's terms (the last also as a prefix) and every filter. BM25 with the index's own
    document frequencies (the scale of the scores it gives its hits), without length
    normalisation."""
    spec = index.spec
    matching: list[tuple[dict[str, Any], Counter[str]]] = []
    for doc in docs:
        keys = filter_keys(doc, spec.filter_fields)
        if any(keys[position] != key for position, key in eqs):
            continue
        text = field_value(doc, spec.search_field)
        counts = Counter(tokenize(text)) if isinstance(text, str) else Counter[str]()
        if any(t in counts for t in terms) or any(w.startswith(terms[-1]) for w in counts):
            matching.append((doc, counts))
    if not matching:
        return []
    total = max(searcher.num_docs, 1)
    scored: list[tuple[float, dict[str, Any]]] = []
    for doc, counts in matching:
        words = set(terms) | {w for w in counts if w.startswith(terms[-1])}
        score = 0.0
        for word in words:
            tf = counts.get(word, 0)
            if not tf:
                continue
            df = min(searcher.doc_freq("body", word), total)
            idf = math.log(1 + (total - df + 0.5) / (df + 0.5))
            score += idf * tf * (BM25_K1 + 1) / (tf + BM25_K1)
        scored.append((score, doc))
    return scored
