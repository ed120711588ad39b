"""Reading an uploaded import file as a stream of (table, documents) sources.

Formats: a snapshot ZIP (as exported by Convex or by us), JSON lines, a JSON array, CSV.
Documents are decoded lazily, one line at a time, so large files never sit in memory; only a
ZIP table's decoding hints (generated_schema.jsonl) are loaded up front.
"""

from __future__ import annotations

import csv
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from ..files import STORAGE_TABLE
from ..values import ConvexValueError, from_json
from .cleanjson import INFER, Context, context_from_json, from_clean
from .shapes import Shape, ShapeParseError, parse_shape

FORMATS = ("zip", "jsonLines", "jsonArray", "csv")
MAX_JSON_ARRAY_BYTES = 64 << 20
_NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\Z")


class ImportFormatError(ValueError):
    """The file cannot be read in the requested format; the message says where and why."""


@dataclass
class Source:
    """One table's worth of documents in the file (decoded Python values)."""

    table: str
    number: int | None
    open_docs: Callable[[], Iterator[tuple[int, dict[str, Any]]]]  # (line number, document)


def _json_object(raw: bytes, where: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ImportFormatError(f"{where}: not valid JSON ({exc})") from None


def _decoded(obj: Any, where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ImportFormatError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    try:
        value: dict[str, Any] = from_json(obj)
    except ConvexValueError as exc:
        raise ImportFormatError(f"{where}: {exc}") from None
    return value


def _jsonl(stream: IO[bytes], name: str) -> Iterator[tuple[int, Any]]:
    for n, line in enumerate(stream, 1):
        if line.strip():
            yield n, _json_object(line, f"{name} line {n}")


def sources(path: Path, fmt: str, table: str | None) -> list[Source]:
    """The tables in the file; ImportFormatError for a malformed file or wrong arguments."""
    if fmt not in FORMATS:
        raise ImportFormatError(f"Unknown import format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "zip":
        if table is not None:
            raise ImportFormatError("A table name cannot be given when importing a ZIP snapshot")
        return zip_sources(path)
    if not table:
        raise ImportFormatError(f"Importing {fmt} needs a table name")
    openers = {"jsonLines": _jsonl_docs, "jsonArray": _array_docs, "csv": _csv_docs}
    opener = openers[fmt]
    return [Source(table, None, lambda: opener(path))]


def _jsonl_docs(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open("rb") as f:
        for n, obj in _jsonl(f, "line"):
            yield n, _decoded(obj, f"line {n}")


def _array_docs(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if path.stat().st_size > MAX_JSON_ARRAY_BYTES:
        raise ImportFormatError(
            f"JSON arrays over {MAX_JSON_ARRAY_BYTES >> 20} MiB cannot be imported; "
            "use JSON lines (.jsonl) instead"
        )
    items = _json_object(path.read_bytes(), "file")
    if not isinstance(items, list):
        raise ImportFormatError("A jsonArray import must hold a JSON array of objects")
    for n, obj in enumerate(items, 1):
        yield n, _decoded(obj, f"element {n}")


def _csv_value(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    if _NUMBER.match(text):
        return float(text)
    return text


def _csv_docs(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        try:
            for row in reader:
                n = reader.line_num
                if None in row:
                    raise ImportFormatError(f"CSV line {n} has more cells than the header")
                yield n, {k: _csv_value(v) for k, v in row.items() if v is not None and v != ""}
        except csv.Error as exc:
            raise ImportFormatError(f"CSV line {reader.line_num}: {exc}") from None
        except UnicodeDecodeError:
            raise ImportFormatError("The CSV file is not UTF-8 text") from None


def open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFormatError(f"The file is not a valid ZIP archive: {exc}") from None


def zip_sources(path: Path) -> list[Source]:
    """User tables of a snapshot ZIP (plus `_storage` documents, blobs read separately)."""
    with open_zip(path) as zf:
        names = zf.namelist()
        numbers: dict[str, int] = {}
        if "_tables/documents.jsonl" in names:
            with zf.open("_tables/documents.jsonl") as f:
                for n, row in _jsonl(f, "_tables/documents.jsonl"):
                    name, number = (
                        (row.get("name"), row.get("id")) if isinstance(row, dict) else (None, None)
                    )
                    if not isinstance(name, str) or not isinstance(number, int):
                        raise ImportFormatError(
                            f"_tables/documents.jsonl line {n}: expected {{name, id}}"
                        )
                    numbers[name] = number
    out: list[Source] = []
    for name in names:
        parts = name.split("/")
        if parts[0] == "_components":
            raise ImportFormatError("Snapshots with components cannot be imported here")
        if len(parts) != 2 or parts[1] != "documents.jsonl" or parts[0] == "_tables":
            continue
        table = parts[0]
        if table.startswith("_") and table != STORAGE_TABLE:
            continue  # other system tables are not part of a restorable snapshot
        out.append(
            Source(
                table,
                numbers.get(table),
                _zip_opener(path, table, f"{table}/generated_schema.jsonl" in names),
            )
        )
    if not out and not numbers:
        raise ImportFormatError(
            "The ZIP has no <table>/documents.jsonl entries; is it a snapshot export?"
        )
    return out


def _load_hints(zf: zipfile.ZipFile, table: str) -> tuple[Shape, dict[str, Context]]:
    where = f"{table}/generated_schema.jsonl"
    hints: dict[str, Context] = {}
    shape: Shape | None = None
    with zf.open(where) as f:
        for n, row in _jsonl(f, where):
            if shape is None:
                if not isinstance(row, str):
                    raise ImportFormatError(f"{where} line 1 must be the table shape string")
                try:
                    shape = parse_shape(row)
                except ShapeParseError as exc:
                    raise ImportFormatError(f"{where}: {exc}") from None
                continue
            if not isinstance(row, dict):
                raise ImportFormatError(f"{where} line {n}: expected {{id: context}}")
            for doc_id, raw in row.items():
                try:
                    hints[doc_id] = context_from_json(raw)
                except ValueError as exc:
                    raise ImportFormatError(f"{where} line {n}: {exc}") from None
    if shape is None:
        raise ImportFormatError(f"{where} is empty")
    return shape, hints


def _zip_opener(
    path: Path, table: str, has_schema: bool
) -> Callable[[], Iterator[tuple[int, dict[str, Any]]]]:
    def docs() -> Iterator[tuple[int, dict[str, Any]]]:
        where = f"{table}/documents.jsonl"
        with open_zip(path) as zf:
            hints = _load_hints(zf, table) if has_schema else None
            try:
                with zf.open(where) as f:
                    for n, obj in _jsonl(f, where):
                        if hints is None:
                            yield n, _decoded(obj, f"{where} line {n}")
                            continue
                        if not isinstance(obj, dict):
                            raise ImportFormatError(f"{where} line {n}: expected a JSON object")
                        shape, ctxs = hints
                        try:
                            yield n, from_clean(obj, ctxs.get(str(obj.get("_id")), INFER), (shape,))
                        except ConvexValueError as exc:
                            raise ImportFormatError(f"{where} line {n}: {exc}") from None
            except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
                raise ImportFormatError(f"{where} is corrupt: {exc}") from None

    return docs


def storage_blob_names(path: Path) -> dict[str, str]:
    """`_storage/<id>[.ext]` entries by storage id."""
    with open_zip(path) as zf:
        out: dict[str, str] = {}
        for name in zf.namelist():
            parts = name.split("/")
            if len(parts) == 2 and parts[0] == STORAGE_TABLE and parts[1] != "documents.jsonl":
                out[parts[1].split(".", 1)[0]] = name
        return out
