"""The `ctx.storage` syscalls of convex/server, answered from a FileService.

The runtime forwards the op name and its JSON args; `txn` is the function's transaction in
queries and mutations and None in actions (which then read and write in their own
transactions, as Convex actions do). Which ops a function kind may call is the runtime's
business: queries only read (getUrl, getMetadata).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ..transactions import Transaction
from .service import STORAGE_TABLE, FileService, FileStorageError, parse_sha256_option

STORAGE_OPS = frozenset(
    {
        "1.0/storageGenerateUploadUrl",
        "1.0/storageGetUrl",
        "1.0/storageGetMetadata",
        "1.0/storageDelete",
        "1.0/storageStore",
        "1.0/storageGet",
    }
)


def storage_syscall(
    files: FileService,
    op: str,
    args: dict[str, Any],
    txn: Transaction | None,
    table: str = STORAGE_TABLE,
) -> Any:
    """Run one storage syscall on `table` (a component's own storage table, or the app's);
    returns its JSON result."""
    if op == "1.0/storageGenerateUploadUrl":
        return files.generate_upload_url(table)
    if op == "1.0/storageGetUrl":
        return files.get_url(txn or files.db.begin(), args.get("storageId"), table)
    if op == "1.0/storageGetMetadata":
        return files.get_metadata(txn or files.db.begin(), args.get("storageId"), table)
    if op == "1.0/storageDelete":
        storage_id = args.get("storageId")
        if txn is not None:
            files.delete(txn, storage_id, table)
        else:
            files.db.run_mutation(lambda t: files.delete(t, storage_id, table))
        return None
    if op == "1.0/storageStore":
        blob = args.get("blob")
        if not isinstance(blob, str):
            raise FileStorageError("storage.store() expects a Blob")
        try:
            data = base64.b64decode(blob, validate=True)
        except binascii.Error:
            raise FileStorageError("storage.store(): blob is not valid base64") from None
        content_type = args.get("contentType") or None
        return files.store([data], content_type, parse_sha256_option(args.get("sha256")), table)
    if op == "1.0/storageGet":
        found = files.read_all(args.get("storageId"), table)
        if found is None:
            return None
        data, content_type = found
        return {"blob": base64.b64encode(data).decode(), "contentType": content_type}
    raise FileStorageError(f"Unknown storage syscall {op}")
