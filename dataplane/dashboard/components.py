"""Which component a `_system/` call looks at, and the component tree the dashboard lists.

Convex runs its system functions inside one component: the CLI names it with the request's
`componentPath` (`npx convex data --component a/b`), the dashboard with a `componentId`
argument (an id from `_system/frontend/components:list`; runtime/components.py derives it
from the path). A call's scope is the path;
table names the call gives or returns are the component's own (`t`, stored as `a/b/t`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..deploy.errors import DeployError
from ..runtime.components import (
    MODULE_ROOT,
    NamespaceError,
    component_id,
    instance_of,
    internal_table,
    table_instance,
)
from ..transactions.catalog import validate_table_name
from ..transactions.errors import SchemaError

if TYPE_CHECKING:
    from .services import DashboardServices


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def deployed(svc: DashboardServices) -> set[str]:
    """Paths of the instances the active code has (each has its own module directory)."""
    active = svc.code.current()
    if active is None:
        return set()
    found: set[str] = set()
    for module in active.bundle.entry_modules:
        if module.startswith(MODULE_ROOT):
            found.update(_ancestors(instance_of(module)))
    return found


def with_data(svc: DashboardServices) -> set[str]:
    """Paths owning tables (an imported component that is not deployed has tables only)."""
    found: set[str] = set()
    for name in svc.db.catalog.by_name:
        if instance := table_instance(name):
            found.update(_ancestors(instance))
    return found


def list_components(svc: DashboardServices, txn: Any, args: dict[str, Any]) -> Any:
    """`_system/frontend/components:list`: the root app and every component instance, with
    Convex's fields; components with data but not in the deployed code are "unmounted"."""
    live = deployed(svc)
    out: list[dict[str, Any]] = [
        {"id": component_id(""), "path": "", "args": {}, "state": "active", "httpPrefix": None}
    ]
    for path in sorted(live | with_data(svc)):
        out.append(
            {
                "id": component_id(path),
                "name": path.rpartition("/")[2],
                "path": path,
                "args": {},
                "state": "active" if path in live else "unmounted",
                "httpPrefix": None,
            }
        )
    return out


def resolve(svc: DashboardServices, args: dict[str, Any], component: str | None) -> str:
    """The component a system call runs in: the request's `componentPath`, else the
    `componentId` argument (None/absent: the root app)."""
    if component:
        return component
    wanted = args.get("componentId")
    if wanted is None or wanted == component_id(""):
        return ""
    if isinstance(wanted, str):
        for path in deployed(svc) | with_data(svc):
            if component_id(path) == wanted:
                return path
    raise DeployError(f"No component with id {wanted!r}")


def scoped_table(svc: DashboardServices, table: Any, key: str = "table") -> str:
    """The stored name of a table the call names (validated); the root app may name any."""
    if not isinstance(table, str):
        raise DeployError(f"Expected `{key}` to be a table name")
    try:
        validate_table_name(table)
        return internal_table(svc.component, table) if svc.component else table
    except (SchemaError, NamespaceError) as exc:
        raise DeployError(str(exc)) from None


def own_tables(svc: DashboardServices) -> dict[str, int]:
    """{name as the component names it: number} of the scope's tables (system ones
    included: the app's system tables, a component's own `_storage`)."""
    out: dict[str, int] = {}
    for name, meta in svc.db.catalog.by_name.items():
        if table_instance(name) == svc.component:
            out[name.rpartition("/")[2]] = meta.number
    return out


def component_schema(schema: dict[str, Any] | None, component: str) -> dict[str, Any] | None:
    """The part of the merged schema that is one component's, with its own table names."""
    if schema is None or not component:
        return schema
    prefix = component + "/"
    tables = [
        {**t, "tableName": t["tableName"][len(prefix) :]}
        for t in schema.get("tables") or []
        if isinstance(t.get("tableName"), str)
        and t["tableName"].startswith(prefix)
        and "/" not in t["tableName"][len(prefix) :]
    ]
    validation = schema.get("componentValidation") or {}
    if component not in validation:
        return None
    return {"tables": tables, "schemaValidation": bool(validation[component])}
