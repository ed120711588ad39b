"""The component tree of a push: definitions, instances, their code and merged schema.

The CLI sends the app's `convex.config.js` (`appDefinition.definition`) and, per component
definition, its `convex.config.js`, schema and function modules. Evaluating each definition
module gives its metadata (`export()`: child components, HTTP mounts, env vars). From the
app's children down, every instance (component path `a/b`) gets its own copy of its
definition's modules under `_components/a.b/` and its tables under `a/b/` (runtime/components.py
explains the namespaces). Features of a definition not supported yet are deploy errors that
name the definition's file and the feature. Env vars of instances: component_env.py.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from ..runtime.components import CHILD_REFERENCE, NamespaceError, module_prefix, resolve_name
from . import analysis as app_analysis
from . import component_env
from .errors import DeployError
from .schema import parse_schema
from .store import StoredModule

if TYPE_CHECKING:
    from ..runtime import RuntimeLimits
    from ..runtime.analysis import AppAnalysis

MAX_INSTANCES = 64
MAX_DEPTH = 8


@dataclass
class Definition:
    """One component definition of the push (its code analysed on its own)."""

    path: str
    metadata: dict[str, Any]
    modules: list[StoredModule]
    analysis: AppAnalysis
    schema: dict[str, Any] | None


@dataclass
class ComponentTree:
    definitions: dict[str, Definition] = field(default_factory=dict)
    instances: dict[str, str] = field(default_factory=dict)  # component path -> definition
    app_metadata: dict[str, Any] = field(default_factory=dict)  # the app's convex.config.js
    env: dict[str, dict[str, Any]] = field(default_factory=dict)  # instance -> env bindings

    def modules(self) -> list[StoredModule]:
        """Every instance's modules, relocated into its own module directory."""
        out = []
        for instance, definition in sorted(self.instances.items()):
            prefix = module_prefix(instance)
            for m in self.definitions[definition].modules:
                source_map = _relocated_map(m.source_map, prefix.count("/"))
                out.append(StoredModule(prefix + m.path, m.source, source_map, m.environment))
        return out

    def crons(self) -> dict[str, dict[str, Any]]:
        """Each instance's crons (its definition's crons.js), functions named by their
        deployment-wide paths so they run inside the instance."""
        out: dict[str, dict[str, Any]] = {}
        for instance, definition in sorted(self.instances.items()):
            jobs = self.definitions[definition].analysis.crons
            if not jobs:
                continue
            scoped = {}
            for name, job in jobs.items():
                if isinstance(job, dict) and isinstance(job.get("name"), str):
                    try:
                        job = {**job, "name": resolve_name(instance, job["name"])}
                    except NamespaceError as e:
                        raise DeployError(f"{definition}/crons.js: {e}") from None
                scoped[name] = job
            out[instance] = scoped
        return out

    def app_mounts(self) -> list[str]:
        """The path prefixes the app mounts components' HTTP routes at."""
        return sorted(_mounts(self.app_metadata))

    def http_routing(self, app: AppAnalysis, app_has_http: bool) -> dict[str, Any]:
        """The table runtime/http_mounts.py routes requests with; empty when no component
        mounts routes and the app has no `httpPrefix` (then http.js alone serves them)."""
        mounted = any(_mounts(d.metadata) for d in self.definitions.values())
        prefix = self.app_metadata.get("httpPrefix")
        if not mounted and not _mounts(self.app_metadata) and not prefix:
            return {}
        table: dict[str, Any] = {
            "": {
                "routes": [[r.path, r.method] for r in app.routes],
                "mounts": _mounts(self.app_metadata),
                "hasHttp": app_has_http,
                "prefix": prefix if isinstance(prefix, str) else None,
            }
        }
        for instance, name in self.instances.items():
            d = self.definitions[name]
            table[instance] = {
                "routes": [[r.path, r.method] for r in d.analysis.routes],
                "mounts": _mounts(d.metadata),
                "hasHttp": any(m.path.rsplit(".", 1)[0] == "http" for m in d.modules),
            }
        return table

    def merged_schema(self, app_schema: dict[str, Any] | None) -> dict[str, Any] | None:
        """The app's schema plus each instance's tables under its component path."""
        with_schema = {
            i: self.definitions[d].schema
            for i, d in self.instances.items()
            if self.definitions[d].schema is not None
        }
        if not with_schema:
            return app_schema
        tables = list((app_schema or {}).get("tables") or [])
        validation = {"": bool(app_schema.get("schemaValidation", True)) if app_schema else False}
        for instance, schema in sorted(with_schema.items()):
            assert schema is not None
            validation[instance] = bool(schema.get("schemaValidation", True))
            for t in schema.get("tables") or []:
                tables.append({**t, "tableName": f"{instance}/{t.get('tableName')}"})
        return {
            **(app_schema or {}),
            "tables": tables,
            "schemaValidation": validation[""] if app_schema else True,
            "componentValidation": validation,
        }

    def checked(self, instance: str) -> dict[str, dict[str, Any]]:
        """The CheckedComponent children of `instance` for the StartPushResponse's `app`."""
        out = {}
        for path, definition in sorted(self.instances.items()):
            parent, _, name = path.rpartition("/")
            if parent != instance:
                continue
            out[name] = {
                "definitionPath": definition,
                "componentPath": path,
                "args": {},
                "childComponents": self.checked(path),
                "httpRoutes": {
                    "httpModuleRoutes": [
                        {"method": r.method, "path": r.path}
                        for r in self.definitions[definition].analysis.routes
                    ]
                    or None,
                    "mounts": sorted(_mounts(self.definitions[definition].metadata)),
                },
                "exports": {},
            }
        return out

    def analysis(self, version: str) -> dict[str, Any]:
        """The StartPushResponse's `analysis` entries of the component definitions."""
        out = {}
        for path, d in self.definitions.items():
            schema = None if d.schema is None else parse_schema(d.schema)
            meta = {
                "path": path,
                "definitionType": d.metadata.get("definitionType"),
                "childComponents": d.metadata.get("childComponents") or [],
                "httpMounts": d.metadata.get("httpMounts") or {},
                "exports": _exports(d.analysis),
                "envVars": d.metadata.get("envVars"),
            }
            out[path] = app_analysis.component_analysis(d.analysis, schema, version, meta)
        return out


def _mounts(metadata: dict[str, Any]) -> dict[str, str]:
    """A definition's HTTP mounts: path prefix -> the name of the child mounted there."""
    out = {}
    for prefix, reference in (metadata.get("httpMounts") or {}).items():
        if not isinstance(reference, str) or not reference.startswith(CHILD_REFERENCE):
            raise DeployError(f"Invalid HTTP mount {prefix!r}: {reference!r}")
        out[str(prefix)] = reference[len(CHILD_REFERENCE) :]
    return out


def _relocated_map(source_map: str | None, depth: int) -> str | None:
    """A module's source map after moving the module `depth` directories down, so its
    relative `sources` still name the developer's files (stack traces show them)."""
    if source_map is None or depth == 0:
        return source_map
    try:
        parsed = orjson.loads(source_map)
    except orjson.JSONDecodeError:
        return source_map
    sources = parsed.get("sources") if isinstance(parsed, dict) else None
    if not isinstance(sources, list) or parsed.get("sourceRoot"):
        return source_map
    up = "../" * depth
    parsed["sources"] = [
        up + s if isinstance(s, str) and not s.startswith("/") and ":" not in s else s
        for s in sources
    ]
    return orjson.dumps(parsed).decode()


def _exports(app: AppAnalysis) -> dict[str, Any]:
    """A definition's export tree: its public functions by module path, as Convex reports
    them (the CLI generates the parent's `components.<name>` API from it)."""
    root: dict[str, Any] = {}
    for f in app.functions:
        if f.visibility != "public" or f.kind == "httpAction":
            continue
        node = root
        for part in f.module.removesuffix(".js").split("/"):
            node = node.setdefault(part, {})
        node[f.name] = f"_reference/function/{f.module.removesuffix('.js')}:{f.name}"

    def branch(tree: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "branch",
            "branch": [
                [k, {"type": "leaf", "leaf": v} if isinstance(v, str) else branch(v)]
                for k, v in sorted(tree.items())
            ],
        }

    return branch(root)


def evaluate_definition(
    module: StoredModule,
    where: str,
    dependencies: dict[str, str],
    limits: RuntimeLimits | None,
) -> dict[str, Any]:
    """The `export()` metadata of a convex.config.js. The CLI's bundle imports each used
    definition as `./_componentDeps/<base64url(definition path)>`, which the deployment
    provides as `{componentDefinitionPath, defaultName}` (`dependencies`: path -> name)."""
    config = StoredModule("convex.config.js", module.source, module.source_map, "isolate")
    deps = []
    for path, name in dependencies.items():
        key = base64.urlsafe_b64encode(path.encode()).decode().rstrip("=")
        value = orjson.dumps({"componentDefinitionPath": path, "defaultName": name}).decode()
        deps.append(
            StoredModule(f"_componentDeps/{key}.js", f"export default {value};\n", None, "isolate")
        )
    _, analysed, _ = app_analysis.analyze([config, *deps], None, limits)
    if analysed.definition_json is None:
        raise DeployError(
            f"{where}: convex.config.js must `export default` defineApp() / defineComponent()"
        )
    metadata = orjson.loads(analysed.definition_json)
    if not isinstance(metadata, dict):
        raise DeployError(f"{where}: convex.config.js exported an invalid definition")
    return dict(metadata)


def _unsupported(where: str, feature: str) -> DeployError:
    return DeployError(f"{where}: {feature} are not supported in components by this deployment yet")


def _module(obj: Any, where: str) -> StoredModule:
    from .push import _module_from_json

    return _module_from_json(obj, where)


def build_tree(
    app_def: dict[str, Any], definitions: list[Any], limits: RuntimeLimits | None
) -> ComponentTree:
    """Evaluate and check every definition and instantiate the tree from the app down."""
    tree = ComponentTree()
    if app_def.get("definition") is None:
        if definitions:
            raise DeployError(
                "Components were pushed without the app definition convex/convex.config.ts"
            )
        return tree
    raws: dict[str, dict[str, Any]] = {}
    where_of: dict[str, str] = {}
    for raw in definitions:
        if not isinstance(raw, dict) or not isinstance(raw.get("definitionPath"), str):
            raise DeployError("Invalid push request: bad componentDefinitions entry")
        raws[raw["definitionPath"]] = raw
    metadata_of: dict[str, dict[str, Any]] = {}

    def evaluate(path: str, seen: tuple[str, ...]) -> dict[str, Any]:
        if path in metadata_of:
            return metadata_of[path]
        if path in seen:
            raise DeployError(f"Component definitions use each other in a cycle: {path}")
        raw = raws[path] if path else app_def
        where = f"{path}/convex.config.ts" if path else "convex/convex.config.ts"
        where_of[path] = where
        names = {}
        for dep in raw.get("dependencies") or []:
            if dep not in raws:
                raise DeployError(f"{where}: component definition {dep!r} was not pushed")
            names[dep] = str(evaluate(dep, (*seen, path)).get("name") or dep.split("/")[-1])
        module = _module(raw.get("definition"), where)
        metadata = evaluate_definition(module, where, names, limits)
        metadata_of[path] = metadata
        return metadata

    app_meta = evaluate("", ())
    for path, raw in raws.items():
        metadata = evaluate(path, ())
        modules = [_module(m, f"{path} function") for m in raw.get("functions") or []]
        for m in modules:
            if m.environment == "node":
                raise _unsupported(f"{path}/{m.path}", '"use node" actions')
        schema_module = raw.get("schema")
        all_modules = list(modules)
        if schema_module is not None:
            all_modules.append(_module(schema_module, f"{path} schema"))
        _, analysed, _ = app_analysis.analyze(all_modules, None, limits)
        schema = analysed.schema
        if schema is not None:
            parse_schema(schema)  # reports an invalid component schema at deploy time
        tree.definitions[path] = Definition(path, metadata, modules, analysed, schema)

    def instantiate(parent: str, metadata: dict[str, Any], depth: int) -> None:
        parent_vars = set(component_env.declared(metadata)) if parent else None
        where = where_of[tree.instances[parent]] if parent else where_of[""]
        if depth > MAX_DEPTH:
            raise DeployError(f"Components are nested deeper than {MAX_DEPTH} levels")
        for child in metadata.get("childComponents") or []:
            name, definition = child.get("name"), child.get("path")
            if not isinstance(name, str) or not name.isidentifier():
                raise DeployError(f"Invalid component name {name!r}")
            if definition not in tree.definitions:
                raise DeployError(f"Component definition {definition!r} was not pushed")
            instance = f"{parent}/{name}" if parent else name
            if instance in tree.instances:
                raise DeployError(f"Component {instance!r} is used twice")
            tree.instances[instance] = definition
            wanted = component_env.declared(tree.definitions[definition].metadata)
            tree.env[instance] = component_env.bindings(where, child, wanted, parent_vars)
            if len(tree.instances) > MAX_INSTANCES:
                raise DeployError(f"More than {MAX_INSTANCES} component instances")
            instantiate(instance, tree.definitions[definition].metadata, depth + 1)

    instantiate("", app_meta, 0)
    tree.app_metadata = app_meta
    return tree
