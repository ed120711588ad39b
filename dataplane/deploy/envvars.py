"""Environment variables: Convex's naming and size rules, and the CLI's change requests."""

from __future__ import annotations

import re
from typing import Any

from ..transactions import Database
from . import store
from .errors import DeployError

NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
MAX_NAME_LEN = 40
MAX_VALUE_BYTES = 8 * 1024
MAX_VARIABLES = 100
RESERVED = frozenset({"CONVEX_CLOUD_URL", "CONVEX_SITE_URL"})


def check_name(name: Any) -> str:
    """The name if it is a valid env var name, else a DeployError saying why."""
    if not isinstance(name, str) or not name:
        raise DeployError("Environment variable name must be a non-empty string")
    if len(name) > MAX_NAME_LEN:
        raise DeployError(
            f"Environment variable name {name!r} is longer than {MAX_NAME_LEN} characters"
        )
    if not NAME_RE.match(name):
        raise DeployError(
            f"Invalid environment variable name {name!r}: it must start with a letter and "
            "contain only letters, digits and underscores"
        )
    if name in RESERVED:
        raise DeployError(f"Environment variable {name} is built in and cannot be changed")
    return name


def check_value(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise DeployError(f"Environment variable {name} must have a string value")
    if len(value.encode()) > MAX_VALUE_BYTES:
        raise DeployError(
            f"Environment variable {name} is larger than the maximum {MAX_VALUE_BYTES} bytes"
        )
    return value


def parse_changes(body: Any) -> list[tuple[str, str | None]]:
    """`{"changes":[{"name","value"|null}]}` -> validated (name, value-or-None) pairs."""
    changes = body.get("changes") if isinstance(body, dict) else None
    if not isinstance(changes, list):
        raise DeployError('Expected a JSON body {"changes": [{"name": ..., "value": ...}]}')
    out: list[tuple[str, str | None]] = []
    for change in changes:
        if not isinstance(change, dict):
            raise DeployError("Each change must be an object with name and value")
        name = check_name(change.get("name"))
        value = change.get("value")
        out.append((name, None if value is None else check_value(name, value)))
    return out


def update(db: Database, changes: list[tuple[str, str | None]]) -> dict[str, str]:
    """Apply changes in one transaction; returns the resulting variables."""
    store.ensure_tables(db)

    def apply(txn: Any) -> dict[str, str]:
        store.apply_env_changes(txn, changes)
        result = store.load_env(txn)
        if len(result) > MAX_VARIABLES:
            raise DeployError(
                f"A deployment can have at most {MAX_VARIABLES} environment variables"
            )
        return result

    result, _ = db.run_mutation(apply)
    return result


def builtin_env(public_url: str, site_url: str) -> dict[str, str]:
    """Variables every deployment exposes to its functions."""
    return {"CONVEX_CLOUD_URL": public_url, "CONVEX_SITE_URL": site_url}
