"""Blob stores: the same behaviour from a local directory and from S3 (moto over HTTP)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dataplane.app import blob_store
from dataplane.config import ConfigError, DeploymentConfig
from dataplane.files import (
    BlobNotFound,
    BlobStore,
    LocalBlobStore,
    S3BlobStore,
)


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_put_streams_and_reports_size_and_sha256(blob_store: BlobStore) -> None:
    data = os.urandom(700_001)
    info = blob_store.put("blob-a", iter(_chunks(data, 65_537)))
    assert info.size == len(data)
    assert info.sha256 == hashlib.sha256(data).digest()
    assert blob_store.size("blob-a") == len(data)
    assert b"".join(blob_store.get("blob-a")) == data


def test_byte_ranges(blob_store: BlobStore) -> None:
    data = bytes(range(256)) * 3
    blob_store.put("ranged", [data])
    assert b"".join(blob_store.get("ranged", 10, 20)) == data[10:20]
    assert b"".join(blob_store.get("ranged", 700)) == data[700:]
    assert b"".join(blob_store.get("ranged", 5, 5)) == b""


def test_rename_and_delete(blob_store: BlobStore) -> None:
    blob_store.put("staging-1", [b"hello"])
    blob_store.rename("staging-1", "final-1")
    assert b"".join(blob_store.get("final-1")) == b"hello"
    with pytest.raises(BlobNotFound):
        blob_store.get("staging-1")
    blob_store.delete("final-1")
    blob_store.delete("final-1")  # idempotent
    with pytest.raises(BlobNotFound):
        blob_store.size("final-1")
    with pytest.raises(BlobNotFound):
        blob_store.rename("nope", "other")


def test_empty_blob(blob_store: BlobStore) -> None:
    info = blob_store.put("empty", [])
    assert info.size == 0
    assert info.sha256 == hashlib.sha256(b"").digest()
    assert b"".join(blob_store.get("empty")) == b""


@pytest.mark.parametrize("key", ["../etc/passwd", "a/b", "", ".hidden", "x..y"])
def test_keys_cannot_escape(blob_store: BlobStore, key: str) -> None:
    with pytest.raises(ValueError, match="Invalid blob key"):
        blob_store.put(key, [b"x"])


def test_local_store_leaves_no_temp_files_on_failure(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)

    def chunks() -> Iterator[bytes]:
        yield b"partial"
        raise OSError("client went away")

    with pytest.raises(OSError, match="client went away"):
        store.put("failing", chunks())
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


def test_blob_store_from_config(
    tmp_path: Path, s3_endpoint: str, s3_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def from_env(env: dict[str, str]) -> Any:
        return blob_store(DeploymentConfig.from_env({"STRATA_DP_DATA_DIR": str(tmp_path), **env}))

    assert isinstance(from_env({}), LocalBlobStore)
    s3_client.create_bucket(Bucket="strata-env-test")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    env = {
        "STRATA_DP_BLOB_STORE": "s3://strata-env-test/dep1",
        "STRATA_DP_S3_ENDPOINT_URL": s3_endpoint,
    }
    store = from_env(env)
    assert isinstance(store, S3BlobStore)
    store.put("k1", [b"via env"])
    assert (
        s3_client.get_object(Bucket="strata-env-test", Key="dep1/k1")["Body"].read() == b"via env"
    )
    with pytest.raises(ConfigError, match="Unknown STRATA_DP_BLOB_STORE"):
        from_env({"STRATA_DP_BLOB_STORE": "ftp://x"})
