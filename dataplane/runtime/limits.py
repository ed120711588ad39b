"""Per-call resource limits for user code, defaulting to Convex's documented limits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuntimeLimits:
    """Time is user-code time (syscalls excluded); heap is per isolate. Operators override
    them through STRATA_DP_QUERY_SECONDS etc. (read by dataplane/config.py)."""

    query_seconds: float = 1.0
    mutation_seconds: float = 1.0
    action_seconds: float = 600.0
    heap_bytes: int = 64 << 20
    load_seconds: float = 10.0
    max_args_bytes: int = 16 << 20
    max_result_bytes: int = 16 << 20
    pool_size: int = 4
    max_nested_depth: int = 8
    fetch_allow_private: bool = False  # loopback/private targets for fetch(): explicit opt-in
    node_binary: str = "node"  # runs "use node" actions
    node_heap_mb: int = 512  # Convex gives Node actions 512 MB
