"""Fixtures: real blob stores (a temp directory and moto's S3 server over HTTP), databases."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from dataplane.files import BlobStore, FileService, LocalBlobStore, S3BlobStore
from dataplane.transactions import Database, open_database

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server in a thread on a free port, spoken to over real HTTP."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_client(s3_endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )


@pytest.fixture
def s3_store(s3_client: Any) -> S3BlobStore:
    bucket = f"strata-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=bucket)
    return S3BlobStore(bucket, s3_client, prefix="deployments/test")


@pytest.fixture(params=["local", "s3"])
def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    store: S3BlobStore = request.getfixturevalue("s3_store")
    return store


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ]
)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh database on each backend: a SQLite file, real Postgres and MySQL databases."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    else:
        url = request.getfixturevalue(f"{request.param}_url")
    database = open_database(url)
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def files(db: Database, blob_store: BlobStore) -> Iterator[FileService]:
    service = FileService(
        db, blob_store, secret="s3cret", public_url="http://dep.test", deployment="dep-a"
    )
    try:
        yield service
    finally:
        service.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(params=["local", "s3"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A real data-plane process (daphne) on a free port, blobs in a directory or in S3."""
    port = _free_port()
    info = {
        "url": f"http://127.0.0.1:{port}",
        "secret": uuid.uuid4().hex,
        "name": "files-e2e",
    }
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dataplane.settings",
        "STRATA_DP_NAME": info["name"],
        "STRATA_DP_DATA_DIR": str(tmp_path / "dp"),
        "STRATA_DP_INSTANCE_SECRET": info["secret"],
        "STRATA_DP_BLOB_STORE": "local",
    }
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        bucket = f"strata-e2e-{uuid.uuid4().hex[:10]}"
        request.getfixturevalue("s3_client").create_bucket(Bucket=bucket)
        env.update(
            STRATA_DP_BLOB_STORE=f"s3://{bucket}/files-e2e",
            STRATA_DP_S3_ENDPOINT_URL=endpoint,
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",
            AWS_DEFAULT_REGION="us-east-1",
        )
        info["bucket"] = bucket
    env.pop("STRATA_DP_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dataplane", "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "server.log", "wb"),  # noqa: SIM115 - lives as long as proc
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{info['url']}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp_path / "server.log").read_text())
            time.sleep(0.1)
        yield info
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
