"""What a bundle defines: functions (kind, visibility, validators), HTTP routes, crons, schema.

Produced by evaluating the bundle in a scratch isolate and asking convex/server's own objects
(the `isQuery`/`exportArgs`... properties, `HttpRouter.getRoutes()`, `Crons.crons`,
`defineSchema().export()`), so the result matches what the code really registers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from .isolate import Isolate
from .limits import RuntimeLimits
from .modules import Bundle

FunctionKind = Literal["query", "mutation", "action", "httpAction"]
Visibility = Literal["public", "internal"]


def split_path(path: str) -> tuple[str, str]:
    """("messages.js", "list") from "messages:list", "messages.js:list" or "messages"."""
    if not isinstance(path, str) or not path:
        raise ValueError(f"Invalid function path {path!r}")
    module, _, name = path.partition(":")
    name = name or "default"
    if not module.endswith((".js", ".mjs", ".cjs")):
        module += ".js"
    return module, name


def canonical_path(path: str) -> str:
    """The path clients use: "messages:list" (".js" dropped, default export kept explicit)."""
    module, name = split_path(path)
    return f"{module.removesuffix('.js')}:{name}"


@dataclass(frozen=True)
class FunctionInfo:
    """One registered function. `args`/`returns` are validator JSON strings or None."""

    module: str
    name: str
    kind: FunctionKind
    visibility: Visibility
    args: str | None
    returns: str | None

    @property
    def path(self) -> str:
        return f"{self.module.removesuffix('.js')}:{self.name}"


@dataclass(frozen=True)
class HttpRoute:
    """A route of convex/http.js: exact `path`, or a prefix when it ends with "*"."""

    path: str
    method: str
    function: str | None


@dataclass(frozen=True)
class AppAnalysis:
    """Everything the deploy flow and the runner need to know about a bundle."""

    functions: tuple[FunctionInfo, ...]
    routes: tuple[HttpRoute, ...] = ()
    crons_json: str | None = None
    schema_json: str | None = None
    auth_config_json: str | None = None
    definition_json: str | None = None  # convex.config.js's `export()` (app/component metadata)
    node_modules: tuple[str, ...] = ()
    _by_path: dict[tuple[str, str], FunctionInfo] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for f in self.functions:
            self._by_path[(f.module, f.name)] = f

    def function(self, path: str) -> FunctionInfo | None:
        """The function at a UDF path, or None."""
        try:
            key = split_path(path)
        except ValueError:
            return None
        return self._by_path.get(key)

    @property
    def schema(self) -> dict[str, Any] | None:
        return None if self.schema_json is None else dict(orjson.loads(self.schema_json))

    @property
    def crons(self) -> dict[str, Any]:
        return {} if self.crons_json is None else dict(orjson.loads(self.crons_json))

    @property
    def auth_config(self) -> dict[str, Any] | None:
        return None if self.auth_config_json is None else dict(orjson.loads(self.auth_config_json))

    def modules(self) -> dict[str, list[FunctionInfo]]:
        """Functions grouped by module path (the shape of Convex's module analysis)."""
        out: dict[str, list[FunctionInfo]] = {}
        for f in self.functions:
            out.setdefault(f.module, []).append(f)
        return out


def analysis_from_raw(raw: dict[str, Any], bundle: Bundle) -> AppAnalysis:
    """Build an AppAnalysis from runtime.js's `__strata.analyze()` output."""
    functions = tuple(
        FunctionInfo(
            module=f["module"],
            name=f["name"],
            kind=f["kind"],
            visibility=f["visibility"],
            args=None if f.get("args") in (None, "null") else f["args"],
            returns=None if f.get("returns") in (None, "null") else f["returns"],
        )
        for f in raw.get("functions", [])
    )
    routes = tuple(
        HttpRoute(path=r["path"], method=r["method"], function=r.get("function"))
        for r in raw.get("routes", [])
    )
    return AppAnalysis(
        functions=functions,
        routes=routes,
        crons_json=raw.get("crons"),
        schema_json=raw.get("schema"),
        auth_config_json=raw.get("auth"),
        definition_json=raw.get("definition"),
        node_modules=bundle.node_modules,
    )


def analyze_bundle(
    bundle: Bundle, env_vars: dict[str, str] | None = None, limits: RuntimeLimits | None = None
) -> AppAnalysis:
    """Evaluate the bundle in a scratch isolate and report what it registers.

    Raises AnalyzeError if the code throws while loading (e.g. a top-level exception), runs
    out of time or memory. `env_vars` matter because auth.config.js reads process.env.
    """
    limits = limits or RuntimeLimits()
    try:
        iso = Isolate(bundle, dict(env_vars or {}), limits)
    except Exception as e:
        raise AnalyzeError(f"Failed to load the pushed modules: {e}") from e
    try:
        raw = iso.analyze()
    except Exception as e:
        raise AnalyzeError(f"Failed to analyze the pushed modules: {e}") from e
    finally:
        iso.close()
    raw["functions"] = [*raw.get("functions", []), *_node_functions(bundle, env_vars or {})]
    try:
        return analysis_from_raw(raw, bundle)
    except Exception as e:
        raise AnalyzeError(f"Failed to analyze the pushed modules: {e}") from e


def _node_functions(bundle: Bundle, env_vars: dict[str, str]) -> list[dict[str, Any]]:
    """The functions of "use node" modules, learned by loading them in a scratch Node.js
    worker; like Convex, only actions may be defined there."""
    entries = [p for p in bundle.node_modules if not p.startswith("_deps/")]
    if not entries:
        return []
    from .node_worker import NodeWorker, NodeWorkerError

    worker = NodeWorker("analyze", bundle.sources, env_vars, packages=bundle.node_packages)
    try:
        functions = worker.analyze(entries)
    except NodeWorkerError as e:
        raise AnalyzeError(f'Failed to load the "use node" modules: {e}') from e
    finally:
        worker.close()
    for f in functions:
        if f.get("kind") != "action":
            raise AnalyzeError(
                f'{f.get("module")}:{f.get("name")} is a {f.get("kind")}, but "use node" '
                "files may only define actions"
            )
    return functions


class AnalyzeError(Exception):
    """The bundle could not be evaluated or analyzed; the message says why."""
