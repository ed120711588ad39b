"""Backups kept in an S3 bucket (moto's server over real HTTP): take, download, restore, delete."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.controlplane.conftest import Caller
from tests.files.conftest import s3_endpoint  # noqa: F401 - fixture

from .conftest import DataPlane
from .test_backups import backup_now, restore

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def s3_bucket(s3_endpoint: str, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:  # noqa: F811
    """A fresh bucket the control plane's backup store is pointed at; its client."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    bucket = f"backups-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    settings.STRATA_BACKUP_STORE = f"s3://{bucket}/strata"
    settings.STRATA_BACKUP_S3_ENDPOINT_URL = s3_endpoint
    return client, bucket


def test_backup_to_s3_and_restore_from_it(
    s3_bucket: Any,
    team_owner: tuple[Caller, int],
    create_project: Callable[[str, str], tuple[str, str]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    client, bucket = s3_bucket
    caller, _ = team_owner
    capture = django_capture_on_commit_callbacks
    name, _url = create_project("cloudy", "dev")
    data = DataPlane(name)
    data.add("notes", {"text": "kept in S3"}, {"text": "and restored"})
    before = data.documents("notes")

    backup = backup_now(caller, name, capture)
    key = f"strata/{name}/{backup['id']}.zip"
    stored = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == backup["sha256"]
    assert len(stored) == backup["sizeBytes"]
    download = caller.client.get(
        f"/v1/backups/{backup['id']}/download", HTTP_AUTHORIZATION=f"Bearer {caller.token}"
    )
    assert b"".join(download.streaming_content) == stored

    data.delete("notes", [before[0]["_id"]])
    assert len(data.documents("notes")) == 1
    restore(caller, name, backup["id"], capture)
    assert data.documents("notes") == before

    with capture(execute=True):
        assert caller.post(f"backups/{backup['id']}/delete").status_code == 200
    assert client.list_objects_v2(Bucket=bucket, Prefix="strata/").get("KeyCount") == 0
