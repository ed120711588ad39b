"""Index definitions from schema.ts (`vectorIndex(...)`, `searchIndex(...)`) and their limits.

`defineSchema(...).export()` lists them per table as
  vectorIndexes: [{indexDescriptor, vectorField, dimensions, filterFields}]
  searchIndexes: [{indexDescriptor, searchField, filterFields}]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MIN_DIMENSIONS = 2
MAX_DIMENSIONS = 4096
MAX_FILTER_FIELDS = 16
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}\Z")
_FIELD_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class SearchError(ValueError):
    """Invalid index definition or search request, with a message for the developer."""


def _check_field(where: str, field: Any) -> str:
    if not isinstance(field, str) or not all(_FIELD_PART.match(p) for p in field.split(".")):
        raise SearchError(f"{where}: invalid field path {field!r}")
    if field in ("_id", "_creationTime"):
        raise SearchError(f"{where}: system field {field} cannot be indexed here")
    return field


def _check_common(where: str, table: str, name: str, filter_fields: Any) -> tuple[str, ...]:
    # a component instance's table is prefixed by its component path: `a/b/table`
    component_table = isinstance(table, str) and all(_NAME.match(p) for p in table.split("/"))
    if not isinstance(table, str) or not (component_table or re.match(r"_\w+\Z", table)):
        raise SearchError(f"{where}: invalid table name {table!r}")
    if not isinstance(name, str) or not _NAME.match(name):
        raise SearchError(f"{where}: invalid index name {name!r}")
    if not isinstance(filter_fields, (list, tuple)):
        raise SearchError(f"{where}: filterFields must be a list of field paths")
    if len(filter_fields) > MAX_FILTER_FIELDS:
        raise SearchError(f"{where}: at most {MAX_FILTER_FIELDS} filter fields are allowed")
    fields = tuple(_check_field(where, f) for f in filter_fields)
    if len(set(fields)) != len(fields):
        raise SearchError(f"{where}: a filter field is listed twice")
    return fields


def _split_descriptor(table: str, obj: dict[str, Any]) -> str:
    name = obj.get("indexDescriptor")
    if not isinstance(name, str):
        raise SearchError(f"Index on table {table} has no indexDescriptor")
    return name


@dataclass(frozen=True, slots=True)
class VectorIndexSpec:
    """`defineTable(...).vectorIndex(name, {vectorField, dimensions, filterFields})`."""

    table: str
    name: str
    vector_field: str
    dimensions: int
    filter_fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        where = f"Vector index {self.table}.{self.name}"
        object.__setattr__(
            self, "filter_fields", _check_common(where, self.table, self.name, self.filter_fields)
        )
        _check_field(where, self.vector_field)
        dims: Any = self.dimensions
        if isinstance(dims, float) and dims.is_integer():
            object.__setattr__(self, "dimensions", int(dims))
            dims = int(dims)
        if isinstance(dims, bool) or not isinstance(dims, int):
            raise SearchError(f"{where}: dimensions must be an integer, got {dims!r}")
        if not MIN_DIMENSIONS <= dims <= MAX_DIMENSIONS:
            raise SearchError(
                f"{where}: dimensions must be between {MIN_DIMENSIONS} and {MAX_DIMENSIONS}, "
                f"got {dims}"
            )

    @property
    def key(self) -> str:
        return f"{self.table}.{self.name}"

    @classmethod
    def from_schema(cls, table: str, obj: dict[str, Any]) -> VectorIndexSpec:
        return cls(
            table,
            _split_descriptor(table, obj),
            obj.get("vectorField"),  # type: ignore[arg-type]  # validated in __post_init__
            obj.get("dimensions"),  # type: ignore[arg-type]
            tuple(obj.get("filterFields") or ()),
        )


@dataclass(frozen=True, slots=True)
class SearchIndexSpec:
    """`defineTable(...).searchIndex(name, {searchField, filterFields})`."""

    table: str
    name: str
    search_field: str
    filter_fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        where = f"Search index {self.table}.{self.name}"
        object.__setattr__(
            self, "filter_fields", _check_common(where, self.table, self.name, self.filter_fields)
        )
        _check_field(where, self.search_field)

    @property
    def key(self) -> str:
        return f"{self.table}.{self.name}"

    @classmethod
    def from_schema(cls, table: str, obj: dict[str, Any]) -> SearchIndexSpec:
        return cls(
            table,
            _split_descriptor(table, obj),
            obj.get("searchField"),  # type: ignore[arg-type]  # validated in __post_init__
            tuple(obj.get("filterFields") or ()),
        )


def specs_from_schema(
    schema_json: dict[str, Any] | None,
) -> tuple[list[VectorIndexSpec], list[SearchIndexSpec]]:
    """All vector and search indexes of an exported schema (None = no schema = no indexes)."""
    vectors: list[VectorIndexSpec] = []
    texts: list[SearchIndexSpec] = []
    for table in (schema_json or {}).get("tables", []):
        name = table.get("tableName")
        for obj in table.get("vectorIndexes") or []:
            vectors.append(VectorIndexSpec.from_schema(name, obj))
        for obj in table.get("searchIndexes") or []:
            texts.append(SearchIndexSpec.from_schema(name, obj))
    return vectors, texts


def vector_dimension_error(
    table: str, raw_table: dict[str, Any], doc: dict[str, Any]
) -> str | None:
    """Why `doc` cannot be written to `table`: a vector field of one of the table's vector
    indexes holds an array of another length than the index's dimensions (Convex refuses the
    write). Fields that are missing or not arrays are simply not indexed."""
    from .filters import field_value

    for obj in raw_table.get("vectorIndexes") or []:
        if not isinstance(obj, dict):
            continue
        field, dims = obj.get("vectorField"), obj.get("dimensions")
        if not isinstance(field, str) or not isinstance(dims, int | float):
            continue
        value = field_value(doc, field)
        if isinstance(value, list) and len(value) != int(dims):
            return (
                f'Failed to insert or update a document in table "{table}": field `{field}` '
                f"holds a vector of {len(value)} dimensions but vector index "
                f"`{obj.get('indexDescriptor')}` requires {int(dims)}"
            )
    return None
