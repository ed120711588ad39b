"""File storage of one deployment: `_storage` documents plus their bytes in a BlobStore.

Storage ids are `_storage` document ids and a blob's key is its document id. A new file is
streamed to a staging key, then moved to its final key *before* the document commits, so a
visible document always has its bytes. Deleting the document (in any mutation) queues the
blob's removal, which runs off the committer thread once the delete has committed.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import queue
import threading
import urllib.parse
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import structlog

from ..ids import decode_id
from ..transactions import CommitRecord, Database, Transaction
from .blobstore import BlobNotFound, BlobStore
from .tokens import UPLOAD_TOKEN_TTL, sign_upload_token, verify_upload_token

STORAGE_TABLE = "_storage"


def is_storage_table(table: str | None) -> bool:
    """The app's `_storage` or a component's own (`<component path>/_storage`)."""
    return table is not None and (table == STORAGE_TABLE or table.endswith("/" + STORAGE_TABLE))


log = structlog.get_logger(__name__)


class FileStorageError(ValueError):
    """A bad storage id or a failed integrity check, with a message for the developer."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    """What serving needs to know about a file before reading it."""

    storage_id: str
    size: int
    sha256: bytes
    content_type: str | None


def parse_digest_header(value: str | None) -> bytes | None:
    """The sha-256 from an HTTP `Digest: sha-256=<base64>` header (None if absent)."""
    if not value:
        return None
    for part in value.split(","):
        algo, _, digest = part.strip().partition("=")
        if algo.strip().lower() == "sha-256":
            try:
                raw = base64.b64decode(digest.strip(), validate=True)
            except ValueError:
                raise FileStorageError(f"Malformed Digest header: {value!r}") from None
            if len(raw) != 32:
                raise FileStorageError("Digest sha-256 must be 32 bytes of base64")
            return raw
    raise FileStorageError(f"Unsupported Digest header {value!r}: only sha-256 is accepted")


def parse_sha256_option(value: str | None) -> bytes | None:
    """`storage.store(blob, {sha256})` takes hex (or base64); normalise to 32 raw bytes."""
    if value is None:
        return None
    try:
        raw = bytes.fromhex(value) if len(value) == 64 else base64.b64decode(value, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise FileStorageError(f"Invalid sha256 {value!r}: expected 64 hex digits or base64")
    return raw


class FileService:
    """The operations behind ctx.storage and the upload/serve HTTP endpoints."""

    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        *,
        secret: str,
        public_url: str,
        deployment: str,
        upload_ttl: float = UPLOAD_TOKEN_TTL,
    ) -> None:
        self.db = db
        self.blobs = blobs
        self.secret = secret
        self.public_url = public_url.rstrip("/")
        self.deployment = deployment
        self.upload_ttl = upload_ttl
        self._doomed: queue.Queue[str | None] = queue.Queue()
        self._worker = threading.Thread(target=self._delete_blobs, daemon=True)
        self._worker.start()
        db.add_commit_listener(self._on_commit)

    def ensure_table(self) -> None:
        """Create `_storage` (so `db.system.query("_storage")` works before any upload)."""
        self.db.ensure_table(STORAGE_TABLE)

    # ----- ids ------------------------------------------------------------------------

    def _check_id(
        self, txn: Transaction, storage_id: Any, op: str, table: str = STORAGE_TABLE
    ) -> str:
        if not isinstance(storage_id, str) or decode_id(storage_id) is None:
            raise FileStorageError(
                f"Invalid argument `storageId` for `storage.{op}`: Invalid storage ID: "
                f"{storage_id!r} is not a valid storage ID"
            )
        if txn.normalize_id(table, storage_id) is None:
            raise FileStorageError(
                f"Invalid argument `storageId` for `storage.{op}`: {storage_id!r} is an ID of "
                f"table {txn.table_for_id(storage_id)!r}, not {table}"
            )
        return storage_id

    # ----- uploads ----------------------------------------------------------------------

    def generate_upload_url(self, table: str = STORAGE_TABLE) -> str:
        """A signed URL a client POSTs the file body to within `upload_ttl` seconds."""
        target = None if table == STORAGE_TABLE else table
        token = sign_upload_token(self.secret, self.deployment, self.upload_ttl, table=target)
        return f"{self.public_url}/api/storage/upload?token={token}"

    def accept_upload(
        self,
        token: str | None,
        chunks: Iterable[bytes],
        content_type: str | None,
        expected_sha256: bytes | None = None,
    ) -> str:
        """Check the token, then store the body; returns the new storage id."""
        table = verify_upload_token(self.secret, self.deployment, token) or STORAGE_TABLE
        if not is_storage_table(table):
            raise FileStorageError("Upload token names no storage table")
        return self.store(chunks, content_type, expected_sha256, table)

    def store(
        self,
        chunks: Iterable[bytes],
        content_type: str | None,
        expected_sha256: bytes | None = None,
        table: str = STORAGE_TABLE,
    ) -> str:
        """Stream bytes into the blob store and commit their `_storage` document."""
        staging = f"staging-{uuid.uuid4().hex}"
        info = self.blobs.put(staging, chunks)
        if expected_sha256 is not None and expected_sha256 != info.sha256:
            self.blobs.delete(staging)
            raise FileStorageError(
                "Upload digest mismatch: expected sha-256 "
                f"{base64.b64encode(expected_sha256).decode()}, got "
                f"{base64.b64encode(info.sha256).decode()}"
            )
        doc: dict[str, Any] = {
            "sha256": base64.b64encode(info.sha256).decode(),
            "size": float(info.size),
        }
        if content_type:
            doc["contentType"] = content_type
        txn = self.db.begin()
        storage_id = txn.insert(table, doc)
        try:
            self.blobs.rename(staging, storage_id)
            self.db.commit(txn)
        except BaseException:
            self.blobs.delete(staging)
            self.blobs.delete(storage_id)
            raise
        return storage_id

    # ----- reads inside a function's transaction ------------------------------------------

    def get_metadata_doc(
        self, txn: Transaction, storage_id: Any, table: str | None = STORAGE_TABLE
    ) -> dict[str, Any] | None:
        """The `_storage` document (None if deleted), recorded in the transaction's read set.
        `table` None accepts a file of any storage table (serving by URL)."""
        if table is None:
            found = txn.table_for_id(storage_id) if isinstance(storage_id, str) else None
            table = found if is_storage_table(found) and found is not None else STORAGE_TABLE
        return txn.get(self._check_id(txn, storage_id, "getMetadata", table))

    def get_url(self, txn: Transaction, storage_id: Any, table: str = STORAGE_TABLE) -> str | None:
        """The serving URL of a file, or None if it does not exist at the snapshot."""
        sid = self._check_id(txn, storage_id, "getUrl", table)
        if txn.get(sid) is None:
            return None
        if table != STORAGE_TABLE:  # a component's file: Convex's URLs name the component
            component = urllib.parse.quote(table.rpartition("/")[0], safe="")
            return f"{self.public_url}/api/storage/{sid}?component={component}"
        return f"{self.public_url}/api/storage/{sid}"

    def get_metadata(
        self, txn: Transaction, storage_id: Any, table: str = STORAGE_TABLE
    ) -> dict[str, Any] | None:
        """The deprecated `storage.getMetadata` shape: storageId, hex sha256, size, contentType."""
        doc = txn.get(self._check_id(txn, storage_id, "getMetadata", table))
        if doc is None:
            return None
        return {
            "storageId": doc["_id"],
            "sha256": base64.b64decode(doc["sha256"]).hex(),
            "size": doc["size"],
            "contentType": doc.get("contentType"),
        }

    def delete(self, txn: Transaction, storage_id: Any, table: str = STORAGE_TABLE) -> None:
        """Delete the file in this transaction; its bytes go once the transaction commits."""
        sid = self._check_id(txn, storage_id, "delete", table)
        if txn.get(sid) is None:
            raise FileStorageError(f"storage id {sid} not found")
        txn.delete(sid)

    # ----- reading bytes (serving, storage.get in actions) ----------------------------------

    def stat(self, storage_id: Any, table: str | None = None) -> StoredFile | None:
        """The latest metadata of a file (of `table`; None: any storage table, as serving by
        URL does), or None if it does not exist."""
        doc = self.get_metadata_doc(self.db.begin(), storage_id, table)
        if doc is None:
            return None
        return StoredFile(
            doc["_id"], int(doc["size"]), base64.b64decode(doc["sha256"]), doc.get("contentType")
        )

    def read(self, storage_id: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes [start, end) of a file found by `stat`; BlobNotFound if it was deleted since."""
        return self.blobs.get(storage_id, start, end)

    def read_all(
        self, storage_id: Any, table: str = STORAGE_TABLE
    ) -> tuple[bytes, str | None] | None:
        """Whole file and content type (storage.get in actions builds a Blob from these)."""
        f = self.stat(storage_id, table)
        if f is None:
            return None
        try:
            data = b"".join(self.read(f.storage_id))
        except BlobNotFound:
            return None
        if hashlib.sha256(data).digest() != f.sha256:
            raise FileStorageError(f"Stored file {f.storage_id} is corrupt: sha-256 mismatch")
        return data, f.content_type

    # ----- blob garbage collection --------------------------------------------------------

    def _on_commit(self, record: CommitRecord) -> None:
        if not any(is_storage_table(t) for t in record.tables):
            return
        for write in record.writes:
            if is_storage_table(write.table) and write.value is None:
                self._doomed.put(write.doc_id)

    def _delete_blobs(self) -> None:
        while True:
            key = self._doomed.get()
            try:
                if key is None:
                    return
                self.blobs.delete(key)
            except Exception:
                log.exception("deleting blob failed", key=key)
            finally:
                self._doomed.task_done()

    def flush(self) -> None:
        """Wait until every blob of a committed delete is gone (tests, shutdown)."""
        self._doomed.join()

    def close(self) -> None:
        with contextlib.suppress(ValueError):
            self.db.remove_commit_listener(self._on_commit)
        self._doomed.put(None)
        self._worker.join(timeout=10)
