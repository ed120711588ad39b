"""Bundle a test app's convex/ directory the way the official CLI does before a push.

Runs tests/apps/cli_bundle.mjs (esbuild with the CLI's options) so runtime tests exercise the
real pushed module format: code-split ESM with `_deps/` chunks and convex/server inlined.
"""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path

from dataplane.runtime import ModuleSource

APPS = Path(__file__).resolve().parent
REPO = APPS.parent.parent


@functools.cache
def _bundle_json(convex_dir: str) -> str:
    proc = subprocess.run(
        ["node", str(APPS / "cli_bundle.mjs"), convex_dir],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"bundling {convex_dir} failed:\n{proc.stderr}")
    return proc.stdout


def cli_modules(app: str, *, include_schema: bool = True) -> list[ModuleSource]:
    """The modules the CLI would push for tests/apps/<app>/convex (schema as "schema.js")."""
    data = json.loads(_bundle_json(str(APPS / app / "convex")))
    mods = [
        ModuleSource(m["path"], m["source"], m.get("sourceMap"), m["environment"])
        for m in data["modules"]
    ]
    if include_schema and data["schema"] is not None:
        s = data["schema"]
        mods.append(ModuleSource("schema.js", s["source"], s.get("sourceMap"), "isolate"))
    return mods
