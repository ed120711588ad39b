"""Which component instance's http.js serves a request, when components mount HTTP routes.

`app.use(c, {httpPrefix: "/c/"})` mounts the instance's own http.js routes under `/c/`
(the parent's `httpMounts`); an app may also put its own routes under an `httpPrefix`. The
table (component path -> its routes, mounts and, for the app, prefix) is built at push; this
walks it from the app down as Convex does: an exact route of the current http.js wins, else
the longest prefix among its prefix routes and its mounts (a mount strips its prefix and the
walk continues in the child), else the current http.js answers (its 404) if it has one.
"""

from __future__ import annotations

from typing import Any


def _methods(method: str) -> tuple[str, ...]:
    method = method.upper()
    return ("HEAD", "GET") if method == "HEAD" else (method,)


def _exact(routes: list[list[str]], path: str, method: str) -> bool:
    wanted = _methods(method)
    return any(p == path and m in wanted for p, m in routes if not p.endswith("*"))


def _prefix_suffix(routes: list[list[str]], path: str, method: str) -> str | None:
    """What is left of `path` after its longest matching prefix route, or None."""
    wanted = _methods(method)
    best: str | None = None
    for p, m in routes:
        if p.endswith("*") and m in wanted and path.startswith(p[:-1]):
            rest = path[len(p) - 1 :]
            if best is None or len(rest) < len(best):
                best = rest
    return best


def route(table: dict[str, Any], path: str, method: str) -> tuple[str, str] | None:
    """(component path, path its router sees) for a request path, or None: no route."""
    instance, routed = "", path or "/"
    while True:
        entry = table.get(instance) or {}
        routes = [list(r) for r in entry.get("routes") or []]
        mounts: dict[str, str] = entry.get("mounts") or {}
        has_http = bool(entry.get("hasHttp"))
        prefix = entry.get("prefix") if not instance else None
        own: str | None = routed
        if prefix:
            own = "/" + routed[len(prefix) :] if routed.startswith(prefix) else None
        if own is not None and has_http and _exact(routes, own, method):
            return instance, own
        best: tuple[str, str | None] | None = None  # (suffix, child or None for own http.js)
        if own is not None and has_http:
            suffix = _prefix_suffix(routes, own, method)
            if suffix is not None:
                best = (suffix, None)
        for mount, child in mounts.items():
            if routed.startswith(mount):
                suffix = routed[len(mount) :]
                if best is None or len(suffix) <= len(best[0]):
                    best = (suffix, child)
        if best is None:
            return (instance, own) if own is not None and has_http else None
        if best[1] is None:
            assert own is not None
            return instance, own
        instance = f"{instance}/{best[1]}" if instance else best[1]
        routed = "/" + best[0]
