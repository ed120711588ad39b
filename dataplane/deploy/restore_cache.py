"""The active push's built bundle and analysis, kept in the data dir for the next start.

Restoring deployed code at start-up bundles the stored modules with esbuild (a subprocess) and
runs them once in a fresh V8 isolate to learn what they export: about 0.3 s of every start, and
so of every wake of a suspended deployment (scale to zero). Both depend only on the modules,
the environment variables the modules saw, the installed external packages (a directory named
by their hash) and the code that builds them, so the result is written next to the
deployment's data, keyed by a hash of all four, and read back when they match. Anything
unexpected (missing, stale, damaged) is a miss: the code is rebuilt as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import structlog

from ..runtime import Bundle, ModuleSource
from ..runtime import analysis as runtime_analysis
from ..runtime import modules as runtime_modules
from ..runtime.analysis import AppAnalysis, FunctionInfo, HttpRoute

if TYPE_CHECKING:
    from collections.abc import Sequence

log = structlog.get_logger(__name__)
CACHE_FILE = "active-code.json"


def _builder_fingerprint() -> bytes:
    """The code that turns modules into a bundle and an analysis: a change invalidates."""
    digest = hashlib.sha256()
    for module in (runtime_modules, runtime_analysis):
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.digest()


_BUILDER = _builder_fingerprint()


def cache_key(sources: Sequence[ModuleSource], env: dict[str, str], packages: Path | None) -> str:
    material = orjson.dumps(
        [
            sorted((m.path, m.environment, m.source, m.source_map) for m in sources),
            sorted(env.items()),
            None if packages is None else str(packages),
        ]
    )
    return hashlib.sha256(_BUILDER + material).hexdigest()


class RestoreCache:
    """One file in `directory` (None: no cache) holding the last restored build."""

    def __init__(self, directory: Path | None) -> None:
        self.path = None if directory is None else directory / CACHE_FILE

    def load(
        self, sources: Sequence[ModuleSource], env: dict[str, str], packages: Path | None
    ) -> tuple[Bundle, AppAnalysis] | None:
        if self.path is None:
            return None
        try:
            raw = orjson.loads(self.path.read_bytes())
            if raw["key"] != cache_key(sources, env, packages):
                return None
            bundle = Bundle(
                script=raw["script"],
                entry_modules=tuple(raw["entry_modules"]),
                node_modules=tuple(raw["node_modules"]),
                sources=tuple(sources),
                digest=raw["digest"],
                source_map=raw["source_map"],
                node_packages=packages,
            )
            app = AppAnalysis(
                functions=tuple(FunctionInfo(**f) for f in raw["functions"]),
                routes=tuple(HttpRoute(**r) for r in raw["routes"]),
                crons_json=raw["crons_json"],
                schema_json=raw["schema_json"],
                auth_config_json=raw["auth_config_json"],
                definition_json=raw["definition_json"],
                node_modules=tuple(raw["app_node_modules"]),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring a damaged code cache", path=str(self.path), error=str(exc))
            return None
        return bundle, app

    def save(
        self,
        sources: Sequence[ModuleSource],
        env: dict[str, str],
        bundle: Bundle,
        app: AppAnalysis,
    ) -> None:
        if self.path is None:
            return
        record = {
            "key": cache_key(sources, env, bundle.node_packages),
            "script": bundle.script,
            "entry_modules": list(bundle.entry_modules),
            "node_modules": list(bundle.node_modules),
            "digest": bundle.digest,
            "source_map": bundle.source_map,
            "functions": [
                {
                    "module": f.module,
                    "name": f.name,
                    "kind": f.kind,
                    "visibility": f.visibility,
                    "args": f.args,
                    "returns": f.returns,
                }
                for f in app.functions
            ],
            "routes": [
                {"path": r.path, "method": r.method, "function": r.function} for r in app.routes
            ],
            "crons_json": app.crons_json,
            "schema_json": app.schema_json,
            "auth_config_json": app.auth_config_json,
            "definition_json": app.definition_json,
            "app_node_modules": list(app.node_modules),
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            tmp.write_bytes(orjson.dumps(record))
            os.replace(tmp, self.path)
        except OSError as exc:  # a cache: never fail a start over it
            log.warning("could not write the code cache", path=str(self.path), error=str(exc))
            with contextlib.suppress(OSError):
                tmp.unlink()
