"""The push state machine behind /api/deploy2/*: start, wait for schema, finish.

start_push resolves the module set (changed modules plus stored unchanged ones), bundles and
analyses it in V8 and parks the result as a PendingPush; nothing is live yet. wait_for_schema
checks existing documents against the new schema and backfills new indexes. finish_push writes
modules and config in one transaction, drops removed indexes and swaps the runner's code.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from ..runtime.components import MODULE_ROOT as COMPONENT_MODULES
from ..scheduled.crons import CronError, check_crons
from ..scheduled.crons import register as register_crons
from . import analysis as app_analysis
from . import components, store
from .errors import DeployError, PushNotFound, PushRaced
from .node_packages import NodePackages, dependency_hash, parse_dependencies
from .schema import Schema, apply_indexes, index_diff, parse_schema, validate_documents

if TYPE_CHECKING:
    from ..runtime import Bundle
    from ..transactions import Database
    from .activation import ActiveCode

log = structlog.get_logger(__name__)
PUSH_TTL_SECONDS = 3600.0
MAX_PENDING = 8


@dataclass
class SchemaStatus:
    """Progress of schema validation and index backfill for one pending push."""

    done: threading.Event = field(default_factory=threading.Event)
    failure: dict[str, Any] | None = None
    indexes_total: int = 0
    indexes_complete: int = 0
    validation_complete: bool = False


@dataclass
class PendingPush:
    push_id: str
    base_push_id: str
    modules: list[store.StoredModule]
    config: store.DeployedConfig
    schema: Schema | None
    bundle: Bundle
    analysis: Any
    response: dict[str, Any]
    dry_run: bool
    component_crons: dict[str, dict[str, Any]] = field(default_factory=dict)
    created: float = field(default_factory=time.monotonic)
    status: SchemaStatus = field(default_factory=SchemaStatus)
    worker: threading.Thread | None = None
    finished: bool = False


class PushManager:
    """Pending pushes of one deployment (in memory: a restarted server asks the CLI to retry)."""

    def __init__(self, db: Database, code: ActiveCode, packages: NodePackages) -> None:
        self.db = db
        self.code = code
        self.packages = packages
        self._pending: dict[str, PendingPush] = {}
        self._lock = threading.Lock()
        self._finish_lock = threading.Lock()

    # ----- start_push -------------------------------------------------------------------

    def start_push(self, request: dict[str, Any], *, park: bool = True) -> dict[str, Any]:
        """Validate, bundle and analyse a StartPushRequest; returns the StartPushResponse.

        `park=False` (evaluate_push) only reports; nothing is kept for a later finish_push.
        """
        db = self.db
        store.ensure_tables(db)
        app_def = _require_dict(request, "appDefinition")
        definitions = request.get("componentDefinitions") or []
        if not isinstance(definitions, list):
            raise DeployError("Invalid push request: `componentDefinitions` must be a list")
        tree = components.build_tree(app_def, definitions, self.code.runner.limits)
        txn = db.begin()
        active = store.load_config(txn)
        modules = _resolve_modules(txn, app_def)
        for m in modules:
            if m.path.startswith(COMPONENT_MODULES):
                raise DeployError(f"Invalid module path {m.path}: `_components/` is reserved")
        env = store.load_env(txn)
        schema_module = app_def.get("schema")
        all_modules = list(modules)
        if schema_module is not None:
            all_modules.append(_module_from_json(schema_module, "schema"))
        all_modules += tree.modules()
        # The "use node" modules import their external packages when analysed: install first.
        node_deps = parse_dependencies(request.get("nodeDependencies"))
        node_packages = self.packages.ensure(node_deps)
        # auth.config.js and module top levels see the built-in CONVEX_SITE_URL/CLOUD_URL too.
        bundle, analysed, auth = app_analysis.analyze(
            all_modules, self.code.function_env(env), self.code.runner.limits, node_packages
        )
        try:
            check_crons(analysed.crons)
        except CronError as e:
            raise DeployError(f"Invalid cron job in crons.js: {e}") from None
        component_crons = tree.crons()
        for instance, jobs in component_crons.items():
            try:
                check_crons(jobs)
            except CronError as e:
                raise DeployError(f"Invalid cron job in crons.js of {instance!r}: {e}") from None
        app_schema = None
        if analysed.schema is not None:
            app_schema = parse_schema(analysed.schema)
        merged = tree.merged_schema(analysed.schema)
        schema = None if merged is None else parse_schema(merged)
        push_id = secrets.token_hex(12)
        diff = index_diff(db, schema)
        version = config_version(app_def)
        app_definition = None
        if tree.app_metadata:
            app_definition = {
                "path": "",
                "definitionType": {"type": "app"},
                "childComponents": tree.app_metadata.get("childComponents") or [],
                "httpMounts": tree.app_metadata.get("httpMounts") or {},
                "exports": tree.app_metadata.get("exports") or {"type": "branch", "branch": []},
                "envVars": tree.app_metadata.get("envVars"),
            }
        config = store.DeployedConfig(
            functions=str(request.get("functions") or "convex/"),
            udf_server_version=str(app_def.get("udfServerVersion") or "") or None,
            node_version=request.get("nodeVersion"),
            schema=None if schema is None else schema.raw,
            auth_info=auth,
            analysis=app_analysis.component_analysis(analysed, app_schema, version, app_definition),
            push_id=push_id,
            component_env=tree.env,
            http_routing=tree.http_routing(analysed, any(m.path == "http.js" for m in modules)),
            node_dependencies=[d.to_json() for d in node_deps],
        )
        response = {
            "environmentVariables": env,
            "externalDepsId": dependency_hash(node_deps) if node_deps else None,
            "componentDefinitionPackages": {},
            "appAuth": auth,
            "analysis": {"": config.analysis, **tree.analysis(version)},
            "app": app_analysis.checked_app(analysed, tree.checked(""), tree.app_mounts()),
            "schemaChange": {
                "allocatedComponentIds": {"": push_id},
                "schemaIds": {"": push_id},
                "indexDiffs": {"": diff},
            },
        }
        pending = PendingPush(
            push_id=push_id,
            base_push_id=active.push_id if active else "",
            modules=all_modules,
            config=config,
            schema=schema,
            bundle=bundle,
            analysis=analysed,
            response=response,
            dry_run=bool(request.get("dryRun")),
            component_crons=component_crons,
        )
        pending.status.indexes_total = len(diff["added_indexes"])
        if park:
            self._park(pending)
        return response

    def evaluate_schema(self, request: dict[str, Any]) -> dict[str, Any]:
        """The CLI's pre-push check: per-table document counts and predicted index changes."""
        db = self.db
        app_def = _require_dict(request, "appDefinition")
        schema = None
        if app_def.get("schema") is not None:
            module = _module_from_json(app_def["schema"], "schema")
            _, analysed, _ = app_analysis.analyze([module], None, self.code.runner.limits)
            if analysed.schema is not None:
                schema = parse_schema(analysed.schema)
        txn = db.begin()
        counts: dict[str, int] = {}

        def count(table: str) -> int:
            if table not in counts:
                counts[table] = txn.count(table)
            return counts[table]

        tables = [
            {
                "name": t.name,
                "outcome": "mustWalk" if schema and schema.schema_validation else "notValidated",
                "numDocs": count(t.name),
                "sizeBytes": 0,
            }
            for t in (schema.tables if schema else ())
        ]
        diff = index_diff(db, schema)
        changed = {i["name"] for i in diff["added_indexes"]} | {
            i["name"] for i in diff["removed_indexes"]
        }
        indexes = []
        for change, configs in (
            ("added", diff["added_indexes"]),
            ("dropped", diff["removed_indexes"]),
        ):
            for config in configs:
                n = count(config["name"].split(".")[0])
                indexes.append(
                    {
                        **config,
                        "change": change,
                        "needsBackfill": change == "added" and n > 0,
                        "numDocs": n,
                    }
                )
        for t in schema.tables if schema else ():
            for index in t.indexes:
                name = f"{t.name}.{index.name}"
                if name not in changed:
                    config = {"name": name, "type": "database", "fields": list(index.fields)}
                    indexes.append(
                        {
                            **config,
                            "change": "identical",
                            "needsBackfill": False,
                            "numDocs": count(t.name),
                        }
                    )
        return {
            "componentSchemaEvaluations": {
                "": {
                    "definitionPath": "",
                    "schemaValidation": bool(schema and schema.schema_validation),
                    "tables": tables,
                    "indexes": indexes,
                }
            },
            "newComponentDefinitions": [],
        }

    def _park(self, pending: PendingPush) -> None:
        with self._lock:
            now = time.monotonic()
            for key, p in list(self._pending.items()):
                if p.finished or now - p.created > PUSH_TTL_SECONDS:
                    del self._pending[key]
            while len(self._pending) >= MAX_PENDING:
                oldest = min(self._pending.values(), key=lambda p: p.created)
                del self._pending[oldest.push_id]
            self._pending[pending.push_id] = pending

    def _find(self, schema_change: Any) -> PendingPush:
        push_id = None
        if isinstance(schema_change, dict):
            ids = schema_change.get("schemaIds")
            if isinstance(ids, dict):
                push_id = ids.get("")
        with self._lock:
            pending = self._pending.get(push_id) if isinstance(push_id, str) else None
        if pending is None:
            raise PushNotFound(
                "This push is unknown to the deployment (it may have restarted or the push "
                "expired); run the deploy again"
            )
        return pending

    # ----- wait_for_schema -------------------------------------------------------------

    def wait_for_schema(self, request: dict[str, Any]) -> dict[str, Any]:
        """Start (once) and wait up to timeoutMs for validation + backfill; CLI SchemaStatus."""
        pending = self.begin_schema_check(request)
        pending.status.done.wait(schema_timeout_s(request))
        return self.schema_status(pending)

    def begin_schema_check(self, request: dict[str, Any]) -> PendingPush:
        """Start validation + backfill of the push named by request.schemaChange (once)."""
        pending = self._find(request.get("schemaChange"))
        with self._lock:
            if pending.worker is None:
                pending.worker = threading.Thread(
                    target=self._prepare, args=(pending,), name="strata-schema", daemon=True
                )
                pending.worker.start()
        return pending

    def schema_status(self, pending: PendingPush) -> dict[str, Any]:
        """The CLI's SchemaStatus for a pending push right now."""
        if self._active_push_id() != pending.base_push_id and not pending.finished:
            return {"type": "raceDetected"}
        s = pending.status
        if s.failure is not None:
            return {"type": "failed", **s.failure}
        if s.done.is_set():
            return {"type": "complete"}
        return {
            "type": "inProgress",
            "components": {
                "": {
                    "schemaValidationComplete": s.validation_complete,
                    "indexesComplete": s.indexes_complete,
                    "indexesTotal": s.indexes_total,
                }
            },
        }

    def _prepare(self, pending: PendingPush) -> None:
        """Validate existing documents, then backfill added indexes (not for dry runs)."""
        s = pending.status
        try:
            if pending.schema is not None:
                violation = validate_documents(self.db, pending.schema)
                if violation is not None:
                    s.failure = {
                        "error": violation.message,
                        "componentPath": "",
                        "tableName": violation.table,
                    }
                    return
            s.validation_complete = True
            if not pending.dry_run and pending.schema is not None:
                self._backfill(pending)
        except DeployError as e:
            s.failure = {"error": e.message, "componentPath": "", "tableName": None}
        except Exception as e:
            log.exception("schema preparation failed", push=pending.push_id)
            s.failure = {
                "error": f"Schema update failed: {e}",
                "componentPath": "",
                "tableName": None,
            }
        finally:
            s.indexes_complete = s.indexes_total if s.failure is None else s.indexes_complete
            s.done.set()

    def _backfill(self, pending: PendingPush) -> None:
        """Create indexes whose names are new, keeping the old ones until finish_push."""
        db = self.db
        assert pending.schema is not None
        for table in pending.schema.tables:
            current = {i.name: i for i in db.indexes(table.name)}
            new = [i for i in table.indexes if i.name not in current]
            if new:
                db.set_indexes(table.name, [*current.values(), *new])
                pending.status.indexes_complete += len(new)

    def _active_push_id(self) -> str:
        config = store.load_config(self.db.begin()) if self._has_tables() else None
        return config.push_id if config else ""

    def _has_tables(self) -> bool:
        return store.CONFIG_TABLE in self.db.table_names()

    # ----- finish_push -------------------------------------------------------------------

    def finish_push(self, request: dict[str, Any]) -> dict[str, Any]:
        """Activate the pending push atomically; returns the FinishPushDiff the CLI prints."""
        start_push = _require_dict(request, "startPush")
        pending = self._find(start_push.get("schemaChange"))
        dry_run = bool(request.get("dryRun")) or pending.dry_run
        if pending.worker is None or not pending.status.done.is_set():
            # The CLI always waits for the schema first; do it here for other callers.
            self.wait_for_schema(
                {"schemaChange": start_push.get("schemaChange"), "timeoutMs": 30_000}
            )
            if pending.worker is not None:
                pending.worker.join()
        if pending.status.failure is not None:
            raise DeployError(f"Schema validation failed: {pending.status.failure['error']}")
        db = self.db
        with self._finish_lock:
            previous = store.load_config(db.begin())
            if (previous.push_id if previous else "") != pending.base_push_id:
                raise PushRaced("Schema was overwritten by another push; run the deploy again")
            diff_indexes = pending.response["schemaChange"]["indexDiffs"][""]
            if dry_run:
                txn = db.begin()
                old_paths = {str(r["path"]) for r in store.module_rows(txn)}
                new_paths = {m.path for m in pending.modules}
                added, removed = sorted(new_paths - old_paths), sorted(old_paths - new_paths)
            else:
                apply_indexes(db, pending.schema, keep_extra=True)
                pending.config.pushed_at_ms = time.time() * 1000

                def write(txn: Any) -> tuple[list[str], list[str]]:
                    result = store.replace_modules(txn, pending.modules)
                    store.save_config(txn, pending.config)
                    register_crons(
                        txn, pending.analysis.crons, pending.component_crons
                    )  # same commit as the code
                    return result

                (added, removed), _ = db.run_mutation(write)
                env = store.load_env(db.begin())
                self.code.activate(pending.bundle, pending.analysis, pending.config, env)
                apply_indexes(db, pending.schema)  # drop removed indexes once nothing uses them
            pending.finished = True
        return app_analysis.finish_diff(
            previous, pending.config, added, removed, diff_indexes, pending.analysis
        )


def schema_timeout_s(request: dict[str, Any]) -> float:
    """The long-poll budget the CLI asked for (timeoutMs), capped at 30 s."""
    raw = request.get("timeoutMs", 10_000)
    ms = float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else 10_000.0
    return min(max(ms, 0.0), 30_000.0) / 1000


def config_version(app_def: dict[str, Any]) -> str:
    return str(app_def.get("udfServerVersion") or "1.48.0")


def _require_dict(body: Any, key: str) -> dict[str, Any]:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, dict):
        raise DeployError(f"Invalid push request: `{key}` must be an object")
    return value


def _module_from_json(obj: Any, what: str) -> store.StoredModule:
    if not isinstance(obj, dict):
        raise DeployError(f"Invalid push request: {what} module must be an object")
    path, source = obj.get("path"), obj.get("source")
    env = obj.get("environment", "isolate")
    source_map = obj.get("sourceMap")
    if not isinstance(path, str) or not isinstance(source, str):
        raise DeployError(f"Invalid push request: {what} module needs string path and source")
    if env not in ("isolate", "node"):
        raise DeployError(f"Invalid push request: module {path} has unknown environment {env!r}")
    if source_map is not None and not isinstance(source_map, str):
        raise DeployError(f"Invalid push request: module {path} has a non-string sourceMap")
    return store.StoredModule(path, source, source_map, env)


def _resolve_modules(txn: Any, app_def: dict[str, Any]) -> list[store.StoredModule]:
    """Changed modules from the request plus unchanged ones from storage, by hash."""
    changed = app_def.get("changedModules") or []
    unchanged = app_def.get("unchangedModuleHashes") or []
    if not isinstance(changed, list) or not isinstance(unchanged, list):
        raise DeployError("Invalid push request: changedModules/unchangedModuleHashes")
    out: dict[str, store.StoredModule] = {}
    for obj in changed:
        module = _module_from_json(obj, "function")
        if module.path in out:
            raise DeployError(f"Invalid push request: module {module.path} appears twice")
        out[module.path] = module
    for ref in unchanged:
        if not isinstance(ref, dict) or not isinstance(ref.get("sha256"), str):
            raise DeployError("Invalid push request: bad unchangedModuleHashes entry")
        stored = store.load_module_source(txn, ref["sha256"])
        path, env = ref.get("path"), ref.get("environment", "isolate")
        if stored is None or not isinstance(path, str) or env not in ("isolate", "node"):
            raise DeployError(
                f"Module {ref.get('path')} was sent as unchanged but the deployment does not "
                "have it; run the deploy again"
            )
        if path in out:
            raise DeployError(f"Invalid push request: module {path} appears twice")
        out[path] = store.StoredModule(path, stored.source, stored.source_map, env)
    return [out[p] for p in sorted(out)]
