"""External npm packages of "use node" actions (convex.json `node.externalPackages`).

The CLI leaves the listed packages out of the node bundles and sends their exact installed
versions as the push's `nodeDependencies`; the deployment installs them from the npm registry
(as Convex's node executor does in its build-deps step) and the Node.js worker resolves
`require`/`import` of them from there. An install is cached under the data dir by the hash of
the dependency set, so a redeploy or a restart with the same set reuses it. Installs run with
`--ignore-scripts`: lifecycle scripts would run tenant-chosen code outside the worker's
permission model.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import structlog

from .errors import DeployError

log = structlog.get_logger(__name__)
_NAME_RE = re.compile(r"(@[A-Za-z0-9~][A-Za-z0-9._~-]*/)?[A-Za-z0-9~][A-Za-z0-9._~-]*\Z")
_VERSION_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+-]*\Z")
_DONE = ".strata-installed"
_ERROR_LINES = 12


@dataclass(frozen=True, order=True)
class NodeDependency:
    """One external package at the exact version the CLI found installed locally."""

    name: str
    version: str

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version}


def parse_dependencies(raw: Any) -> tuple[NodeDependency, ...]:
    """The push's `nodeDependencies` ([{name, version}]), validated and sorted."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise DeployError("Invalid push request: `nodeDependencies` must be a list")
    deps: dict[str, NodeDependency] = {}
    for item in raw:
        name = item.get("name") if isinstance(item, dict) else None
        version = item.get("version") if isinstance(item, dict) else None
        if not isinstance(name, str) or not _NAME_RE.match(name) or len(name) > 214:
            raise DeployError(f"Invalid external package name {name!r} in `nodeDependencies`")
        if not isinstance(version, str) or not _VERSION_RE.match(version):
            raise DeployError(
                f"Invalid version {version!r} of external package {name} in `nodeDependencies`"
            )
        if name in deps and deps[name].version != version:
            raise DeployError(f"External package {name} is listed with two versions")
        deps[name] = NodeDependency(name, version)
    return tuple(sorted(deps.values()))


def dependency_hash(deps: tuple[NodeDependency, ...]) -> str:
    """The cache key of a dependency set (order-independent)."""
    return hashlib.sha256("\n".join(sorted(d.spec for d in deps)).encode()).hexdigest()


class NodePackages:
    """Installs dependency sets with npm into `root/<hash>/node_modules`, once per set."""

    def __init__(self, root: Path, *, npm_binary: str = "npm", timeout_s: float = 600.0) -> None:
        self.root = root
        self.npm_binary = npm_binary
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        # Installs a crashed process left half-done are never used: clear them away (only
        # those older than any install may run, as another process may share the dir).
        if root.is_dir():
            for stale in root.glob(".install-*"):
                with contextlib.suppress(OSError):
                    if time.time() - stale.stat().st_mtime > 2 * timeout_s:
                        shutil.rmtree(stale, ignore_errors=True)

    def ensure(self, deps: tuple[NodeDependency, ...]) -> Path | None:
        """The directory whose `node_modules` holds `deps` (installing them on a cache miss);
        None for no dependencies. DeployError naming the package if npm cannot install it."""
        if not deps:
            return None
        target = self.root / dependency_hash(deps)
        if (target / _DONE).exists():
            return target
        with self._lock:  # one install per set at a time in this process
            if (target / _DONE).exists():
                return target
            self._install(deps, target)
        return target

    def _install(self, deps: tuple[NodeDependency, ...], target: Path) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        # Built aside and renamed into place, so a crash or a concurrent process never
        # leaves a half-installed set under the final name.
        work = Path(tempfile.mkdtemp(prefix=".install-", dir=self.root))
        try:
            package = {
                "name": "strata-external-packages",
                "version": "0.0.0",
                "private": True,
                "dependencies": {d.name: d.version for d in deps},
            }
            (work / "package.json").write_bytes(orjson.dumps(package))
            cmd = [
                self.npm_binary,
                "install",
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
                "--no-package-lock",
                "--loglevel=error",
            ]
            env = {
                **os.environ,
                "npm_config_cache": str(self.root / ".npm-cache"),
                "npm_config_update_notifier": "false",
            }
            log.info("installing external node packages", packages=[d.spec for d in deps])
            try:
                done = subprocess.run(
                    cmd,
                    cwd=work,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=self.timeout_s,
                )
            except subprocess.TimeoutExpired:
                raise DeployError(
                    f"Installing the external packages {_specs(deps)} took longer than "
                    f"{self.timeout_s:g} s",
                    code="InvalidExternalModules",
                ) from None
            except OSError as e:
                raise DeployError(
                    f"Could not run npm ({self.npm_binary}) to install the external packages: {e}",
                    code="InvalidExternalModules",
                ) from None
            if done.returncode != 0 or not (work / "node_modules").is_dir():
                output = (done.stderr or b"").decode(errors="replace")
                raise DeployError(_failure_message(deps, output), code="InvalidExternalModules")
            (work / _DONE).write_text(_specs(deps))
            try:
                work.rename(target)
            except OSError:
                if not (target / _DONE).exists():  # not another process's finished install
                    shutil.rmtree(target, ignore_errors=True)
                    work.rename(target)
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)


def _specs(deps: tuple[NodeDependency, ...]) -> str:
    return ", ".join(d.spec for d in deps)


def _failure_message(deps: tuple[NodeDependency, ...], output: str) -> str:
    """Which packages npm could not install (those its errors name), with its error lines."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    named = [d for d in deps if re.search(rf"(?<![\w@/.-]){re.escape(d.name)}(?![\w/.-])", output)]
    culprits = named or list(deps)
    which = "package" if len(culprits) == 1 else "packages"
    detail = "\n".join(lines[:_ERROR_LINES]) or "npm failed without a message"
    return (
        f"Could not install the external {which} {_specs(tuple(culprits))} from the npm "
        f"registry (convex.json node.externalPackages):\n{detail}"
    )
