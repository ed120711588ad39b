"""The backup operations are in the OpenAPI document, the download as a ZIP."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


def test_backup_operations_are_documented(client: Any) -> None:
    paths = client.get("/v1/openapi.json").json()["paths"]
    expected = {
        "/v1/deployments/{name}/create_backup": "post",
        "/v1/deployments/{name}/list_backups": "get",
        "/v1/deployments/{name}/restore_backup": "post",
        "/v1/backups/{backup_id}": "get",
        "/v1/backups/{backup_id}/delete": "post",
        "/v1/backups/{backup_id}/download": "get",
        "/v1/restores/{restore_id}": "get",
    }
    for path, method in expected.items():
        assert method in paths[path], path
    assert set(paths["/v1/deployments/{name}/backup_schedule"]) >= {"get", "put", "delete"}
    download = paths["/v1/backups/{backup_id}/download"]["get"]["responses"]
    assert list(download["200"]["content"]) == ["application/zip"]
    assert list(download["404"]["content"]) == ["application/json"]
    schedule = paths["/v1/deployments/{name}/backup_schedule"]["put"]
    body = schedule["requestBody"]["content"]["application/json"]["schema"]
    assert "$ref" in body  # BackupScheduleIn: intervalHours or cron, and retain
