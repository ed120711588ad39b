"""Component instances inside one deployment: where their code and tables live.

A deployment runs one bundle. The modules of a component instance at component path `a/b`
are stored under `_components/a.b/` (its own copy per instance), so a function's path says
which instance it belongs to. The instance's tables are named `a/b/<table>` internally; code
of that instance names them without the prefix, and every table name or document id it
passes to a syscall is mapped into (and checked against) its own namespace. The root app's
namespace is "" and its tables carry no prefix; no namespace can name another's tables.

Cross-component calls use Convex's references `_reference/childComponent/<name>/<module
path>/<function>`, resolved relative to the calling instance; plain function names resolve
inside the caller's own instance; function handles carry the full internal path.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import orjson

from ..ids import encode_id
from .analysis import AppAnalysis

MODULE_ROOT = "_components/"
CHILD_REFERENCE = "_reference/childComponent/"
#: System tables each component has its own of (`a/b/_storage`).
OWN_SYSTEM_TABLES = frozenset({"_storage"})
#: One table for every namespace, each seeing only its own rows (jobs carry their owner).
SHARED_SYSTEM_TABLES = frozenset({"_scheduled_functions"})


#: The table number component ids are encoded under: between the system and user ranges, so
#: it never names a real table.
COMPONENT_ID_TABLE = 10_000


def component_id(path: str) -> str:
    """A component's id as the dashboard lists it and passes it back (`componentId`): derived
    from its path, so stable across restarts, with no document behind it."""
    digest = hashlib.sha256(f"component:{path}".encode()).digest()[:16]
    return encode_id(COMPONENT_ID_TABLE, digest)


def scope_call(path: str, args: Any, component: str | None) -> tuple[str, Any]:
    """A client call naming `componentPath`: a component's function lives under its module
    directory; a `_system/` function gets the component as its `componentId` argument."""
    if not component:
        return path, args
    if path.startswith("_system/"):
        return path, {**args, "componentId": component_id(component)} if isinstance(
            args, dict
        ) else args
    return module_prefix(component) + path, args


class NamespaceError(Exception):
    """A table, id or function outside the calling component's namespace."""


def module_prefix(instance: str) -> str:
    """Where the modules of the instance at component path `instance` live ("" for the app)."""
    return f"{MODULE_ROOT}{instance.replace('/', '.')}/" if instance else ""


def instance_of(path: str) -> str:
    """The component path owning a module or function path ("" for the root app)."""
    if not path.startswith(MODULE_ROOT):
        return ""
    return path[len(MODULE_ROOT) :].partition("/")[0].replace(".", "/")


def internal_table(instance: str, table: str) -> str:
    """The stored name of `table` as named by code of `instance`."""
    if "/" in table:
        raise NamespaceError(f"Invalid table name {table!r}")
    if not instance or (table.startswith("_") and table not in OWN_SYSTEM_TABLES):
        return table
    return f"{instance}/{table}"


def table_instance(internal: str) -> str:
    """The component path owning a stored table ("" for the app's and system tables)."""
    return internal.rpartition("/")[0]


def user_table(internal: str) -> str:
    """A stored table's name as its own component's code names it."""
    return internal.rpartition("/")[2]


def check_table_owner(instance: str, internal: str | None) -> None:
    """Refuse a document of a table that belongs to another component's namespace."""
    if internal is None or internal in SHARED_SYSTEM_TABLES:
        return
    owner = table_instance(internal)
    if owner != instance:
        raise NamespaceError(
            f"The id belongs to table {user_table(internal)!r} of "
            f"{_describe(owner)}, which {_describe(instance)} cannot access"
        )


def _describe(instance: str) -> str:
    return f"component {instance!r}" if instance else "the app"


def _index_name(instance: str, name: Any) -> Any:
    if not isinstance(name, str) or not instance:
        if isinstance(name, str) and "/" in name:
            raise NamespaceError(f"Invalid index name {name!r}")
        return name
    table, dot, index = name.partition(".")
    return internal_table(instance, table) + dot + index


def _query(instance: str, query: Any) -> Any:
    if not isinstance(query, dict) or not isinstance(query.get("source"), dict):
        return query
    source = dict(query["source"])
    if isinstance(source.get("tableName"), str):
        source["tableName"] = internal_table(instance, source["tableName"])
    if "indexName" in source:
        source["indexName"] = _index_name(instance, source["indexName"])
    return {**query, "source": source}


def scope_args(instance: str, a: dict[str, Any]) -> dict[str, Any]:
    """A syscall's arguments with the table and index names mapped into `instance`."""
    out = a
    if isinstance(a.get("table"), str):
        out = {**out, "table": internal_table(instance, a["table"])}
    if "query" in a:
        query = a["query"]
        if isinstance(query, dict) and "indexName" in query and "source" not in query:
            # an action's vector search: {indexName, vector, ...}
            out = {
                **out,
                "query": {**query, "indexName": _index_name(instance, query["indexName"])},
            }
        else:
            out = {**out, "query": _query(instance, query)}
    return out


def resolve_name(instance: str, name: str) -> str:
    """The function path a name or reference from code of `instance` denotes."""
    if name.startswith(CHILD_REFERENCE):
        parts = name[len(CHILD_REFERENCE) :].split("/")
        if len(parts) < 3 or not all(parts):
            raise NamespaceError(f"Invalid component function reference {name!r}")
        child = f"{instance}/{parts[0]}" if instance else parts[0]
        module = "/".join(parts[1:-1])
        return f"{module_prefix(child)}{module}:{parts[-1]}"
    if name.startswith("_reference/"):
        raise NamespaceError(f"Unsupported function reference {name!r}")
    if name.startswith(MODULE_ROOT):
        raise NamespaceError(f"Invalid function path {name!r}")
    return module_prefix(instance) + name


def scoped_analysis(app: AppAnalysis, schema: dict[str, Any] | None) -> AppAnalysis:
    """The deployment-wide analysis: component functions are internal (callable from other
    functions only, never by clients) and the schema is the merged, namespaced one."""
    functions = tuple(
        dataclasses.replace(f, visibility="internal") if f.module.startswith(MODULE_ROOT) else f
        for f in app.functions
    )
    return AppAnalysis(
        functions=functions,
        routes=app.routes,
        crons_json=app.crons_json,
        schema_json=None if schema is None else orjson.dumps(schema).decode(),
        auth_config_json=app.auth_config_json,
        node_modules=app.node_modules,
    )
