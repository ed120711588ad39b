"""Where a component's tables live in a snapshot ZIP, and in the catalog.

Convex writes the tables of the component at path `a/b` under `_components/a/_components/b/`
(the root app's at the top), each directory with its own `_tables/documents.jsonl`, table
directories and `_storage/`. Reading, a leading directory that is not `_components/<name>/`
is ignored (a ZIP re-packed under `snapshot/` still imports), and an import into a component
(`--component c`) puts the whole tree below `c`. In the catalog the same table is `a/b/t`
(runtime/components.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..files import STORAGE_TABLE
from ..runtime.components import internal_table, table_instance, user_table

_COMPONENT_DIR = re.compile(r"(.*/)?_components/([^/]+)/\Z")
_TABLE_FILE = re.compile(r"(.*/)?([^/]+)/(documents|generated_schema)\.jsonl\Z")
_STORAGE_FILE = re.compile(r"(.*/)?_storage/([^/.]+)(?:\.[^/]+)?\Z")
_COMPONENT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class ComponentPathError(ValueError):
    """A ZIP directory or `--component` value that is not a valid component path."""


def component_dir(component: str) -> str:
    """The ZIP directory of a component's tables ("" for the root app)."""
    return "".join(f"_components/{p}/" for p in component.split("/")) if component else ""


def table_dir(table: str) -> str:
    """A stored table's ZIP directory (`a/b/t` -> `_components/a/_components/b/t`)."""
    return component_dir(table_instance(table)) + user_table(table)


def join(base: str, child: str) -> str:
    return f"{base}/{child}" if base and child else base or child


def check_component(path: str) -> str:
    """Validate a component path given by a client (`a/b`); "" is the root app."""
    if path and not all(_COMPONENT_NAME.match(p) for p in path.split("/")):
        raise ComponentPathError(f"Invalid component path {path!r}")
    return path


def component_of_prefix(prefix: str, base: str) -> str:
    """The component path a ZIP directory prefix (`_components/a/_components/b/`) names."""
    names: list[str] = []
    while match := _COMPONENT_DIR.match(prefix):
        prefix = match.group(1) or ""
        name = match.group(2)
        if not _COMPONENT_NAME.match(name):
            raise ComponentPathError(f"Invalid component name {name!r} in the ZIP")
        names.append(name)
    return join(base, "/".join(reversed(names)))


@dataclass(frozen=True)
class TableFile:
    """A `<dir>/<table>/documents.jsonl` or `generated_schema.jsonl` entry of a ZIP."""

    component: str
    name: str  # as the component's code names it
    kind: str  # "documents" or "generated_schema"

    @property
    def table(self) -> str:
        """The stored table name (the component's own `_storage` included)."""
        return stored_table(self.component, self.name)


def stored_table(component: str, name: str) -> str:
    return internal_table(component, name) if name == STORAGE_TABLE else join(component, name)


def table_file(entry: str, base: str) -> TableFile | None:
    match = _TABLE_FILE.match(entry)
    if match is None:
        return None
    component = component_of_prefix(match.group(1) or "", base)
    return TableFile(component, match.group(2), match.group(3))


def storage_file(entry: str, base: str) -> tuple[str, str] | None:
    """(component, storage id) of a `<dir>/_storage/<id>[.ext]` file entry."""
    match = _STORAGE_FILE.match(entry)
    if match is None or match.group(2) == "documents":
        return None
    return component_of_prefix(match.group(1) or "", base), match.group(2)
