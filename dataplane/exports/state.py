"""Export and import jobs as documents of system tables, so progress is reactive.

The CLI and the dashboard subscribe to `_system/cli/exports:getLatest` and
`_system/cli/queryImport`; those read these tables inside the query's transaction, so every
state change pushed here reaches them as a normal query update.
"""

from __future__ import annotations

from typing import Any

from ..ids import decode_id
from ..transactions import Database, Transaction
from ..values import UNDEFINED

EXPORTS_TABLE = "_exports"
IMPORTS_TABLE = "_snapshot_imports"
ACTIVE_EXPORT_STATES = ("requested", "in_progress")


class ExportInProgress(Exception):
    """Only one export may be requested or running at a time (Convex's rule)."""


def latest_export(txn: Transaction) -> dict[str, Any] | None:
    """The most recently requested export, whatever its state."""
    for doc in txn.index_scan(EXPORTS_TABLE, "by_creation_time", [], "desc"):
        return doc
    return None


def exports_newest_first(txn: Transaction) -> list[dict[str, Any]]:
    return list(txn.index_scan(EXPORTS_TABLE, "by_creation_time", [], "desc"))


def request_export(db: Database, include_storage: bool, *, running: bool) -> str:
    """Record a requested export; ExportInProgress if one is live (`running` = its job is)."""
    db.ensure_table(EXPORTS_TABLE)

    def mutate(txn: Transaction) -> str:
        latest = latest_export(txn)
        if latest is not None and latest["state"] in ACTIVE_EXPORT_STATES:
            if running:
                raise ExportInProgress("An export is already requested or in progress")
            txn.patch(
                latest["_id"],
                {"state": "failed", "error_message": "Interrupted by a server restart"},
            )
        return txn.insert(
            EXPORTS_TABLE,
            {
                "state": "requested",
                "format": {"format": "zip", "include_storage": include_storage},
                "requested_ts": db.latest_ts(),
            },
        )

    export_id, _ = db.run_mutation(mutate)
    return export_id


def patch_doc(db: Database, doc_id: str, fields: dict[str, Any]) -> None:
    """Shallow-merge fields into a job document (None values remove the field)."""
    clean = {k: (UNDEFINED if v is None else v) for k, v in fields.items()}
    db.run_mutation(lambda txn: txn.patch(doc_id, clean))


def get_doc(db: Database, doc_id: str) -> dict[str, Any] | None:
    return db.begin().get(doc_id)


def create_import(db: Database, fields: dict[str, Any]) -> str:
    db.ensure_table(IMPORTS_TABLE)
    doc = {"state": {"state": "uploaded"}, **fields}
    import_id, _ = db.run_mutation(lambda txn: txn.insert(IMPORTS_TABLE, doc))
    return import_id


def get_import(txn: Transaction, import_id: Any) -> dict[str, Any] | None:
    """The import document if `import_id` names one (None for ids of other tables)."""
    if not isinstance(import_id, str) or decode_id(import_id) is None:
        return None
    if txn.normalize_id(IMPORTS_TABLE, import_id) is None:
        return None
    return txn.get(import_id)


def list_imports(txn: Transaction, limit: int = 50) -> list[dict[str, Any]]:
    """The most recent imports, newest first."""
    scan = txn.index_scan(IMPORTS_TABLE, "by_creation_time", [], "desc")
    return [doc for _, doc in zip(range(limit), scan, strict=False)]
