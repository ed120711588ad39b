"""Failing functions' error text, worded and laid out as Convex shows it.

A JS error becomes `Uncaught <Name>: <message>` followed by one line per *user* stack frame,
`    at <fn or <anonymous>> (<file>:<line>:<col>)`, each ending in a newline. Frames from the
`convex` npm package, the runtime's own glue and Node internals are left out, so what remains
points into the app's `convex/` folder (source-mapped when maps were pushed).

A nested `ctx.runQuery`/`runMutation`/`runAction` that fails hands this whole text to the
caller as its error message; convex/server rethrows it there, so the caller's own error reads
`Uncaught ConvexError: Uncaught ConvexError: ...` with the inner frames, a blank line, then the
caller's frames — the layout Convex clients and tests expect.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from .outcomes import FunctionError

_FRAME = re.compile(r"^\s*at (?P<async>async )?(?:(?P<fn>.*?) \((?P<loc>[^()]*)\)|(?P<bare>.+))$")
_POSITION = re.compile(r"^(?P<file>.*?)(?::\d+){1,2}$")


STATUS_CODE_UDF_FAILED = 560  # the HTTP status of a failed function call


def not_found_message(kind: str, path: str) -> str:
    """`kind` is "public function" for callers who may only call public functions."""
    return f"Could not find {kind} for '{path}'. Did you forget to run `npx convex dev`?"


def timeout_message(kind: str, label: str, seconds: float) -> str:
    """What a call that ran out of time reports; actions are worded as Convex words them."""
    if kind == "action":
        name = label.rpartition(":")[2] or label
        return f"Action `{name}` execution timed out (maximum duration {seconds:g}s)"
    return f"Function execution timed out: {label} ran user code for more than {seconds:g}s"


_NOT_FOUND = re.compile(
    r"^(?P<kind>Index|Search index|Vector index) (?P<table>[^.\s]+)\.(?P<index>\S+) not found"
)
_STAGED_LISTS = {
    "Index": "stagedDbIndexes",
    "Search index": "stagedSearchIndexes",
    "Vector index": "stagedVectorIndexes",
}


def staged_index_message(schema: dict[str, Any] | None, message: str) -> str | None:
    """Convex's words for querying an index the schema declares with `staged: true` (such
    indexes are not built), given the "not found" message of the lookup; else None."""
    m = _NOT_FOUND.match(message)
    if m is None or not schema:
        return None
    table, index = m.group("table"), m.group("index")
    for t in schema.get("tables") or []:
        if not isinstance(t, dict) or t.get("tableName") != table:
            continue
        for staged in t.get(_STAGED_LISTS[m.group("kind")]) or []:
            if isinstance(staged, dict) and staged.get("indexDescriptor") == index:
                return (
                    f"Index {table}.{index} is currently staged and not available to query "
                    "until it is enabled"
                )
    return None


def request_id() -> str:
    """A Convex-style request id: 16 lowercase hex digits."""
    return secrets.token_hex(8)


def server_error(message: str, rid: str | None = None) -> str:
    """The text clients receive for a failed call: `[Request ID: <id>] Server Error\\n<message>`."""
    return f"[Request ID: {rid or request_id()}] Server Error\n{message}"


def _is_user_file(file: str) -> bool:
    if not file or file in ("<anonymous>", "native", "<strata node host>"):
        return False
    if file.startswith("node:") or file.startswith("internal/"):
        return False
    normalized = "/" + file.replace("\\", "/")
    return "/node_modules/convex/" not in normalized


def _display_file(loc: str) -> str:
    # Node actions' frames name files relative to their work dir (`convex/x.ts`); Convex
    # shows user files as the V8 runtime's source maps do: `../convex/x.ts`.
    parts = loc.replace("\\", "/").split("/")
    if "node_modules" not in parts and "convex" in parts[:-1]:
        i = len(parts) - 2 - parts[-2::-1].index("convex")
        return "../" + "/".join(parts[i:])
    return loc


def _frame_lines(frames_text: str) -> list[str]:
    out: list[str] = []
    for line in frames_text.splitlines():
        m = _FRAME.match(line)
        if m is None:
            continue
        loc = m.group("loc") if m.group("loc") is not None else m.group("bare")
        fn = m.group("fn") if m.group("loc") is not None else None
        pos = _POSITION.match(loc.strip())
        file = pos.group("file") if pos else loc.strip()
        if not _is_user_file(file):
            continue
        shown = _display_file(loc.strip())
        prefix = "async " if m.group("async") else ""
        out.append(f"    at {prefix}{fn or '<anonymous>'} ({shown})\n")
    return out


def _split_stack(name: str, message: str, stack: str) -> str:
    """The frames part of a V8 `stack` (whose head repeats name and message)."""
    head = f"{name}: {message}" if message else name
    if stack.startswith(head):
        return stack[len(head) :]
    if message and message in stack:
        return stack[stack.index(message) + len(message) :]
    if "\n    at " in stack:
        return stack[stack.index("\n    at ") :]
    return ""


def format_js_error(err: dict[str, Any], rewrite: Callable[[str], str] = lambda s: s) -> str:
    """`Uncaught <Name>: <message>` plus the user frames of a JS error described by the
    runtime (`{name, message, stack}`); `rewrite` maps bundle positions to source positions."""
    name = str(err.get("name") or "Error")
    message = str(err.get("message") or "")
    stack = str(err.get("stack") or "")
    head = f"{name}: {message}" if message else name
    frames = _frame_lines(rewrite(_split_stack(name, message, stack)))
    if not frames:
        return f"Uncaught {rewrite(head)}"
    return f"Uncaught {rewrite(head)}\n" + "".join(frames)


def http_action_error_body(message: str, rid: str | None = None) -> dict[str, Any]:
    """Convex's JSON body for an HTTP action that threw: `code` names the request and the
    error's first line, `trace` is the whole error text."""
    first = message.split("\n", 1)[0]
    return {"code": f"[Request ID: {rid or request_id()}] Server Error: {first}", "trace": message}


class SystemFailure(FunctionError):
    """The deployment, not the function, failed the call in a way worth retrying (a write
    conflict, overload). HTTP callers get `{code, message}` with status 503; the sync socket
    closes so the client reconnects and resends its mutation. User code cannot catch it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.detail = message


# Test-only syscalls with which Convex's clients' retry logic is exercised.
TEST_SYSCALL_FAILURES = {
    "throwOcc": (
        "OptimisticConcurrencyControlFailure",
        "Data read or written by this mutation changed while it was being run.",
    ),
    "throwOverloaded": ("Busy", "The deployment is currently overloaded: try again later."),
}
