"""Built-in `_system/...` functions the Convex CLI and dashboard run (env vars, API spec,
table sizes, export/import progress, the data browser).

They are native Python over a Transaction, so they work over HTTP (/api/function, /api/query)
and over the sync WebSocket alike, and their reads land in the transaction's read set.
Only admins may call them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..deploy import store
from ..deploy.analysis import UDF_TYPES
from ..deploy.errors import DeployError
from ..deploy.paths import display_path, is_system, parse_udf_path
from ..files import STORAGE_TABLE
from ..runtime.components import instance_of, internal_table, module_prefix
from ..transactions import DatabaseError
from ..values import ConvexValueError, to_json
from . import components
from . import data as dashboard
from .services import DashboardServices

if TYPE_CHECKING:
    from contract.keys import KeyClaims

    from ..auth import Identity
    from ..runtime import QueryOutcome
    from ..runtime.outcomes import MutationOutcome
    from ..transactions import Transaction

SystemQuery = Callable[["DashboardServices", "Transaction", dict[str, Any]], Any]


def _env_list(svc: DashboardServices, txn: Transaction, args: dict[str, Any]) -> Any:
    if svc.component or store.ENV_TABLE not in svc.db.table_names():  # components have none
        return []
    env = store.load_env(txn)
    return [{"name": k, "value": env[k]} for k in sorted(env)]


def _env_get(svc: DashboardServices, txn: Transaction, args: dict[str, Any]) -> Any:
    name = args.get("name")
    if not isinstance(name, str):
        raise DeployError("queryEnvironmentVariables:get expects {name: string}")
    if svc.component or store.ENV_TABLE not in svc.db.table_names():
        return None
    value = store.load_env(txn).get(name)
    return None if value is None else {"name": name, "value": value}


def _api_spec(svc: DashboardServices, txn: Transaction, args: dict[str, Any]) -> Any:
    """The functions of the call's component, named as that component's code names them."""
    active = svc.code.current()
    if active is None:
        return []
    prefix = module_prefix(svc.component)
    out: list[dict[str, Any]] = []
    for f in active.app.functions:
        if f.kind in UDF_TYPES and instance_of(f.module) == svc.component:
            out.append(
                {
                    "functionType": UDF_TYPES[f.kind],
                    "identifier": f"{f.module.removeprefix(prefix)}:{f.name}",
                    "visibility": {"kind": f.visibility},
                    "args": f.args,
                    "returns": f.returns,
                }
            )
    for r in active.app.routes if not svc.component else ():
        out.append({"functionType": "HttpAction", "method": r.method, "path": r.path})
    return out


def _table_size(svc: DashboardServices, txn: Transaction, args: dict[str, Any]) -> Any:
    return float(txn.count(components.scoped_table(svc, args.get("tableName"), "tableName")))


def _generate_upload_url(svc: DashboardServices, txn: Transaction, args: dict[str, Any]) -> Any:
    """The dashboard's Files tab uploads through the same signed URL `ctx.storage` hands out."""
    return svc.files.generate_upload_url(_storage_table(svc))


def _delete_files(svc: DashboardServices, txn: Transaction, args: dict[str, Any]) -> Any:
    """The Files tab's Delete: `storageIds: [id, ...]`, as `ctx.storage.delete` would."""
    from ..files import FileStorageError

    ids = args.get("storageIds")
    if not isinstance(ids, list):
        raise DeployError("Expected `storageIds: [id, ...]`")
    try:
        for storage_id in ids:
            svc.files.delete(txn, storage_id, _storage_table(svc))
    except FileStorageError as exc:
        raise DeployError(str(exc)) from None
    return None


def _cancel_job(svc: DashboardServices, txn: Transaction, args: dict[str, Any]) -> Any:
    """The Schedules tab's Cancel: the same transition as `ctx.scheduler.cancel(id)`."""
    from ..scheduled import jobs

    try:
        jobs.cancel(txn, args.get("id"), None)
    except jobs.ScheduleError as exc:
        raise DeployError(str(exc)) from None
    return None


def _storage_table(svc: DashboardServices) -> str:
    return internal_table(svc.component, STORAGE_TABLE)


# (module, export) -> (implementation, the key action it needs; see contract/scopes.py)
SYSTEM_QUERIES: dict[tuple[str, str], tuple[SystemQuery, str]] = {
    ("_system/cli/queryEnvironmentVariables.js", "default"): (_env_list, "env"),
    ("_system/cli/queryEnvironmentVariables.js", "get"): (_env_get, "env"),
    ("_system/cli/modules.js", "apiSpec"): (_api_spec, "deploy"),
    ("_system/cli/tableSize.js", "default"): (_table_size, "data"),
    ("_system/cli/tables.js", "default"): (dashboard.cli_tables, "data"),
    ("_system/cli/tableData.js", "default"): (dashboard.cli_table_data, "data"),
    ("_system/cli/exports.js", "getLatest"): (dashboard.latest_export, "data"),
    ("_system/cli/queryImport.js", "default"): (dashboard.query_import, "data"),
    ("_system/cli/queryImport.js", "list"): (dashboard.list_imports, "data"),
    ("_system/frontend/latestExport.js", "default"): (dashboard.latest_export, "data"),
    ("_system/frontend/getTableMapping.js", "default"): (dashboard.table_mapping, "data"),
    ("_system/frontend/paginatedTableDocuments.js", "default"): (
        dashboard.paginated_documents,
        "data",
    ),
    ("_system/frontend/getSchemas.js", "default"): (dashboard.schemas, "deploy"),
    ("_system/frontend/components.js", "list"): (components.list_components, "data"),
}

# Mutations: same signature, run in a committed transaction (retried on OCC conflicts).
SYSTEM_MUTATIONS: dict[tuple[str, str], tuple[SystemQuery, str]] = {
    ("_system/frontend/addDocument.js", "default"): (dashboard.add_documents, "data"),
    ("_system/frontend/patchDocumentsFields.js", "default"): (dashboard.patch_documents, "data"),
    ("_system/frontend/deleteDocuments.js", "default"): (dashboard.delete_documents, "data"),
    ("_system/frontend/fileStorageV2.js", "generateUploadUrl"): (_generate_upload_url, "data"),
    ("_system/frontend/fileStorageV2.js", "deleteFiles"): (_delete_files, "data"),
    ("_system/frontend/cancelJob.js", "default"): (_cancel_job, "data"),
}


def _entry(
    table: dict[tuple[str, str], tuple[SystemQuery, str]],
    module: str,
    name: str,
    claims: KeyClaims | None,
) -> SystemQuery | None:
    entry = table.get((module, name))
    if entry is None:
        return None
    fn, action = entry
    if claims is not None and not claims.allows(action):
        raise DeployError(
            f"This key may not run {display_path(module, name)} (needs the '{action}' scope)",
            code="Forbidden",
            status=403,
        )
    return fn


def run_system_mutation(
    svc: DashboardServices,
    module: str,
    name: str,
    args: dict[str, Any],
    claims: KeyClaims | None = None,
    component: str | None = None,
) -> tuple[Any, int]:
    """Run a built-in system mutation and commit it; returns (value, commit ts)."""
    fn = _entry(SYSTEM_MUTATIONS, module, name, claims)
    if fn is None:
        raise DeployError(
            f"Could not find function for '{display_path(module, name)}'",
            code="NotFound",
            status=404,
        )
    scoped = replace(svc, component=components.resolve(svc, args, component))
    return svc.db.run_mutation(lambda txn: fn(scoped, txn, args))


def run_system_query(
    svc: DashboardServices,
    txn: Transaction,
    module: str,
    name: str,
    args: dict[str, Any],
    claims: KeyClaims | None = None,
    component: str | None = None,
) -> Any:
    """Run a built-in system query in `component` (the request's componentPath; else the
    `componentId` argument's); DeployError if there is no such function (404) or the
    caller's key (`claims`, None = full admin) lacks the scope it needs (403)."""
    fn = _entry(SYSTEM_QUERIES, module, name, claims)
    if fn is None:
        if (module, name) in SYSTEM_MUTATIONS:  # /api/function runs any kind
            return run_system_mutation(svc, module, name, args, claims, component)[0]
        raise DeployError(
            f"Could not find function for '{display_path(module, name)}'",
            code="NotFound",
            status=404,
        )
    return fn(replace(svc, component=components.resolve(svc, args, component)), txn, args)


def system_query_outcome(
    svc: DashboardServices,
    path: str,
    args: dict[str, Any],
    identity: Identity | None,
    ts: int | None = None,
    claims: KeyClaims | None = None,
) -> QueryOutcome | None:
    """For the sync worker: run `path` if it is a `_system/` query and return its outcome
    (None if `path` is a user function). Non-admins get FunctionError("Could not find ...")."""
    from ..runtime import FunctionError, QueryOutcome

    try:
        module, name = parse_udf_path(path)
    except DeployError:
        return None
    if not is_system(module):
        return None
    if identity is None or not identity.admin:
        raise FunctionError(f"Could not find public function for '{display_path(module, name)}'")
    txn = svc.db.begin(ts)
    try:
        value = run_system_query(svc, txn, module, name, args, claims)
    except (DeployError, ConvexValueError, DatabaseError) as e:
        raise FunctionError(getattr(e, "message", None) or str(e)) from e
    return QueryOutcome(to_json(value), [], txn.read_set, txn.snapshot_ts)


def system_mutation_outcome(
    svc: DashboardServices,
    path: str,
    args: dict[str, Any],
    identity: Identity | None,
    claims: KeyClaims | None = None,
) -> MutationOutcome | None:
    """For the sync worker: run `path` if it is a `_system/` mutation (None for user code)."""
    from ..runtime import FunctionError
    from ..runtime.outcomes import MutationOutcome

    try:
        module, name = parse_udf_path(path)
    except DeployError:
        return None
    if not is_system(module):
        return None
    if identity is None or not identity.admin:
        raise FunctionError(f"Could not find public function for '{display_path(module, name)}'")
    try:
        value, commit_ts = run_system_mutation(svc, module, name, args, claims)
    except (DeployError, ConvexValueError, DatabaseError) as e:
        raise FunctionError(getattr(e, "message", None) or str(e)) from e
    return MutationOutcome(to_json(value), [], commit_ts)


class SystemFunctions:
    """The `_system/` functions of one deployment, as the runner and the HTTP API call them."""

    def __init__(self, services: DashboardServices) -> None:
        self.services = services

    def query_outcome(
        self, path: str, args: dict[str, Any], identity: Any, ts: int | None
    ) -> QueryOutcome | None:
        return system_query_outcome(self.services, path, args, identity, ts)

    def mutation_outcome(
        self, path: str, args: dict[str, Any], identity: Any
    ) -> MutationOutcome | None:
        return system_mutation_outcome(self.services, path, args, identity)

    def run_query(
        self,
        txn: Transaction,
        module: str,
        name: str,
        args: dict[str, Any],
        claims: KeyClaims | None = None,
        component: str | None = None,
    ) -> Any:
        return run_system_query(self.services, txn, module, name, args, claims, component)

    def run_mutation(
        self,
        module: str,
        name: str,
        args: dict[str, Any],
        claims: KeyClaims | None = None,
        component: str | None = None,
    ) -> tuple[Any, int]:
        return run_system_mutation(self.services, module, name, args, claims, component)
