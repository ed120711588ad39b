"""The ctx.storage syscall adapter over a real FileService (local and S3 blob stores)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from dataplane.files import FileService, FileStorageError
from dataplane.files.syscalls import storage_syscall
from dataplane.transactions import Database


def test_action_store_get_metadata_delete(files: FileService, db: Database) -> None:
    data = b"\x00\x01binary\xff"
    sid = storage_syscall(
        files,
        "1.0/storageStore",
        {"blob": base64.b64encode(data).decode(), "contentType": "application/x-bin"},
        None,
    )
    assert storage_syscall(files, "1.0/storageGet", {"storageId": sid}, None) == {
        "blob": base64.b64encode(data).decode(),
        "contentType": "application/x-bin",
    }
    meta = storage_syscall(files, "1.0/storageGetMetadata", {"storageId": sid}, None)
    assert meta["sha256"] == hashlib.sha256(data).hexdigest() and meta["size"] == len(data)
    url = storage_syscall(files, "1.0/storageGetUrl", {"storageId": sid}, None)
    assert url == f"http://dep.test/api/storage/{sid}"
    assert storage_syscall(files, "1.0/storageDelete", {"storageId": sid}, None) is None
    files.flush()
    assert storage_syscall(files, "1.0/storageGet", {"storageId": sid}, None) is None
    assert storage_syscall(files, "1.0/storageGetUrl", {"storageId": sid}, None) is None


def test_mutation_delete_uses_the_callers_transaction(files: FileService, db: Database) -> None:
    sid = files.store([b"x"], None)
    txn = db.begin()
    storage_syscall(files, "1.0/storageDelete", {"storageId": sid}, txn)
    assert files.stat(sid) is not None  # not committed yet
    db.commit(txn)
    assert files.stat(sid) is None


def test_store_checks_sha256_and_input(files: FileService) -> None:
    blob = base64.b64encode(b"abc").decode()
    good = hashlib.sha256(b"abc").hexdigest()
    sid = storage_syscall(files, "1.0/storageStore", {"blob": blob, "sha256": good}, None)
    assert files.read_all(sid) == (b"abc", None)
    with pytest.raises(FileStorageError, match="digest mismatch"):
        storage_syscall(
            files,
            "1.0/storageStore",
            {"blob": blob, "sha256": hashlib.sha256(b"x").hexdigest()},
            None,
        )
    with pytest.raises(FileStorageError, match="expects a Blob"):
        storage_syscall(files, "1.0/storageStore", {}, None)
    with pytest.raises(FileStorageError, match="not valid base64"):
        storage_syscall(files, "1.0/storageStore", {"blob": "!!!"}, None)
    with pytest.raises(FileStorageError, match="Unknown storage syscall"):
        storage_syscall(files, "1.0/storageNope", {}, None)
    assert storage_syscall(files, "1.0/storageGenerateUploadUrl", {}, None).startswith(
        "http://dep.test/api/storage/upload?token="
    )
