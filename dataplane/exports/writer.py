"""Writing a snapshot ZIP: every user table read at one timestamp, page by page.

Layout (Convex's): README.md, `_tables/documents.jsonl` (name and number of each table),
`<table>/generated_schema.jsonl` (inferred shape, then per-document hints) +
`<table>/documents.jsonl` in clean JSON, and with storage `_storage/documents.jsonl` plus one
`_storage/<id><ext>` entry per file; the same again for each component under its directory
(paths.py). Each table is scanned three times (shape, hints, documents:
hints precede documents so an importer can stream) and nothing larger than a page is held.
"""

from __future__ import annotations

import mimetypes
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import orjson

from ..files import BlobStore, is_storage_table
from ..runtime.components import table_instance, user_table
from ..transactions import Database
from ..transactions.catalog import FIRST_USER_TABLE, TableMeta
from .cleanjson import INFER, context_of, context_to_json, to_clean
from .inference import TableShape, trim_context
from .paths import component_dir, table_dir

PAGE_ROWS = 1000
README = """# Welcome to your Convex snapshot export!

This ZIP file contains a snapshot of the tables in your deployment.

Documents for each table are listed as lines of JSON in
<table_name>/documents.jsonl files.

Restore it with `npx convex import <this file>`.
"""
Progress = Callable[[str], None]


def user_tables(db: Database) -> list[TableMeta]:
    """The app's and every component's own tables (not a component's `_storage`)."""
    return sorted(
        (
            m
            for m in db.catalog.by_name.values()
            if m.number >= FIRST_USER_TABLE and not user_table(m.name).startswith("_")
        ),
        key=lambda m: m.number,
    )


def storage_tables(db: Database) -> list[TableMeta]:
    """The app's `_storage` and each component's own."""
    return sorted(
        (m for m in db.catalog.by_name.values() if is_storage_table(m.name)),
        key=lambda m: m.name,
    )


class _Lines:
    """Buffers JSON lines and writes them to a ZIP entry in ~256 KiB pieces."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.buf = bytearray()

    def add(self, obj: Any) -> None:
        self.buf += orjson.dumps(obj)
        self.buf += b"\n"
        if len(self.buf) >= 256 * 1024:
            self.flush()

    def flush(self) -> None:
        if self.buf:
            self.out.write(bytes(self.buf))
            self.buf.clear()


def _entry(zf: zipfile.ZipFile, name: str) -> IO[bytes]:
    return zf.open(name, "w", force_zip64=True)


def write_snapshot(
    db: Database,
    ts: int,
    path: Path,
    *,
    blobs: BlobStore | None,
    progress: Progress,
) -> int:
    """Write the snapshot at `ts` to `path`; returns the number of documents written.

    `blobs` set means include file storage.
    """
    tables = user_tables(db)
    written = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        zf.writestr("README.md", README)
        progress("Backing up _tables")
        by_component: dict[str, list[Any]] = {"": []}
        for meta in tables:
            by_component.setdefault(table_instance(meta.name), []).append(meta)
        for meta in storage_tables(db):
            by_component.setdefault(table_instance(meta.name), [])
        for component, metas in sorted(by_component.items()):
            with _entry(zf, f"{component_dir(component)}_tables/documents.jsonl") as f:
                for meta in metas:
                    name = user_table(meta.name)
                    f.write(orjson.dumps({"name": name, "id": meta.number}) + b"\n")
        for meta in tables:
            progress(f"Backing up {meta.name}")
            shape = TableShape(meta.number)
            for doc in db.scan_table(meta.name, ts, PAGE_ROWS):
                shape.add(doc)
            unambiguous = shape.unambiguous_fields()
            with _entry(zf, f"{table_dir(meta.name)}/generated_schema.jsonl") as f:
                lines = _Lines(f)
                lines.add(shape.shape())
                for doc in db.scan_table(meta.name, ts, PAGE_ROWS):
                    ctx = trim_context(context_of(doc), unambiguous)
                    if ctx != INFER:
                        lines.add({doc["_id"]: context_to_json(ctx)})
                lines.flush()
            with _entry(zf, f"{table_dir(meta.name)}/documents.jsonl") as f:
                lines = _Lines(f)
                for doc in db.scan_table(meta.name, ts, PAGE_ROWS):
                    lines.add(to_clean(doc))
                    written += 1
                lines.flush()
        for storage in storage_tables(db) if blobs is not None else ():
            assert blobs is not None
            component = table_instance(storage.name)
            progress("Backing up _storage" + (f" in component {component}" if component else ""))
            written += _write_storage(zf, db, storage, ts, blobs)
    check_snapshot_kept(db, ts)
    return written


class SnapshotExpired(RuntimeError):
    """History garbage collection passed the export's snapshot while it was being read."""


def check_snapshot_kept(db: Database, ts: int) -> None:
    """Fail rather than ship a ZIP whose later pages may have lost versions to GC."""
    if db.retention_ts() > ts:
        raise SnapshotExpired(
            "The export took longer than the history retention window, so its snapshot "
            "was garbage-collected while being read; please try again"
        )


def _write_storage(
    zf: zipfile.ZipFile, db: Database, meta: TableMeta, ts: int, blobs: BlobStore
) -> int:
    count = 0
    where = table_dir(meta.name)
    with _entry(zf, f"{where}/documents.jsonl") as f:
        lines = _Lines(f)
        for doc in db.scan_table(meta.name, ts, PAGE_ROWS):
            line: dict[str, Any] = {
                "_id": doc["_id"],
                "_creationTime": doc["_creationTime"],
                "sha256": doc["sha256"],
                "size": int(doc["size"]),
            }
            if doc.get("contentType"):
                line["contentType"] = doc["contentType"]
            lines.add(line)
            count += 1
        lines.flush()
    for doc in db.scan_table(meta.name, ts, PAGE_ROWS):
        ext = mimetypes.guess_extension(doc.get("contentType") or "") or ""
        with _entry(zf, f"{where}/{doc['_id']}{ext}") as f:
            for chunk in blobs.get(doc["_id"]):
                f.write(chunk)
    return count
