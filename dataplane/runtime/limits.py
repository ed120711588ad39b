"""Per-call resource limits for user code, defaulting to Convex's documented limits."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


@dataclass(frozen=True)
class RuntimeLimits:
    """Time is user-code time (syscalls excluded); heap is per isolate."""

    query_seconds: float = 1.0
    mutation_seconds: float = 1.0
    action_seconds: float = 600.0
    heap_bytes: int = 64 << 20
    load_seconds: float = 10.0
    max_args_bytes: int = 16 << 20
    max_result_bytes: int = 16 << 20
    pool_size: int = 4
    max_nested_depth: int = 8
    fetch_allow_private: bool = True  # loopback/private targets for fetch(); cloud: set False

    @classmethod
    def from_env(cls) -> RuntimeLimits:
        """Defaults, overridable with STRATA_DP_QUERY_SECONDS etc. (operators, slow machines)."""
        base = cls()
        return cls(
            query_seconds=_env_float("STRATA_DP_QUERY_SECONDS", base.query_seconds),
            mutation_seconds=_env_float("STRATA_DP_MUTATION_SECONDS", base.mutation_seconds),
            action_seconds=_env_float("STRATA_DP_ACTION_SECONDS", base.action_seconds),
            heap_bytes=int(_env_float("STRATA_DP_HEAP_BYTES", base.heap_bytes)),
            pool_size=int(_env_float("STRATA_DP_ISOLATE_POOL", base.pool_size)),
            fetch_allow_private=os.environ.get("STRATA_DP_FETCH_ALLOW_PRIVATE", "1") != "0",
        )
