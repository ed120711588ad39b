"""Function handles: `createFunctionHandle(ref)` strings that name a function of this deployment.

A handle is `function://<module>:<name>` (the canonical UDF path). Convex treats handles as
opaque strings that apps store in documents and later pass to ctx.runQuery/runMutation/
runAction or ctx.scheduler, so every syscall that takes a function address accepts one; a
handle resolves against the code active when it is used, and a handle whose function no
longer exists is a clear error, not a silent no-op.
"""

from __future__ import annotations

from typing import Any

from .analysis import AppAnalysis, FunctionInfo, split_path
from .components import NamespaceError, instance_of, resolve_name

HANDLE_PREFIX = "function://"


class FunctionHandleError(Exception):
    """A function address (name, reference or handle) that names no function here."""


def is_handle(value: object) -> bool:
    return isinstance(value, str) and value.startswith(HANDLE_PREFIX)


def _find(analysis: AppAnalysis | None, path: str) -> FunctionInfo | None:
    if analysis is None:
        return None
    try:
        split_path(path)
    except ValueError:
        return None
    return analysis.function(path)


def path_of_handle(analysis: AppAnalysis | None, handle: object) -> str:
    """The canonical path a handle names; raises FunctionHandleError if it names nothing."""
    if not isinstance(handle, str) or not handle.startswith(HANDLE_PREFIX):
        raise FunctionHandleError(f"Invalid function handle {handle!r}: expected 'function://...'")
    path = handle[len(HANDLE_PREFIX) :]
    info = _find(analysis, path) if ":" in path else None
    if info is None:
        raise FunctionHandleError(f"Function handle {handle!r} does not name a deployed function")
    return info.path


def _scoped(name: str, caller: str) -> str:
    try:
        return resolve_name(instance_of(caller), name)
    except NamespaceError as e:
        raise FunctionHandleError(str(e)) from None


def address_path(analysis: AppAnalysis | None, a: dict[str, Any], caller: str = "") -> str | None:
    """The UDF path a syscall's `{name | reference | functionHandle}` address names.

    Names and references are returned as given (the runner's lookup reports unknown ones);
    handles are validated here. None when the address has none of the three.
    """
    handle = a.get("functionHandle")
    if handle is not None:
        return path_of_handle(analysis, handle)
    name = a.get("name") or a.get("reference")
    if isinstance(name, str) and name:
        return path_of_handle(analysis, name) if is_handle(name) else _scoped(name, caller)
    return None


def create_handle(analysis: AppAnalysis | None, a: dict[str, Any], caller: str = "") -> str:
    """`1.0/createFunctionHandle`: the handle of the referenced function (public or internal)."""
    if a.get("functionHandle") is not None:
        return HANDLE_PREFIX + path_of_handle(analysis, a.get("functionHandle"))
    name = a.get("name") or a.get("reference")
    if not isinstance(name, str) or not name:
        raise FunctionHandleError("createFunctionHandle needs a function reference")
    if is_handle(name):
        return HANDLE_PREFIX + path_of_handle(analysis, name)
    info = _find(analysis, _scoped(name, caller))
    if info is None or info.kind == "httpAction":
        raise FunctionHandleError(
            f"createFunctionHandle: could not find function for '{name}'. Did you forget to "
            "run `npx convex dev` or `npx convex deploy`?"
        )
    return HANDLE_PREFIX + info.path
