"""Applying an import: mode checks, clearing tables, batched inserts that keep `_id`s.

Documents are committed in batches of BATCH_DOCS (or BATCH_BYTES), each its own transaction,
so memory stays flat and other traffic interleaves; an import is therefore not atomic (a
failure leaves the batches already committed). Ids are kept when the exported id is free,
under the exported table number when that number is free too.
"""

from __future__ import annotations

import base64
import math
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..files import FileService, is_storage_table
from ..ids import MAX_ID_LEN, MIN_ID_LEN, decode_id, encode_id, new_internal_id
from ..runtime.components import table_instance, user_table
from ..transactions import Database, OccConflict, Transaction
from ..transactions.catalog import TableMeta, validate_table_name
from ..transactions.errors import SchemaError
from ..validators import ValidationError, check_value
from ..values import ConvexValueError, validate_document
from .paths import ComponentPathError, check_component, table_dir
from .reader import ImportFormatError, Source, open_zip, sources, storage_blob_names
from .writer import user_tables

MODES = ("requireEmpty", "append", "replace", "replaceAll")
BATCH_DOCS = 2000
BATCH_BYTES = 4 << 20
Progress = Callable[[str, str | None], None]  # (progress message, checkpoint or None)


@dataclass(frozen=True)
class ImportRequest:
    """What to import: the uploaded file, its format, the mode and (non-ZIP) the table."""

    path: Path
    fmt: str
    mode: str
    table: str | None
    component: str = ""  # `npx convex import --component`: the file goes into that component

    def check(self) -> None:
        try:
            check_component(self.component)
        except ComponentPathError as exc:
            raise ImportFormatError(str(exc)) from None
        if self.mode not in MODES:
            raise ImportFormatError(
                f"Unknown import mode {self.mode!r}: use one of {', '.join(MODES)}"
            )
        if self.table is not None:
            try:
                validate_table_name(self.table)
            except SchemaError as exc:
                raise ImportFormatError(str(exc)) from None
            if self.table.startswith("_"):
                raise ImportFormatError(f"Cannot import into system table {self.table}")


def _live_count(db: Database, table: str) -> int:
    return db.begin().count(table) if table in db.catalog.by_name else 0


def plan(db: Database, req: ImportRequest) -> str:
    """Read the whole file once (validating it) and describe the change to confirm."""
    req.check()
    rows = []
    for src in sources(req.path, req.fmt, req.table, req.component):
        existing = _live_count(db, src.table)
        if req.mode == "requireEmpty" and existing:
            raise ImportFormatError(_not_empty(src.table, existing))
        deleted = existing if req.mode in ("replace", "replaceAll") else 0
        rows.append((src.table, str(_checked_count(src)), f"{deleted} of {existing}"))
    if req.mode == "replaceAll":
        named = {r[0] for r in rows}
        for meta in user_tables(db):
            if meta.name not in named and (n := _live_count(db, meta.name)):
                rows.append((meta.name, "0", f"{n} of {n}"))
    header = ("table", "create", "delete")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    lines = [
        " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *rows]
    ]
    lines.insert(1, "-" * len(lines[0]))
    return (
        "Import change summary:\n"
        + "\n".join(lines)
        + "\nOnce the import has started, it will run in the background.\n"
        "Interrupting `npx convex import` will not cancel it."
    )


def _checked_count(src: Source) -> int:
    """Count a source's documents, checking each against Convex's document rules."""
    n = 0
    for n, (line, doc) in enumerate(src.open_docs(), 1):  # noqa: B007 - n is the count
        body = {k: v for k, v in doc.items() if k not in ("_id", "_creationTime")}
        try:
            validate_document(body)
        except ConvexValueError as exc:
            raise ImportFormatError(f"Table {src.table}, document {line}: {exc}") from None
    return n


def _not_empty(table: str, n: int) -> str:
    return (
        f"Table {table} already has {n} documents. Use --replace to replace them or "
        "--append to add to them."
    )


def clear_table(db: Database, table: str) -> int:
    """Delete every document of a table, a page per transaction."""
    deleted = 0
    while table in db.catalog.by_name:

        def page(txn: Transaction) -> int:
            ids = [d["_id"] for _, d in zip(range(1000), txn.table_scan(table), strict=False)]
            for doc_id in ids:
                txn.delete(doc_id)
            return len(ids)

        n, _ = db.run_mutation(page)
        deleted += n
        if n == 0:
            break
    return deleted


class SchemaCheck:
    """The active schema's document validators, per component (a no-op for a component
    without a schema or with schema validation off)."""

    def __init__(self, schema: dict[str, Any] | None) -> None:
        self.validated: dict[str, bool] = {}  # component path -> validation on
        self.tables: dict[str, Any] = {}
        self.declaring: set[str] = set()  # components whose schema names any table
        if not schema:
            return
        by_component = schema.get("componentValidation")
        if isinstance(by_component, dict):
            self.validated = {str(k): bool(v) for k, v in by_component.items()}
        else:
            self.validated = {"": bool(schema.get("schemaValidation", True))}
        for t in schema.get("tables") or []:
            if isinstance(t, dict) and isinstance(t.get("tableName"), str):
                self.tables[t["tableName"]] = t.get("documentType")
        self.declaring = {table_instance(name) for name in self.tables}

    def __call__(self, table: str, doc: dict[str, Any]) -> None:
        component = table_instance(table)
        if user_table(table).startswith("_") or not self.validated.get(component):
            return
        if table not in self.tables:
            if component in self.declaring:  # a schema without tables declares nothing
                raise ConvexValueError(f"Table {table} is not declared in the schema")
            return
        try:
            check_value(
                self.tables[table],
                doc,
                allow_system_fields=True,
                id_check=lambda _t, s: decode_id(s) is not None,
            )
        except ValidationError as exc:
            raise ConvexValueError(f"Document does not match the schema: {exc}") from None


def _identity(db: Database, txn: Transaction, doc_id: Any) -> bytes:
    """The exported document's internal id if no live document holds it, else a fresh one."""
    parts = decode_id(doc_id) if isinstance(doc_id, str) else None
    if parts is None or parts.internal in txn.writes:
        return new_internal_id()
    taken = db.document_exists(parts.internal, txn.snapshot_ts)
    return new_internal_id() if taken else parts.internal


def _creation_time(value: Any) -> float:
    if isinstance(value, float) and math.isfinite(value) and value > 0:
        return value
    return time.time_ns() / 1e6


def _commit(db: Database, txn: Transaction) -> None:
    """Commit a batch of inserts; they read nothing, so a conflict only means a stale log."""
    try:
        db.commit(txn)
    except OccConflict:
        retry = db.begin()
        retry.take_writes(txn)
        db.commit(retry)


def exported_number(src: Source) -> int | None:
    """The table number the source had where it was exported (from `_tables` or its ids)."""
    if src.number is not None:
        return src.number
    for _, doc in src.open_docs():
        doc_id = doc.get("_id")
        parts = decode_id(doc_id) if isinstance(doc_id, str) else None
        return None if parts is None else parts.table_number
    return None


def remap_ids(value: Any, moves: dict[int, int]) -> Any:
    """Rewrite ids of tables whose number changed on import, so references stay valid."""
    t = type(value)
    if t is str:
        if MIN_ID_LEN <= len(value) <= MAX_ID_LEN:
            parts = decode_id(value)
            if parts is not None and parts.table_number in moves:
                return encode_id(moves[parts.table_number], parts.internal)
        return value
    if t is list:
        return [remap_ids(v, moves) for v in value]
    if t is dict:
        return {k: remap_ids(v, moves) for k, v in value.items()}
    return value


def insert_documents(
    db: Database,
    meta: TableMeta,
    src: Source,
    check: SchemaCheck,
    progress: Progress,
    moves: dict[int, int],
) -> int:
    """Insert a source's documents into a table in batches; returns how many."""
    txn = db.begin()
    batch_bytes = written = 0
    for n, doc in src.open_docs():
        internal = _identity(db, txn, doc.get("_id"))
        body = {"_id": "", "_creationTime": _creation_time(doc.get("_creationTime"))}
        body.update(
            (k, remap_ids(v, moves) if moves else v)
            for k, v in doc.items()
            if k not in ("_id", "_creationTime")
        )
        txn.stage_insert(meta, internal, body)
        try:
            batch_bytes += validate_document(body)
            check(meta.name, body)
        except ConvexValueError as exc:
            raise ImportFormatError(f"Table {meta.name}, document {n}: {exc}") from None
        written += 1
        if len(txn.writes) >= BATCH_DOCS or batch_bytes >= BATCH_BYTES:
            _commit(db, txn)
            progress(f'Importing "{meta.name}" ({written} documents)', None)
            txn = db.begin()
            batch_bytes = 0
    if txn.writes:
        _commit(db, txn)
    return written


class BlobNames:
    """The ZIP's file entries by (component path, storage id), read on first use."""

    def __init__(self, path: Path, component: str) -> None:
        self.path = path
        self.component = component
        self._names: dict[tuple[str, str], str] | None = None

    def get(self, component: str, storage_id: str) -> str | None:
        if self._names is None:
            self._names = storage_blob_names(self.path, self.component)
        return self._names.get((component, storage_id))


def import_storage(
    db: Database, files: FileService, meta: TableMeta, src: Source, blob_names: BlobNames
) -> int:
    """Import a (component's) `_storage` documents with their bytes from the ZIP's
    `<component dir>/_storage/<id>` entries."""
    blobs = files.blobs
    count = 0
    with open_zip(blob_names.path) as zf:
        for n, doc in src.open_docs():
            old_id = str(doc.get("_id"))
            entry = blob_names.get(src.component, old_id)
            if entry is None:
                raise ImportFormatError(
                    f"{table_dir(src.table)}/documents.jsonl line {n}: the file {old_id} "
                    "is not in the ZIP"
                )
            txn = db.begin()
            internal = _identity(db, txn, old_id)
            new_id = encode_id(meta.number, internal)
            staging = f"staging-{uuid.uuid4().hex}"
            info = blobs.put(staging, _chunks(zf, entry))
            sha = base64.b64encode(info.sha256).decode()
            if doc.get("sha256") not in (None, sha):
                blobs.delete(staging)
                raise ImportFormatError(f"File {old_id} in the ZIP does not match its sha256")
            body: dict[str, Any] = {
                "_id": "",
                "_creationTime": _creation_time(doc.get("_creationTime")),
                "sha256": sha,
                "size": float(info.size),
            }
            if isinstance(doc.get("contentType"), str):
                body["contentType"] = doc["contentType"]
            txn.stage_insert(meta, internal, body)
            try:
                blobs.rename(staging, new_id)
                _commit(db, txn)
            except BaseException:
                blobs.delete(staging)
                blobs.delete(new_id)
                raise
            count += 1
    return count


def _chunks(zf: zipfile.ZipFile, entry: str) -> Any:
    with zf.open(entry) as f:
        while chunk := f.read(256 * 1024):
            yield chunk


def perform(
    db: Database,
    files: FileService,
    schema: dict[str, Any] | None,
    req: ImportRequest,
    progress: Progress,
) -> int:
    """Run the import into `db` (validated against the active `schema`); returns the number
    of documents written."""
    req.check()
    srcs = sources(req.path, req.fmt, req.table, req.component)
    if req.mode == "requireEmpty":
        for src in srcs:
            if n := _live_count(db, src.table):
                raise ImportFormatError(_not_empty(src.table, n))
    if req.mode in ("replace", "replaceAll"):
        doomed = {s.table for s in srcs}
        if req.mode == "replaceAll":
            doomed.update(m.name for m in user_tables(db))
        for table in sorted(doomed):
            progress(f"Clearing {table}", None)
            clear_table(db, table)
        if any(is_storage_table(t) for t in doomed):
            files.flush()  # old blobs are gone before ids are reused
    check = SchemaCheck(schema)
    metas: dict[str, TableMeta] = {}
    # Per component: exported table number -> number here, where they differ. (Convex numbers
    # each component's tables on their own; ids only name tables of their own component.)
    moves: dict[str, dict[int, int]] = {}
    # The app's tables claim their exported numbers first, then components from the top down.
    for src in sorted(srcs, key=lambda s: (bool(s.component), s.component.count("/"))):
        old = exported_number(src)
        metas[src.table] = db.ensure_table(src.table, number=old)
        if old is not None and old != metas[src.table].number:
            moves.setdefault(src.component, {})[old] = metas[src.table].number
    blob_names = BlobNames(req.path, req.component) if req.fmt == "zip" else None
    written = 0
    for src in srcs:
        progress(f'Importing "{src.table}"', None)
        if is_storage_table(src.table):
            if blob_names is None:
                raise ImportFormatError("Files can only be imported from a ZIP snapshot")
            n = import_storage(db, files, metas[src.table], src, blob_names)
        else:
            n = insert_documents(
                db, metas[src.table], src, check, progress, moves.get(src.component, {})
            )
        written += n
        progress(f'Imported "{src.table}"', f'Imported "{src.table}" ({n} documents)')
    return written
