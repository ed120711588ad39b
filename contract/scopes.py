"""Deploy-key scopes: Convex's `allowedActions` names and the data plane's action names.

The management API speaks Convex's names (`deployment:deploy`, `deployment:env:write`, ...);
the data plane checks short actions (`deploy`, `env`, `logs`). A key carries both, so either
side's check passes for exactly the scopes granted.
"""

from __future__ import annotations

from collections.abc import Iterable

from .keys import ALL_ACTIONS

DATAPLANE_ACTION = {
    "deployment:deploy": "deploy",
    "deployment:env:view": "env",
    "deployment:env:write": "env",
    "deployment:logs:view": "logs",
    "deployment:data:view": "data",
    "deployment:data:write": "data",
    "deployment:pause": "pause",
    "deployment:unpause": "pause",
}


def key_actions(allowed: Iterable[str]) -> frozenset[str]:
    """The actions to sign into a key granting `allowed` (Convex names)."""
    names = set(allowed)
    if ALL_ACTIONS in names:
        return frozenset({ALL_ACTIONS})
    return frozenset(names | {DATAPLANE_ACTION[n] for n in names if n in DATAPLANE_ACTION})
