"""Turn the ESM modules the Convex CLI pushes into one script a mini-racer context can evaluate.

The CLI uploads code-split ESM (`messages.js` importing `./_deps/ABC.js`). mini-racer evaluates
scripts only, so esbuild (a real JS parser, run as a subprocess) re-bundles them into one IIFE
that exposes every entry module's namespace as `globalThis.__strataApp.modules[path]`.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

import orjson

from .sourcemap import BUNDLE_URL

REPO_ROOT = Path(__file__).resolve().parents[2]
MAX_TOTAL_SOURCE_BYTES = 32 << 20  # Convex's code-size limit per deployment
_PATH_RE = re.compile(r"[A-Za-z0-9_\-./]+\Z")
_JS_SUFFIXES = (".js", ".mjs", ".cjs")

Environment = Literal["isolate", "node"]


class BundleError(Exception):
    """The pushed modules cannot be turned into a runnable bundle (message says which and why)."""


@dataclass(frozen=True)
class ModuleSource:
    """One module as the CLI pushes it: `path` relative to convex/, e.g. "messages.js"."""

    path: str
    source: str
    source_map: str | None = None
    environment: Environment = "isolate"


@dataclass(frozen=True)
class Bundle:
    """The evaluable script for one deployment's code, plus what it was built from.

    `script` defines `globalThis.__strataApp = {modules: {path: namespace}}` when evaluated.
    `entry_modules` are the modules whose exports are reachable (function modules, schema.js,
    auth.config.js, http.js, crons.js); `node_modules` are "use node" modules, which
    node_worker.py runs in Node.js (they are not in `script`); `node_packages` is the
    directory whose `node_modules` holds their installed external packages, if any.
    """

    script: str
    entry_modules: tuple[str, ...]
    node_modules: tuple[str, ...]
    sources: tuple[ModuleSource, ...] = field(repr=False, default=())
    digest: str = ""
    source_map: str | None = field(repr=False, default=None)
    node_packages: Path | None = None


def esbuild_path() -> Path:
    """The esbuild binary from node_modules (override with STRATA_ESBUILD)."""
    override = os.environ.get("STRATA_ESBUILD")
    if override:
        return Path(override)
    return REPO_ROOT / "node_modules" / ".bin" / "esbuild"


def _check_path(path: str) -> PurePosixPath:
    if not path or not _PATH_RE.match(path):
        raise BundleError(f"Invalid module path {path!r}: use letters, digits, '_', '-', '.', '/'")
    p = PurePosixPath(path)
    if p.is_absolute() or any(part in ("", ".", "..") for part in p.parts):
        raise BundleError(f"Invalid module path {path!r}: must be relative without '..'")
    if not path.endswith(_JS_SUFFIXES):
        raise BundleError(f"Invalid module path {path!r}: modules must be .js files")
    return p


SCOPE_DIR = "__strata_scope__"


def _entry_source(entries: list[str]) -> tuple[str, dict[str, str]]:
    """The bundle's entry module, and the scope markers it imports (path -> source).

    Modules evaluate in import order, so a marker imported before a component instance's
    modules tells runtime.js whose process.env their top-level code reads (the instance's,
    not the deployment's), and one before the app's modules switches back."""
    from .components import instance_of  # components needs analysis, which needs this module

    lines = []
    names = []
    markers: dict[str, str] = {}
    scope = ""

    def enter(instance: str) -> None:
        marker = f"{SCOPE_DIR}/{len(markers)}.js"
        markers[marker] = f"globalThis.__strata.loadingScope({orjson.dumps(instance).decode()});\n"
        lines.append(f"import {orjson.dumps('./' + marker).decode()};")

    for i, path in enumerate(entries):
        if instance_of(path) != scope:
            scope = instance_of(path)
            enter(scope)
        lines.append(f"import * as m{i} from {orjson.dumps('./' + path).decode()};")
        names.append(f"{orjson.dumps(path).decode()}: m{i}")
    if scope:
        enter("")
    lines.append(f"export const modules = {{{', '.join(names)}}};")
    return "\n".join(lines) + "\n", markers


def is_dependency(path: str) -> bool:
    """A bundler chunk (`_deps/`, also inside a component's module directory), not an entry."""
    return path.startswith("_deps/") or "/_deps/" in path


def build_bundle(modules: list[ModuleSource]) -> Bundle:
    """Bundle pushed modules with esbuild into one IIFE script; raises BundleError on bad input.

    Every non-`_deps/` isolate module becomes an entry whose namespace is exposed. Imports must
    stay inside the pushed module set: anything resolving elsewhere (absolute paths, `..`
    escapes, bare packages) is rejected, so a tenant cannot read the server's files.
    """
    seen: set[str] = set()
    total = 0
    for m in modules:
        _check_path(m.path)
        if m.path in seen:
            raise BundleError(f"Module {m.path!r} was pushed twice")
        seen.add(m.path)
        total += len(m.source.encode())
        if m.environment not in ("isolate", "node"):
            raise BundleError(f"Module {m.path!r} has unknown environment {m.environment!r}")
    if total > MAX_TOTAL_SOURCE_BYTES:
        raise BundleError(
            f"Pushed code is {total} bytes, over the {MAX_TOTAL_SOURCE_BYTES} byte limit"
        )
    isolate = [m for m in modules if m.environment == "isolate"]
    node = tuple(sorted(m.path for m in modules if m.environment == "node"))
    entries = sorted(m.path for m in isolate if not is_dependency(m.path))
    digest = hashlib.sha256(
        orjson.dumps(sorted((m.path, m.environment, m.source) for m in modules))
    ).hexdigest()
    with tempfile.TemporaryDirectory(prefix="strata-bundle-") as tmp:
        root = Path(tmp).resolve()
        src = root / "src"
        for m in isolate:
            target = src / m.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(m.source, encoding="utf-8")
            if m.source_map:
                # esbuild follows the module's sourceMappingURL and chains this map.
                map_path = target.with_name(target.name + ".map")
                map_path.write_text(m.source_map, encoding="utf-8")
                if "//# sourceMappingURL=" not in m.source[-300:]:
                    with target.open("a", encoding="utf-8") as f:
                        f.write(f"\n//# sourceMappingURL={map_path.name}\n")
        src.mkdir(parents=True, exist_ok=True)  # even when every module is "use node"
        entry = src / "__strata_entry__.js"
        entry_source, markers = _entry_source(entries)
        entry.write_text(entry_source, encoding="utf-8")
        for marker, source in markers.items():
            (src / marker).parent.mkdir(parents=True, exist_ok=True)
            (src / marker).write_text(source, encoding="utf-8")
        out = root / "out.js"
        meta = root / "meta.json"
        script = _run_esbuild(entry, out, meta, root)
        _check_inputs(meta, src)
        out_map = root / "out.js.map"
        source_map = out_map.read_text(encoding="utf-8") if out_map.exists() else None
    script = script.replace("//# sourceMappingURL=out.js.map", "").rstrip()
    script += f"\n//# sourceURL={BUNDLE_URL}\n"
    return Bundle(
        script=script,
        source_map=source_map,
        entry_modules=tuple(entries),
        node_modules=node,
        sources=tuple(modules),
        digest=digest,
    )


def _run_esbuild(entry: Path, out: Path, meta: Path, cwd: Path) -> str:
    cmd = [
        str(esbuild_path()),
        str(entry),
        "--bundle",
        "--format=iife",
        "--global-name=__strataApp",
        "--platform=neutral",
        "--target=esnext",
        "--charset=utf8",
        "--log-level=error",
        "--main-fields=module,main",
        f"--outfile={out}",
        f"--metafile={meta}",
        "--sourcemap=external",
        "--sources-content=false",
    ]
    # A clean environment: no NODE_PATH, so bare imports cannot reach the host's packages.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    try:
        proc = subprocess.run(
            cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
        )
    except FileNotFoundError as e:
        raise BundleError(f"esbuild not found at {cmd[0]}: run `npm install`") from e
    except subprocess.TimeoutExpired as e:
        raise BundleError("esbuild timed out bundling the pushed modules") from e
    if proc.returncode != 0:
        message = proc.stderr.replace(str(cwd / "src") + "/", "").strip()
        raise BundleError(f"Could not bundle the pushed modules:\n{message}")
    return out.read_text(encoding="utf-8")


def _check_inputs(meta: Path, src: Path) -> None:
    inputs = orjson.loads(meta.read_bytes()).get("inputs", {})
    for name in inputs:
        resolved = (src.parent / name).resolve()
        if not resolved.is_relative_to(src):
            raise BundleError(f"Module imports {name!r}, which is outside the pushed modules")
