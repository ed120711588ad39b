"""FileService over a real database and both blob stores: `_storage` documents and bytes."""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from dataplane.app import DeploymentApp
from dataplane.config import DeploymentConfig
from dataplane.files import (
    STORAGE_TABLE,
    BlobNotFound,
    FileService,
    FileStorageError,
    UploadTokenError,
    parse_digest_header,
    parse_sha256_option,
    sign_upload_token,
    verify_upload_token,
)
from dataplane.transactions import Database


def _token(url: str) -> str:
    return parse_qs(urlparse(url).query)["token"][0]


def test_upload_creates_storage_document(files: FileService, db: Database) -> None:
    url = files.generate_upload_url()
    assert url.startswith("http://dep.test/api/storage/upload?token=")
    data = b"hello, storage" * 1000
    sid = files.accept_upload(_token(url), [data[:5000], data[5000:]], "text/plain")
    doc = db.begin().get(sid)
    assert doc is not None
    assert db.begin().table_for_id(sid) == STORAGE_TABLE
    assert doc["sha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert doc["size"] == float(len(data)) and isinstance(doc["size"], float)
    assert doc["contentType"] == "text/plain"
    assert set(doc) == {"_id", "_creationTime", "sha256", "size", "contentType"}
    assert files.read_all(sid) == (data, "text/plain")


def test_get_url_and_metadata_record_reads(files: FileService, db: Database) -> None:
    sid = files.store([b"abc"], None)
    txn = db.begin()
    assert files.get_url(txn, sid) == f"http://dep.test/api/storage/{sid}"
    meta = files.get_metadata(txn, sid)
    assert meta == {
        "storageId": sid,
        "sha256": hashlib.sha256(b"abc").hexdigest(),
        "size": 3.0,
        "contentType": None,
    }
    assert "contentType" not in (db.begin().get(sid) or {})
    # The read set covers the document, so deleting it invalidates a subscribed query.
    deleter = db.begin()
    files.delete(deleter, sid)
    db.commit(deleter)
    assert txn.read_set.overlaps(db.commits_since(txn.snapshot_ts)[-1])
    later = db.begin()
    assert files.get_url(later, sid) is None
    assert files.get_metadata(later, sid) is None


def test_delete_removes_blob_only_after_commit(files: FileService, db: Database) -> None:
    sid = files.store([b"doomed"], "application/x-test")
    txn = db.begin()
    files.delete(txn, sid)
    files.flush()
    assert b"".join(files.read(sid)) == b"doomed"  # not committed yet
    db.commit(txn)
    files.flush()
    with pytest.raises(BlobNotFound):
        files.read(sid)
    assert files.stat(sid) is None
    assert files.read_all(sid) is None
    with pytest.raises(FileStorageError, match="not found"):
        files.delete(db.begin(), sid)


def test_digest_mismatch_rejects_and_stores_nothing(files: FileService, db: Database) -> None:
    before = db.begin().count(STORAGE_TABLE)
    wrong = hashlib.sha256(b"something else").digest()
    with pytest.raises(FileStorageError, match="digest mismatch"):
        files.store([b"payload"], "text/plain", wrong)
    assert db.begin().count(STORAGE_TABLE) == before
    right = hashlib.sha256(b"payload").digest()
    sid = files.store([b"payload"], "text/plain", right)
    assert files.read_all(sid) == (b"payload", "text/plain")


def test_invalid_storage_ids(files: FileService, db: Database) -> None:
    txn = db.begin()
    other = txn.insert("messages", {"body": "hi"})
    db.commit(txn)
    txn = db.begin()
    with pytest.raises(FileStorageError, match=r"`storageId`.*Invalid storage ID: "):
        files.get_url(txn, "not-an-id")
    with pytest.raises(FileStorageError, match="not a valid storage ID"):
        files.get_url(txn, 42)
    with pytest.raises(FileStorageError, match="table 'messages', not _storage"):
        files.get_metadata(txn, other)
    with pytest.raises(FileStorageError, match="not _storage"):
        files.delete(txn, other)


def test_upload_tokens_are_signed_scoped_and_expiring() -> None:
    token = sign_upload_token("secret-a", "dep-a")
    verify_upload_token("secret-a", "dep-a", token)
    with pytest.raises(UploadTokenError, match="signature"):
        verify_upload_token("secret-b", "dep-a", token)
    forged = sign_upload_token("secret-a", "dep-b")
    with pytest.raises(UploadTokenError, match="different deployment"):
        verify_upload_token("secret-a", "dep-a", forged)
    payload, mac = token.split(".")
    with pytest.raises(UploadTokenError, match="signature"):
        verify_upload_token("secret-a", "dep-a", payload[:-2] + "AA." + mac)
    old = sign_upload_token("secret-a", "dep-a", ttl=60, now=time.time() - 120)
    with pytest.raises(UploadTokenError, match="expired"):
        verify_upload_token("secret-a", "dep-a", old)
    for bad in (None, "", "garbage", "a.b.c"):
        with pytest.raises(UploadTokenError):
            verify_upload_token("secret-a", "dep-a", bad)
    with pytest.raises(UploadTokenError, match="instance secret"):
        sign_upload_token("", "dep-a")


def test_upload_with_foreign_token_is_refused(files: FileService, db: Database) -> None:
    foreign = sign_upload_token("s3cret", "dep-b")
    with pytest.raises(UploadTokenError):
        files.accept_upload(foreign, [b"x"], None)
    assert db.begin().count(STORAGE_TABLE) == 0


def test_digest_and_sha256_option_parsing() -> None:
    digest = hashlib.sha256(b"x").digest()
    assert parse_digest_header(None) is None
    assert parse_digest_header(f"sha-256={base64.b64encode(digest).decode()}") == digest
    with pytest.raises(FileStorageError, match="only sha-256"):
        parse_digest_header("md5=abc")
    with pytest.raises(FileStorageError, match="32 bytes"):
        parse_digest_header("sha-256=YWJj")
    assert parse_sha256_option(digest.hex()) == digest
    assert parse_sha256_option(base64.b64encode(digest).decode()) == digest
    with pytest.raises(FileStorageError, match="Invalid sha256"):
        parse_sha256_option("zz")


def test_file_services_keep_tenants_apart(tmp_path: Path) -> None:
    deps = [
        DeploymentApp(
            DeploymentConfig(
                name=f"tenant-{i}",
                data_dir=tmp_path / f"t{i}",
                database_url=f"sqlite:///{tmp_path / f't{i}.sqlite3'}",
                instance_secret=f"secret-{i}",
                public_url=f"http://t{i}.test",
            )
        )
        for i in range(2)
    ]
    try:
        a, b = deps[0].files, deps[1].files
        assert a is not b and a.blobs is not b.blobs
        sid = a.accept_upload(_token(a.generate_upload_url()), [b"private"], "text/plain")
        with pytest.raises(UploadTokenError):
            b.accept_upload(_token(a.generate_upload_url()), [b"x"], None)
        # Both deployments number `_storage` alike, so the id is well-formed for b too;
        # b still has no such file, and b's blob store is a different directory.
        assert b.db.begin().normalize_id(STORAGE_TABLE, sid) == sid
        assert b.stat(sid) is None
        assert b.read_all(sid) is None
        assert a.read_all(sid) == (b"private", "text/plain")
        assert not any((tmp_path / "t1" / "files").rglob(sid))
    finally:
        for d in deps:
            d.close()
