"""The syscalls convex/server 1.48 makes, one handler per operation.

`DatabaseSyscalls` serves queries and mutations from their Transaction (database.py, with the
handler tables of documents.py, queries.py and nested.py); actions extend `CommonSyscalls`
(common.py) in ../actions.py. ctx.scheduler is served by ../scheduling.py, ctx.storage by
dataplane.files and `.withSearchIndex` queries by dataplane.search (see ../host_services.py).
"""

from .base import Raw, dumps
from .common import COMMON_OPS, CommonSyscalls
from .database import DATABASE_OPS, DatabaseSyscalls

__all__ = ["COMMON_OPS", "DATABASE_OPS", "CommonSyscalls", "DatabaseSyscalls", "Raw", "dumps"]
