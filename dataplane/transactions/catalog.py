"""In-memory view of tables and indexes, validated the way Convex validates schemas.

The catalog is immutable: changes build a new one, so readers never see a half-applied change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..storage import IndexRow, TableRow
from .errors import SchemaError
from .limits import MAX_FIELDS_PER_INDEX, MAX_INDEXES_PER_TABLE, MAX_NAME_LEN

BY_ID = "by_id"
BY_CREATION_TIME = "by_creation_time"
BUILTIN_INDEXES = {BY_ID: ("_id",), BY_CREATION_TIME: ("_creationTime",)}
FIRST_USER_TABLE = 10_001
FIRST_SYSTEM_TABLE = 1

_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_SYSTEM_IDENT = re.compile(r"_[A-Za-z0-9_]+\Z")
#: A component instance's table: its component path, then the table (`a/b/messages`).
#: (`a/_storage`: a component's own system table.)
_COMPONENT_IDENT = re.compile(r"([A-Za-z][A-Za-z0-9_]*/)+_?[A-Za-z][A-Za-z0-9_]*\Z")
_FIELD_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True, slots=True)
class IndexDefinition:
    """A user index as declared in schema.ts: a name and its ordered field paths."""

    name: str
    fields: tuple[str, ...]

    def __init__(self, name: str, fields: list[str] | tuple[str, ...]) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "fields", tuple(fields))


@dataclass(frozen=True, slots=True)
class TableMeta:
    """A table with its indexes by name."""

    number: int
    name: str
    indexes: dict[str, IndexRow] = field(default_factory=dict)

    @property
    def by_id(self) -> IndexRow:
        return self.indexes[BY_ID]

    def user_indexes(self) -> list[IndexDefinition]:
        return [
            IndexDefinition(i.name, i.fields[:-1])
            for i in self.indexes.values()
            if i.name not in BUILTIN_INDEXES
        ]


def validate_table_name(name: str) -> None:
    """Tables: identifiers up to 64 chars; a leading `_` marks a system table; a component's
    tables are prefixed by its component path."""
    if not isinstance(name, str) or not name:
        raise SchemaError("Table name must be a non-empty string")
    if len(name) > MAX_NAME_LEN:
        raise SchemaError(f"Table name {name} is longer than {MAX_NAME_LEN} characters")
    if not (_IDENT.match(name) or _SYSTEM_IDENT.match(name) or _COMPONENT_IDENT.match(name)):
        raise SchemaError(
            f"Invalid table name {name!r}: use ASCII letters, digits and underscores, "
            "starting with a letter"
        )


def full_index_fields(definition: IndexDefinition) -> tuple[str, ...]:
    """User index fields plus the implicit `_creationTime` tiebreak Convex appends."""
    return (*definition.fields, "_creationTime")


def validate_index_definitions(table: str, definitions: list[IndexDefinition]) -> None:
    """Names, field counts and field paths as Convex's schema validation enforces them."""
    if len(definitions) > MAX_INDEXES_PER_TABLE:
        raise SchemaError(
            f"Table {table} has {len(definitions)} indexes; the maximum is {MAX_INDEXES_PER_TABLE}"
        )
    seen: set[str] = set()
    for d in definitions:
        where = f"Index {table}.{d.name}"
        if not isinstance(d.name, str) or not _IDENT.match(d.name):
            raise SchemaError(
                f"Invalid index name {d.name!r} on table {table}: use ASCII letters, digits and "
                "underscores, starting with a letter"
            )
        if len(d.name) > MAX_NAME_LEN:
            raise SchemaError(f"{where}: name is longer than {MAX_NAME_LEN} characters")
        if d.name in BUILTIN_INDEXES:
            raise SchemaError(f"{where}: the name {d.name} is reserved")
        if d.name in seen:
            raise SchemaError(f"{where} is defined twice")
        seen.add(d.name)
        if not d.fields:
            raise SchemaError(f"{where} must have at least one field")
        if len(d.fields) > MAX_FIELDS_PER_INDEX:
            raise SchemaError(f"{where} has more than {MAX_FIELDS_PER_INDEX} fields")
        if len(set(d.fields)) != len(d.fields):
            raise SchemaError(f"{where} names a field twice")
        for f in d.fields:
            if f in ("_id", "_creationTime"):
                raise SchemaError(
                    f"{where}: {f} cannot be an index field; "
                    "_creationTime is added to every index automatically"
                )
            if not isinstance(f, str) or not all(_FIELD_PART.match(p) for p in f.split(".")):
                raise SchemaError(f"{where}: invalid field path {f!r}")


@dataclass(frozen=True, slots=True)
class Catalog:
    """All tables by name and number, plus id counters."""

    by_name: dict[str, TableMeta]
    by_number: dict[int, TableMeta]
    next_index_id: int

    @classmethod
    def load(cls, tables: list[TableRow], indexes: list[IndexRow]) -> Catalog:
        by_table: dict[int, dict[str, IndexRow]] = {}
        for index in indexes:
            by_table.setdefault(index.table_number, {})[index.name] = index
        metas = [TableMeta(t.number, t.name, by_table.get(t.number, {})) for t in tables]
        return cls(
            {m.name: m for m in metas},
            {m.number: m for m in metas},
            max((i.index_id for i in indexes), default=0) + 1,
        )

    def next_table_number(self, system: bool) -> int:
        numbers = [n for n in self.by_number if (n < FIRST_USER_TABLE) == system]
        return max(numbers, default=(FIRST_SYSTEM_TABLE if system else FIRST_USER_TABLE) - 1) + 1

    def with_table(self, meta: TableMeta, next_index_id: int | None = None) -> Catalog:
        by_name = dict(self.by_name)
        by_number = dict(self.by_number)
        by_name[meta.name] = meta
        by_number[meta.number] = meta
        return Catalog(by_name, by_number, next_index_id or self.next_index_id)
