"""Streaming export: what data pipelines (the Airbyte and Fivetran Convex connectors) read.

Three reads, with Convex's shapes: the user tables' JSON Schemas; a consistent snapshot of
every table at one timestamp, a page at a time; then every document change committed after a
cursor, in commit order, whole commits at a time, deletes included. A pipeline takes the
snapshot, then follows the changes from the snapshot's timestamp: nothing is missed or seen
twice. Pages are bounded in rows and bytes, so a table of any size streams in flat memory.

Components' tables are exported too, as Convex does: every value carries `_component` (the
component path, "" for the app) and `_table` (the table's name in its component); a request
selects one table (`tableName`, of the app unless `component` is given), one component's
tables (`component` alone) or everything.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..runtime.components import table_instance, user_table
from ..transactions import Database, DatabaseError
from .schema_cache import InferredSchemas

SchemaSource = Callable[[], dict[str, Any] | None]
#: Documents fetched from storage per round trip while filling a snapshot page: the first
#: fetch, and the most for later ones (sized by the documents' average size so far).
FIRST_CHUNK = 16
MAX_CHUNK = 250
#: A snapshot page ends after this many documents or (about) this many bytes.
SNAPSHOT_PAGE_ROWS = 1000
PAGE_BYTES = 8 << 20
#: Document versions read per document_deltas call (a commit is never split across calls).
DELTA_PAGE_ROWS = 1000


class StreamingError(DatabaseError):
    """A malformed cursor or unknown table name in a streaming export request."""

    def __init__(self, message: str, code: str = "InvalidCursor") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SnapshotPage:
    values: list[dict[str, Any]]  # documents with `_ts` and `_table`
    snapshot: int
    cursor: str
    has_more: bool


@dataclass(frozen=True)
class DeltaPage:
    values: list[dict[str, Any]]  # documents, or {_id, _ts, _table, _deleted: true}
    cursor: int
    has_more: bool


def _size(value: Any) -> int:
    """A cheap upper-bound-ish estimate of a value's JSON size."""
    if isinstance(value, dict):
        return 2 + sum(len(k) + 4 + _size(v) for k, v in value.items())
    if isinstance(value, list):
        return 2 + sum(1 + _size(v) for v in value)
    if isinstance(value, str | bytes):
        return 2 + len(value) * 2
    return 24


class StreamingExport:
    """The streaming export reads of one deployment."""

    def __init__(
        self,
        db: Database,
        schema: SchemaSource,
        *,
        page_rows: int = SNAPSHOT_PAGE_ROWS,
        delta_rows: int = DELTA_PAGE_ROWS,
    ) -> None:
        self.db = db
        self.schema = schema
        self.page_rows = page_rows
        self.delta_rows = delta_rows
        self.inferred = InferredSchemas(db, self._inferred)

    def close(self) -> None:
        self.inferred.close()

    def user_tables(self, component: str | None = None) -> list[str]:
        """Stored names of the user tables (of `component` only, if given), in table-number
        order (the snapshot walks them in this order)."""
        metas = [
            m
            for m in self.db.catalog.by_name.values()
            if not user_table(m.name).startswith("_")
            and (component is None or table_instance(m.name) == component)
        ]
        return [m.name for m in sorted(metas, key=lambda m: m.number)]

    def _tables(self, name: str | None, component: str | None) -> list[str]:
        """The selection's stored table names: one table, one component's, or all.

        A table another component has but the selected one lacks selects nothing, as on
        Convex: `json_schemas` lists every component's tables by name and connectors then ask
        for each name without a component. A name no component has is an error."""
        if name is None:
            return self.user_tables(component)
        stored = f"{component}/{name}" if component else name
        if stored in self.db.catalog.by_name and "/" not in name and not name.startswith("_"):
            return [stored]
        if any(user_table(t) == name for t in self.user_tables()):
            return []
        where = f" in component {component!r}" if component else ""
        raise StreamingError(f"Table {name!r} does not exist{where}", "TableNotFound")

    # ----- snapshot ------------------------------------------------------------------

    def list_snapshot(
        self,
        snapshot: int | None,
        cursor: str | None,
        table: str | None,
        component: str | None = None,
    ) -> SnapshotPage:
        """One page of the snapshot at `snapshot` (default: now) after `cursor`.

        With `table`, only that table; otherwise every selected table, one after the other.
        The cursor is "<table number>:<hex of the last by_id key>" (opaque to clients).
        """
        tables = self._tables(table, component)
        ts = self.db.latest_ts() if snapshot is None else snapshot
        numbers = {name: self.db.catalog.by_name[name].number for name in tables}
        position, after = self._parse_cursor(cursor, tables, numbers)
        if position >= len(tables):
            self.db.snapshot_page("", ts, None, 1)  # still validates the snapshot ts
        values: list[dict[str, Any]] = []
        size = 0
        chunk = FIRST_CHUNK
        full = False
        while position < len(tables) and not full:
            name = tables[position]
            limit = max(1, min(chunk, self.page_rows - len(values)))
            docs, exhausted = self.db.snapshot_page(name, ts, after, limit)
            for key, version_ts, doc in docs:
                doc["_ts"] = version_ts
                _label(doc, name)
                size += _size(doc)
                values.append(doc)
                after = key
                full = len(values) >= self.page_rows or size >= PAGE_BYTES
                if full and key != docs[-1][0]:
                    exhausted = False  # the page ends inside this chunk
                    break
            if exhausted:
                position, after = position + 1, None
            # Size the next fetch so it stays within the page's byte budget.
            average = max(1, size // max(1, len(values)))
            chunk = max(1, min(MAX_CHUNK, (PAGE_BYTES - size) // average))
        if position >= len(tables):
            last = "~"  # past the end: a later call returns nothing
        else:
            resume = "" if after is None else after.hex()
            last = f"{numbers[tables[position]]}:{resume}"
        return SnapshotPage(values, ts, last, position < len(tables))

    def _parse_cursor(
        self, cursor: str | None, tables: list[str], numbers: dict[str, int]
    ) -> tuple[int, bytes | None]:
        """(index into `tables`, by_id key to continue after) for a snapshot cursor."""
        if not cursor:
            return 0, None
        if cursor == "~":
            return len(tables), None
        number_text, sep, key_text = cursor.partition(":")
        if not sep or not number_text.isdigit():
            raise StreamingError(f"Invalid snapshot cursor {cursor!r}")
        number = int(number_text)
        order = [numbers[name] for name in tables]
        if number not in order:
            raise StreamingError(f"The snapshot cursor {cursor!r} is for another table")
        try:
            key = bytes.fromhex(key_text)
        except ValueError as exc:
            raise StreamingError(f"Invalid snapshot cursor {cursor!r}") from exc
        return order.index(number), (key or None)

    # ----- deltas --------------------------------------------------------------------

    def document_deltas(
        self, cursor: int, table: str | None, component: str | None = None
    ) -> DeltaPage:
        """Changes committed after `cursor` to the selected tables; pass the returned cursor
        to continue. (A one-component selection reads every change and keeps that
        component's, so its pages may hold fewer values; the cursor still advances.)"""
        only = None
        if table is not None:
            # A selected table this component lacks: the engine finds no changes for it.
            only = next(iter(self._tables(table, component)), f"{component}/{table}")
        changes, next_cursor, has_more = self.db.document_changes(cursor, only, self.delta_rows)
        values: list[dict[str, Any]] = []
        for ts, name, doc_id, doc in changes:
            if component is not None and table_instance(name) != component:
                continue
            if doc is None:
                doc = {"_id": doc_id, "_ts": ts, "_deleted": True}
            else:
                doc["_ts"] = ts
            values.append(_label(doc, name))
        return DeltaPage(values, next_cursor, has_more)

    # ----- JSON Schemas --------------------------------------------------------------

    def json_schemas(self, delta: bool, by_component: bool = False) -> dict[str, Any]:
        """Per user table, the JSON Schema of its documents as the `json` format encodes them.

        From the pushed schema's validator when the table has one; otherwise inferred from the
        table's current documents (streamed, so flat memory; kept until the table is written,
        schema_cache.py). Keyed by table name, components' tables included (on a name clash
        the app's table wins); `by_component`: `{component path: {table: schema}}`."""
        raw = self.schema() or {}
        validators = {
            t.get("tableName"): t.get("documentType")
            for t in raw.get("tables") or []
            if isinstance(t, dict)
        }
        grouped: dict[str, dict[str, Any]] = {}
        for name in self.user_tables():
            own = user_table(name)
            schema = _from_validator(validators.get(name), own)
            if schema is None:
                schema = self.inferred.get(name)
            if delta:
                props = schema["properties"]
                props["_ts"] = {"type": "integer"}
                props["_deleted"] = {"type": "boolean"}
                props["_table"] = {"type": "string"}
                props["_component"] = {"type": "string"}
            grouped.setdefault(table_instance(name), {})[own] = schema
        if by_component:
            return grouped
        out: dict[str, Any] = {}
        for component in sorted(grouped, reverse=True):  # the app ("") last: it wins
            out.update(grouped[component])
        return out

    def _inferred(self, table: str) -> dict[str, Any]:
        kinds: dict[str, set[str]] = {}
        present: dict[str, int] = {}
        count = 0
        for doc in self.db.scan_table(table, self.db.latest_ts()):
            count += 1
            for field, value in doc.items():
                if field in ("_id", "_creationTime"):
                    continue
                kinds.setdefault(field, set()).add(_json_type(value))
                present[field] = present.get(field, 0) + 1
        props: dict[str, Any] = {}
        for field in sorted(kinds):
            types = sorted(kinds[field])
            props[field] = {"type": types[0] if len(types) == 1 else types}
        required = sorted(f for f, n in present.items() if n == count)
        return _document_schema(user_table(table), props, required)


def _label(doc: dict[str, Any], table: str) -> dict[str, Any]:
    """Name a document's table as Convex's streaming export does: `_table` in `_component`."""
    doc["_table"] = user_table(table)
    doc["_component"] = table_instance(table)
    return doc


def _json_type(value: Any) -> str:
    """The JSON Schema type of a value in the `json` format (int64 and bytes are strings)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, float):
        return "number" if math.isfinite(value) else "string"
    if isinstance(value, int | str | bytes):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _document_schema(table: str, props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "_id": {"type": "string", "$description": f"Id({table})"},
            "_creationTime": {"type": "number"},
            **props,
        },
        "required": ["_creationTime", "_id", *required],
        "additionalProperties": True,
    }


def _from_validator(validator: Any, table: str) -> dict[str, Any] | None:
    """A top-level object validator as a document JSON Schema (else None: infer instead)."""
    if not isinstance(validator, dict) or validator.get("type") != "object":
        return None
    fields = validator.get("value")
    if not isinstance(fields, dict):
        return None
    props: dict[str, Any] = {}
    required: list[str] = []
    for name, field in fields.items():
        if not isinstance(field, dict):
            continue
        props[name] = validator_schema(field.get("fieldType"))
        if not field.get("optional"):
            required.append(name)
    return _document_schema(table, props, sorted(required))


def validator_schema(validator: Any) -> dict[str, Any]:
    """A Convex validator (its exported JSON) as the JSON Schema of its `json` encoding."""
    if not isinstance(validator, dict):
        return {}
    kind = validator.get("type")
    simple = {"null": "null", "number": "number", "boolean": "boolean", "string": "string"}
    if kind in simple:
        return {"type": simple[kind]}
    if kind == "bigint":
        return {"type": "string", "$description": "int64 as a decimal string"}
    if kind == "bytes":
        return {"type": "string", "$description": "bytes as base64"}
    if kind == "id":
        return {"type": "string", "$description": f"Id({validator.get('tableName')})"}
    if kind == "literal":
        value = validator.get("value")
        if isinstance(value, dict) and "$integer" in value:
            return {"type": "string"}
        return {"const": value}
    if kind == "array":
        return {"type": "array", "items": validator_schema(validator.get("value"))}
    if kind == "record":
        values = validator.get("values")
        inner = values.get("fieldType") if isinstance(values, dict) else None
        return {"type": "object", "additionalProperties": validator_schema(inner)}
    if kind == "object":
        value = validator.get("value")
        fields: dict[str, Any] = value if isinstance(value, dict) else {}
        props = {
            name: validator_schema(f.get("fieldType"))
            for name, f in fields.items()
            if isinstance(f, dict)
        }
        required = sorted(
            name for name, f in fields.items() if isinstance(f, dict) and not f.get("optional")
        )
        return {
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": False,
        }
    if kind == "union":
        options = validator.get("value")
        return {"anyOf": [validator_schema(o) for o in options or []]}
    return {}
