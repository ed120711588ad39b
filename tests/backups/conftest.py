"""Backup fixtures: the control-plane fixtures, a backup store under tmp_path, data-plane calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from contract.keys import mint_key
from controlplane.deployments.models import Deployment
from tests.controlplane.conftest import (  # noqa: F401 - fixtures
    _fresh_cache,
    create_project,
    local_driver,
    make_user,
    team_owner,
)


@pytest.fixture(autouse=True)
def _backup_dir(settings: Any, tmp_path: Path) -> Path:
    settings.STRATA_BACKUP_STORE = "local"
    settings.STRATA_BACKUP_DIR = str(tmp_path / "backups")
    settings.STRATA_BACKUP_TIMEOUT_SECONDS = 120
    return tmp_path / "backups"


class DataPlane:
    """Admin calls to one running deployment, as the dashboard makes them."""

    def __init__(self, name: str) -> None:
        deployment = Deployment.objects.get(name=name)
        self.name = name
        self.url = f"http://127.0.0.1:{deployment.port}"
        self.secret = deployment.instance_secret
        self.headers = {"Authorization": f"Convex {mint_key(name, self.secret)}"}

    def call(self, kind: str, path: str, args: dict[str, Any]) -> Any:
        r = httpx.post(
            f"{self.url}/api/{kind}",
            json={"path": path, "args": args, "format": "json"},
            headers=self.headers,
            timeout=60,
        )
        body = r.json()
        assert r.status_code == 200 and body["status"] == "success", body
        return body["value"]

    def add(self, table: str, *docs: dict[str, Any]) -> list[str]:
        ids: list[str] = self.call(
            "function", "_system/frontend/addDocument", {"table": table, "documents": list(docs)}
        )
        return ids

    def delete(self, table: str, ids: list[str]) -> None:
        items = [{"id": i, "tableName": table} for i in ids]
        self.call("function", "_system/frontend/deleteDocuments", {"toDelete": items})

    def documents(self, table: str) -> list[dict[str, Any]]:
        page = self.call(
            "query",
            "_system/frontend/paginatedTableDocuments",
            {"table": table, "filters": None, "paginationOpts": {"numItems": 1000, "cursor": None}},
        )
        assert page["isDone"]
        return sorted(page["page"], key=lambda d: d["_id"])

    def upload(self, content: bytes) -> str:
        from dataplane.files import sign_upload_token

        token = sign_upload_token(self.secret, self.name)
        r = httpx.post(
            f"{self.url}/api/storage/upload?token={token}",
            content=content,
            headers={"Content-Type": "text/plain"},
            timeout=30,
        )
        r.raise_for_status()
        storage_id: str = r.json()["storageId"]
        return storage_id

    def file(self, storage_id: str) -> httpx.Response:
        return httpx.get(f"{self.url}/api/storage/{storage_id}", timeout=30)
