"""What a push contains, from running its bundle once in V8, in the shapes the CLI expects.

The runtime reports functions (module, name, kind, visibility, validators), HTTP routes, crons,
the schema's `export()` and the auth config. This module turns that into the StartPushResponse
`analysis`/`app` parts and the FinishPushDiff the CLI prints.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import struct
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from .errors import DeployError

if TYPE_CHECKING:
    from ..runtime import Bundle, ModuleSource, RuntimeLimits
    from ..runtime.analysis import AppAnalysis
    from .schema import Schema
    from .store import DeployedConfig, StoredModule

COMPONENT_MODULES = "_components/"  # runtime/components.py MODULE_ROOT
UDF_TYPES = {"query": "Query", "mutation": "Mutation", "action": "Action"}


def parse_auth_config(config: Any) -> list[dict[str, Any]]:
    """auth.config.js `{providers: [...]}` -> the CLI's AuthInfo list (OIDC or customJwt)."""
    if config is None:
        return []
    providers = config.get("providers") if isinstance(config, dict) else None
    if not isinstance(providers, list):
        raise DeployError("auth.config.js must export default { providers: [...] }")
    out = []
    for i, p in enumerate(providers):
        where = f"auth.config.js providers[{i}]"
        if not isinstance(p, dict):
            raise DeployError(f"{where} must be an object")
        if p.get("type") == "customJwt":
            for key in ("issuer", "jwks", "algorithm"):
                if not isinstance(p.get(key), str) or not p.get(key):
                    raise DeployError(f"{where} (customJwt) needs a string `{key}`")
            if p["algorithm"] not in ("RS256", "ES256"):
                raise DeployError(f"{where}: algorithm must be RS256 or ES256")
            app_id = p.get("applicationID")
            if app_id is not None and not isinstance(app_id, str):
                raise DeployError(f"{where}: applicationID must be a string")
            out.append({**p, "applicationID": app_id})
        else:
            if not isinstance(p.get("domain"), str) or not p.get("domain"):
                raise DeployError(f"{where} needs a string `domain` (the OIDC issuer URL)")
            if not isinstance(p.get("applicationID"), str):
                raise DeployError(f"{where} needs a string `applicationID`")
            out.append(dict(p))
    return out


def analyze(
    modules: list[StoredModule],
    env: dict[str, str] | None = None,
    limits: RuntimeLimits | None = None,
    node_packages: Path | None = None,
) -> tuple[Bundle, AppAnalysis, list[dict[str, Any]]]:
    """Bundle the modules and run them once to learn what they export, plus the validated
    auth providers; DeployError (shown by the CLI) on any failure. `node_packages` holds the
    installed external packages the "use node" modules import."""
    from ..runtime import BundleError, build_bundle
    from ..runtime.analysis import AnalyzeError, analyze_bundle

    sources = module_sources(modules)
    try:
        bundle = dataclasses.replace(build_bundle(sources), node_packages=node_packages)
        app = analyze_bundle(bundle, env, limits)
    except (BundleError, AnalyzeError) as e:
        raise DeployError(str(e)) from e
    return bundle, app, parse_auth_config(app.auth_config)


def module_sources(modules: list[StoredModule]) -> list[ModuleSource]:
    """Stored modules as the bundler takes them."""
    from ..runtime import ModuleSource

    return [
        ModuleSource(m.path, m.source, m.source_map, m.environment)  # type: ignore[arg-type]
        for m in modules
    ]


# ----- StartPushResponse parts ----------------------------------------------------------


def _udf_config(version: str) -> dict[str, Any]:
    seed = base64.b64encode(os.urandom(32)).decode()
    now = base64.b64encode(struct.pack("<q", int(time.time() * 1000))).decode()
    return {
        "serverVersion": version,
        "importPhaseRngSeed": {"$bytes": seed},
        "importPhaseUnixTimestamp": {"$integer": now},
    }


def _raw_table(schema: Schema, name: str) -> dict[str, Any]:
    """The pushed JSON of one table (search/vector index definitions are kept as pushed)."""
    for t in schema.raw.get("tables", []):
        if isinstance(t, dict) and t.get("tableName") == name:
            return t
    return {}


def component_analysis(
    app: AppAnalysis,
    schema: Schema | None,
    version: str,
    definition: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An EvaluatedComponentDefinition: the root app's (`analysis[""]`) unless `definition`
    (a component definition's metadata) is given. Component instances' modules are left out."""
    modules: dict[str, dict[str, Any]] = {}
    for f in app.functions:
        if f.module.startswith(COMPONENT_MODULES):
            continue
        entry = modules.setdefault(
            f.module, {"functions": [], "httpRoutes": None, "cronSpecs": None, "sourceMapped": None}
        )
        if f.kind not in UDF_TYPES:
            continue
        entry["functions"].append(
            {
                "name": f.name,
                "pos": None,
                "udfType": UDF_TYPES[f.kind],
                "visibility": {"kind": f.visibility},
                "args": f.args,
                "returns": f.returns,
            }
        )
    if app.routes:
        http = modules.setdefault(
            "http.js",
            {"functions": [], "httpRoutes": None, "cronSpecs": None, "sourceMapped": None},
        )
        http["httpRoutes"] = [{"route": {"path": r.path, "method": r.method}} for r in app.routes]
    if app.crons:
        crons = modules.setdefault(
            "crons.js",
            {"functions": [], "httpRoutes": None, "cronSpecs": None, "sourceMapped": None},
        )
        crons["cronSpecs"] = app.crons
    schema_json = None
    if schema is not None:
        schema_json = {
            "tables": [
                {
                    "tableName": t.name,
                    "indexes": [
                        {"indexDescriptor": i.name, "fields": list(i.fields)} for i in t.indexes
                    ],
                    "searchIndexes": _raw_table(schema, t.name).get("searchIndexes") or [],
                    "vectorIndexes": _raw_table(schema, t.name).get("vectorIndexes") or [],
                    "documentType": t.document_type,
                }
                for t in schema.tables
            ],
            "schemaValidation": schema.schema_validation,
        }
    return {
        "definition": definition
        or {
            "path": "",
            "definitionType": {"type": "app"},
            "childComponents": [],
            "httpMounts": {},
            "exports": {"type": "branch", "branch": []},
            "envVars": None,
        },
        "schema": schema_json,
        "functions": modules,
        "udfConfig": _udf_config(version),
    }


def checked_app(
    app: AppAnalysis,
    children: dict[str, dict[str, Any]] | None = None,
    mounts: list[str] | None = None,
) -> dict[str, Any]:
    """The root CheckedComponent (`app`) with its component instances as `children` and
    the path prefixes it mounts them at (`mounts`)."""
    routes = [{"method": r.method, "path": r.path} for r in app.routes]
    return {
        "definitionPath": "",
        "componentPath": "",
        "args": {},
        "childComponents": children or {},
        "httpRoutes": {"httpModuleRoutes": routes or None, "mounts": mounts or []},
        "exports": {},
    }


def finish_diff(
    previous: DeployedConfig | None,
    config: DeployedConfig,
    added: list[str],
    removed: list[str],
    index_diff: dict[str, Any],
    app: AppAnalysis,
) -> dict[str, Any]:
    """The FinishPushDiff: module, auth, cron, schema and index changes of the root app."""
    added = [m for m in added if not m.startswith(COMPONENT_MODULES)]
    removed = [m for m in removed if not m.startswith(COMPONENT_MODULES)]
    old_auth = {_auth_key(a) for a in (previous.auth_info if previous else [])}
    new_auth = {_auth_key(a) for a in config.auth_info}
    old_crons = set(_crons_of(previous))
    new_crons = set(app.crons)
    old_schema = previous.schema if previous else None
    schema_diff = None
    if old_schema != config.schema:
        schema_diff = {
            "previous_schema": None if old_schema is None else orjson.dumps(old_schema).decode(),
            "next_schema": None if config.schema is None else orjson.dumps(config.schema).decode(),
        }
    old_version = previous.udf_server_version if previous else None
    udf_diff = None
    if old_version and config.udf_server_version and old_version != config.udf_server_version:
        udf_diff = {"previous_version": old_version, "next_version": config.udf_server_version}
    return {
        "authDiff": {"added": sorted(new_auth - old_auth), "removed": sorted(old_auth - new_auth)},
        "definitionDiffs": {},
        "componentDiffs": {
            "": {
                "diffType": {"type": "modify" if previous else "create"},
                "moduleDiff": {"added": added, "removed": removed},
                "udfConfigDiff": udf_diff,
                "cronDiff": {
                    "added": sorted(new_crons - old_crons),
                    "updated": [],
                    "deleted": sorted(old_crons - new_crons),
                },
                "indexDiff": index_diff,
                "schemaDiff": schema_diff,
            }
        },
    }


def _auth_key(info: dict[str, Any]) -> str:
    return str(info.get("domain") or info.get("issuer") or "")


def _crons_of(config: DeployedConfig | None) -> list[str]:
    if config is None:
        return []
    for module in (config.analysis.get("functions") or {}).values():
        specs = module.get("cronSpecs") if isinstance(module, dict) else None
        if isinstance(specs, dict):
            return list(specs)
    return []
