"""The built-in `_system/` functions the Convex CLI and the console call (env vars, API spec,
table sizes, data browser, export/import progress), served beside user code."""

from .functions import SYSTEM_MUTATIONS, SYSTEM_QUERIES, SystemFunctions
from .services import DashboardServices

__all__ = ["SYSTEM_MUTATIONS", "SYSTEM_QUERIES", "DashboardServices", "SystemFunctions"]
