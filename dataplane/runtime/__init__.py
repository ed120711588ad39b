"""The V8 function runtime: bundles pushed modules, runs Convex functions in mini-racer isolates.

Deploy flow: `build_bundle(modules)` -> `analyze_bundle(bundle, env)` ->
`deployment.runner.activate(bundle, analysis, env)`. Calls: `deployment.runner.run_query(...)`
and friends, which raise `FunctionError` when user code fails. Actions in "use node" modules
run in a per-deployment Node.js worker (node_worker.py, node/host.mjs) instead of V8.
"""

from .analysis import (
    AnalyzeError,
    AppAnalysis,
    FunctionInfo,
    HttpRoute,
    analyze_bundle,
    canonical_path,
    split_path,
)
from .limits import RuntimeLimits
from .modules import Bundle, BundleError, ModuleSource, build_bundle
from .outcomes import (
    ActionOutcome,
    FunctionError,
    FunctionLog,
    HttpActionResponse,
    LogLine,
    MutationOutcome,
    QueryOutcome,
)
from .runner import FunctionRunner

__all__ = [
    "ActionOutcome",
    "AnalyzeError",
    "AppAnalysis",
    "Bundle",
    "BundleError",
    "FunctionError",
    "FunctionInfo",
    "FunctionLog",
    "FunctionRunner",
    "HttpActionResponse",
    "HttpRoute",
    "LogLine",
    "ModuleSource",
    "MutationOutcome",
    "QueryOutcome",
    "RuntimeLimits",
    "analyze_bundle",
    "build_bundle",
    "canonical_path",
    "split_path",
]
