"""Convex function paths: "messages:list", "messages.js:list", "dir/file" (= default export)."""

from __future__ import annotations

import re

from .errors import DeployError

_MODULE_RE = re.compile(r"[A-Za-z0-9_\-./]+\Z")
_NAME_RE = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*\Z")
MAX_PATH_LEN = 1024


def parse_udf_path(path: object) -> tuple[str, str]:
    """(canonical module path with .js, export name); DeployError for malformed paths."""
    if not isinstance(path, str) or not path:
        raise DeployError('Function path must be a non-empty string, e.g. "messages:list"')
    if len(path) > MAX_PATH_LEN:
        raise DeployError("Function path is too long")
    module, sep, name = path.rpartition(":")
    if not sep:
        module, name = path, "default"
    if not module or not _MODULE_RE.match(module) or ".." in module.split("/"):
        raise DeployError(f"Invalid function path {path!r}")
    if not _NAME_RE.match(name):
        raise DeployError(f"Invalid function name in path {path!r}")
    for suffix in (".js", ".ts", ".mjs", ".cjs", ".tsx", ".jsx"):
        if module.endswith(suffix):
            module = module[: -len(suffix)]
            break
    return f"{module}.js", name


def display_path(module: str, name: str) -> str:
    """How Convex names a function in messages: "messages:list" (no .js)."""
    base = module[:-3] if module.endswith(".js") else module
    return f"{base}:{name}" if name != "default" else base


def is_system(module: str) -> bool:
    return module.startswith("_system/")
