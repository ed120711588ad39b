"""Where backup ZIPs live: a directory under the platform's data dir, or an S3 bucket.

The control plane does not share the data plane's blob store (the planes only meet over HTTP),
so this is its own small write-once store keyed by `<deployment>/<backup id>.zip`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings

CHUNK = 1 << 20
_KEY = re.compile(r"[a-z0-9-]{1,64}/[0-9]{1,20}\.zip\Z")


class BackupMissing(LookupError):
    """The store has nothing under this key."""


def check_key(key: str) -> str:
    """Keys are made by us (`<deployment>/<id>.zip`); refuse anything else."""
    if not _KEY.match(key):
        raise ValueError(f"Invalid backup key {key!r}")
    return key


class BackupStore(Protocol):
    def put_file(self, key: str, path: Path) -> None:
        """Store the file at `path` under `key`."""
        ...

    def open(self, key: str) -> Iterator[bytes]:
        """The stored bytes, in chunks; BackupMissing if absent."""
        ...

    def delete(self, key: str) -> None:
        """Remove `key` (absent is fine)."""
        ...


class LocalBackupStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_file(self, key: str, path: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.replace(path, target)
        target.chmod(0o600)

    def open(self, key: str) -> Iterator[bytes]:
        try:
            f = self._path(key).open("rb")
        except FileNotFoundError:
            raise BackupMissing(key) from None
        return _chunks(f)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def _chunks(f: Any) -> Iterator[bytes]:
    try:
        while chunk := f.read(CHUNK):
            yield chunk
    finally:
        f.close()


class S3BackupStore:
    def __init__(self, bucket: str, client: Any, prefix: str = "") -> None:
        self.bucket = bucket
        self.client = client
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put_file(self, key: str, path: Path) -> None:
        self.client.upload_file(str(path), self.bucket, self._key(key))
        path.unlink(missing_ok=True)

    def open(self, key: str) -> Iterator[bytes]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except self.client.exceptions.ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("NoSuchKey", "404", "NotFound"):
                raise BackupMissing(key) from None
            raise
        return _body_chunks(body)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))


def _body_chunks(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()


def store_for(url: str, directory: str, endpoint_url: str = "") -> BackupStore:
    """The store a STRATA_BACKUP_STORE value names."""
    if url == "local":
        return LocalBackupStore(Path(directory))
    import boto3

    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    client = boto3.client("s3", endpoint_url=endpoint_url or None)
    return S3BackupStore(bucket, client, prefix)


@cache
def _configured(url: str, directory: str, endpoint_url: str) -> BackupStore:
    return store_for(url, directory, endpoint_url)


def get_store() -> BackupStore:
    """The store the settings name (one per distinct setting, so tests may switch it)."""
    return _configured(
        settings.STRATA_BACKUP_STORE,
        settings.STRATA_BACKUP_DIR,
        settings.STRATA_BACKUP_S3_ENDPOINT_URL,
    )
