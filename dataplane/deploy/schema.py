"""The pushed schema: its tables and indexes, the index diff, validation of existing documents.

The schema arrives as the JSON string of `defineSchema(...).export()`; tables list
`indexes: [{indexDescriptor, fields}]` and a `documentType` validator.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..search.specs import SearchError, specs_from_schema
from ..transactions import BY_CREATION_TIME, BY_ID, Database, IndexDefinition
from ..transactions.catalog import validate_index_definitions, validate_table_name
from ..transactions.errors import SchemaError
from . import store
from .errors import DeployError


@dataclass(frozen=True)
class TableSchema:
    name: str
    indexes: tuple[IndexDefinition, ...]
    document_type: dict[str, Any] | None


@dataclass(frozen=True)
class Schema:
    """A parsed schema; `raw` is the exported JSON object as pushed."""

    tables: tuple[TableSchema, ...]
    schema_validation: bool
    raw: dict[str, Any]

    def table(self, name: str) -> TableSchema | None:
        return next((t for t in self.tables if t.name == name), None)


def parse_schema(raw: Any) -> Schema:
    """Validate the exported schema JSON; raises DeployError with the offending table/index."""
    if not isinstance(raw, dict) or not isinstance(raw.get("tables"), list):
        raise DeployError("Invalid schema: expected an object with a `tables` list")
    tables = []
    seen: set[str] = set()
    for t in raw["tables"]:
        if not isinstance(t, dict):
            raise DeployError("Invalid schema: each table must be an object")
        name = t.get("tableName")
        if not isinstance(name, str):
            raise DeployError("Invalid schema: each table needs a string tableName")
        try:
            validate_table_name(name)
        except SchemaError as e:
            raise DeployError(f"Invalid schema: {e}") from e
        if name.startswith("_"):
            raise DeployError(
                f"Invalid schema: table name {name} is reserved (names starting with _ "
                "belong to system tables)"
            )
        if name in seen:
            raise DeployError(f"Invalid schema: table {name} is defined twice")
        seen.add(name)
        indexes = []
        for index in t.get("indexes") or []:
            if not isinstance(index, dict) or not isinstance(index.get("fields"), list):
                raise DeployError(f"Invalid schema: bad index definition on table {name}")
            indexes.append(IndexDefinition(str(index.get("indexDescriptor")), index["fields"]))
        try:
            validate_index_definitions(name, indexes)
        except SchemaError as e:
            raise DeployError(f"Invalid schema: {e}") from e
        _check_search_indexes(name, t, {i.name for i in indexes})
        doc_type = t.get("documentType")
        tables.append(
            TableSchema(name, tuple(indexes), doc_type if isinstance(doc_type, dict) else None)
        )
    return Schema(tuple(tables), bool(raw.get("schemaValidation", True)), raw)


def _check_search_indexes(table: str, raw: dict[str, Any], db_indexes: set[str]) -> None:
    """Vector/search index definitions must be valid and their names unique on the table."""
    try:
        vectors, texts = specs_from_schema({"tables": [raw]})
    except SearchError as e:
        raise DeployError(f"Invalid schema: {e}") from e
    seen = set(db_indexes)
    for name in [*(v.name for v in vectors), *(t.name for t in texts)]:
        if name in seen:
            raise DeployError(f"Invalid schema: table {table} has two indexes named {name}")
        seen.add(name)


def index_config(table: str, index: IndexDefinition) -> dict[str, Any]:
    """The CLI's DeveloperIndexConfig for a database index."""
    return {"name": f"{table}.{index.name}", "type": "database", "fields": list(index.fields)}


def index_diff(db: Database, schema: Schema | None) -> dict[str, list[dict[str, Any]]]:
    """Indexes a push adds and removes, compared with the database's current user indexes.

    Without a schema every user index is removed, as Convex does.
    """
    wanted = {t.name: {i.name: i for i in t.indexes} for t in (schema.tables if schema else ())}
    added: list[dict[str, Any]] = []
    removed: list[dict[str, Any]] = []
    for table in db.table_names():
        if table.startswith("_"):
            continue
        current = {i.name: i for i in db.indexes(table)}
        target = wanted.get(table, {})
        for name, index in sorted(current.items()):
            if name in (BY_ID, BY_CREATION_TIME):
                continue
            new = target.get(name)
            if new is None or new.fields != index.fields:
                removed.append(index_config(table, index))
    for table, indexes in sorted(wanted.items()):
        current = {i.name: i for i in db.indexes(table)}
        for name, index in sorted(indexes.items()):
            old = current.get(name)
            if old is None or old.fields != index.fields:
                added.append(index_config(table, index))
    before = search_index_configs(_deployed_schema(db))
    after = search_index_configs(schema.raw if schema else None)
    removed += [c for name, c in sorted(before.items()) if after.get(name) != c]
    added += [c for name, c in sorted(after.items()) if before.get(name) != c]
    return {"added_indexes": added, "removed_indexes": removed}


def search_index_configs(raw: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The CLI's DeveloperIndexConfig of each vector and search index of a schema, by name."""
    try:
        vectors, texts = specs_from_schema(raw)
    except SearchError:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for v in vectors:
        out[v.key] = {
            "name": v.key,
            "type": "vector",
            "vectorField": v.vector_field,
            "dimensions": v.dimensions,
            "filterFields": list(v.filter_fields),
        }
    for t in texts:
        out[t.key] = {
            "name": t.key,
            "type": "search",
            "searchField": t.search_field,
            "filterFields": list(t.filter_fields),
        }
    return out


def _deployed_schema(db: Database) -> dict[str, Any] | None:
    """The schema JSON of the active push (where vector/search index definitions live)."""
    if store.CONFIG_TABLE not in db.table_names():
        return None
    config = store.load_config(db.begin())
    return None if config is None else config.schema


def apply_indexes(db: Database, schema: Schema | None, *, keep_extra: bool = False) -> None:
    """Make user tables' indexes match the schema (backfilling new ones).

    `keep_extra=True` only adds and redefines indexes, keeping ones the schema dropped, so the
    code still live during a push keeps working until the new code is activated.
    """
    wanted = {t.name: list(t.indexes) for t in (schema.tables if schema else ())}
    if not keep_extra:
        for table in db.table_names():
            if not table.startswith("_") and table not in wanted and db.indexes(table):
                db.set_indexes(table, [])
    for table, indexes in wanted.items():
        if keep_extra:
            merged = {i.name: i for i in db.indexes(table)}
            merged.update({i.name: i for i in indexes})
            indexes = list(merged.values())
        db.set_indexes(table, indexes)


@dataclass(frozen=True)
class SchemaViolation:
    table: str
    message: str


VALIDATION_BATCH = 4096


def _documents(db: Database, table: str) -> Iterator[dict[str, Any]]:
    """All documents of a table, in creation order, a batch per snapshot (stays under the
    per-transaction read limits on big tables)."""
    last: float | None = None
    while True:
        txn = db.begin()
        bounds = (
            [] if last is None else [{"type": "Gt", "fieldPath": "_creationTime", "value": last}]
        )
        n = 0
        for doc in txn.index_scan(table, BY_CREATION_TIME, bounds):
            yield doc
            last = doc["_creationTime"]
            n += 1
            if n >= VALIDATION_BATCH:
                break
        if n < VALIDATION_BATCH:
            return


def validate_documents(db: Database, schema: Schema) -> SchemaViolation | None:
    """The first existing document that does not match its table's validator, if any."""
    if not schema.schema_validation:
        return None
    from ..validators import ValidationError, check_value

    for table in schema.tables:
        if table.document_type is None or table.document_type.get("type") == "any":
            continue
        if table.name not in db.table_names():
            continue
        for doc in _documents(db, table.name):
            try:
                check_value(table.document_type, doc, allow_system_fields=True)
            except ValidationError as e:
                return SchemaViolation(
                    table.name,
                    f'Document with ID "{doc["_id"]}" in table "{table.name}" does not match '
                    f"the schema: {e}",
                )
    return None
