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
from .paths import ComponentPathError, join, storage_file, table_file
from .shapes import Shape, ShapeParseError, parse_shape

FORMATS = ("zip", "jsonLines", "jsonArray", "csv")
MAX_JSON_ARRAY_BYTES = 64 << 20
_NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\Z")


class ImportFormatError(ValueError):
    """The file cannot be read in the requested format; the message says where and why."""


@dataclass
class Source:
    """One table's worth of documents in the file (decoded Python values)."""

    table: str  # the stored name: `<component path>/<table>` inside a component
    number: int | None
    open_docs: Callable[[], Iterator[tuple[int, dict[str, Any]]]]  # (line number, document)
    component: str = ""


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


def sources(path: Path, fmt: str, table: str | None, component: str = "") -> list[Source]:
    """The tables in the file, placed in component `component` (its children's below it);
    ImportFormatError for a malformed file or wrong arguments."""
    if fmt not in FORMATS:
        raise ImportFormatError(f"Unknown import format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "zip":
        if table is not None:
            raise ImportFormatError("A table name cannot be given when importing a ZIP snapshot")
        return zip_sources(path, component)
    if not table:
        raise ImportFormatError(f"Importing {fmt} needs a table name")
    openers = {"jsonLines": _jsonl_docs, "jsonArray": _array_docs, "csv": _csv_docs}
    opener = openers[fmt]
    return [Source(join(component, table), None, lambda: opener(path), component)]


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


def _table_numbers(zf: zipfile.ZipFile, entry: str) -> dict[str, int]:
    """`{name: number}` from one component's `_tables/documents.jsonl`."""
    numbers: dict[str, int] = {}
    with zf.open(entry) as f:
        for n, row in _jsonl(f, entry):
            name, number = (
                (row.get("name"), row.get("id")) if isinstance(row, dict) else (None, None)
            )
            if not isinstance(name, str) or not isinstance(number, int):
                raise ImportFormatError(f"{entry} line {n}: expected {{name, id}}")
            numbers[name] = number
    return numbers


def zip_sources(path: Path, component: str = "") -> list[Source]:
    """User tables of a snapshot ZIP, its components' included (plus each one's `_storage`
    documents, blobs read separately), placed below the component path `component`."""
    try:
        with open_zip(path) as zf:
            order = zf.namelist()
            names = set(order)
            files = [(name, f) for name in order if (f := table_file(name, component))]
            numbers: dict[tuple[str, str], int] = {}
            for name, f in files:
                if f.name == "_tables" and f.kind == "documents":
                    for table, number in _table_numbers(zf, name).items():
                        numbers[(f.component, table)] = number
    except ComponentPathError as exc:
        raise ImportFormatError(str(exc)) from None
    out: list[Source] = []
    for name, f in files:
        if f.kind != "documents" or f.name == "_tables":
            continue
        if f.name.startswith("_") and f.name != STORAGE_TABLE:
            continue  # other system tables are not part of a restorable snapshot (Convex's rule)
        schema = name.removesuffix("documents.jsonl") + "generated_schema.jsonl"
        out.append(
            Source(
                f.table,
                numbers.get((f.component, f.name)),
                _zip_opener(path, name, schema if schema in names else None),
                f.component,
            )
        )
    if not out and not numbers:
        raise ImportFormatError(
            "The ZIP has no <table>/documents.jsonl entries; is it a snapshot export?"
        )
    return out


def _load_hints(zf: zipfile.ZipFile, where: str) -> tuple[Shape, dict[str, Context]]:
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
    path: Path, where: str, schema: str | None
) -> Callable[[], Iterator[tuple[int, dict[str, Any]]]]:
    def docs() -> Iterator[tuple[int, dict[str, Any]]]:
        with open_zip(path) as zf:
            hints = _load_hints(zf, schema) if schema is not None else None
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


def storage_blob_names(path: Path, component: str = "") -> dict[tuple[str, str], str]:
    """`<dir>/_storage/<id>[.ext]` entries by (component path, storage id)."""
    with open_zip(path) as zf:
        out: dict[tuple[str, str], str] = {}
        for name in zf.namelist():
            try:
                found = storage_file(name, component)
            except ComponentPathError as exc:
                raise ImportFormatError(str(exc)) from None
            if found is not None:
                out[found] = name
        return out
