"""The system functions the console added (`cancelJob`, `fileStorageV2:generateUploadUrl`
and `deleteFiles`, `patchDocumentsFields` with `removeFields`) over HTTP against a real
deployment process, including the errors bad input gets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.compat.conftest import ConvexCli, Server, start_server

from .test_console_tabs import app_copy

pytestmark = pytest.mark.slow


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[Server]:
    """A real deployment process (SQLite) with tests/e2e/console_app deployed by the CLI."""
    server = start_server(tmp_path / "deployment")
    try:
        ConvexCli(server, app_copy(tmp_path / "work")).deploy()
        yield server
    finally:
        server.stop()


def call(server: Server, path: str, args: dict[str, Any], key: str | None = None) -> Any:
    """POST /api/function as an admin (or with `key`); returns the decoded JSON body."""
    r = httpx.post(
        f"{server.url}/api/function",
        json={"path": path, "args": args, "format": "json"},
        headers={"Authorization": f"Convex {key or server.admin_key}"},
        timeout=60,
    )
    return r.json()


def error(server: Server, path: str, args: dict[str, Any]) -> str:
    """The message of a call that must fail (system functions answer HTTP 400 {message})."""
    body = call(server, path, args)
    assert body.get("status") != "success", body
    return str(body.get("errorMessage") or body.get("message"))


def value(server: Server, path: str, args: dict[str, Any]) -> Any:
    body = call(server, path, args)
    assert body.get("status") == "success", body
    return body["value"]


def test_cancel_job_from_the_console(deployed: Server) -> None:
    job_id = value(deployed, "tasks:remindLater", {"note": "later"})
    assert value(deployed, "tasks:job", {"id": job_id})["state"] == {"kind": "pending"}
    assert value(deployed, "_system/frontend/cancelJob", {"id": job_id}) is None
    assert value(deployed, "tasks:job", {"id": job_id})["state"] == {"kind": "canceled"}
    task_id = value(deployed, "tasks:add", {"text": "not a job"})
    wrong = error(deployed, "_system/frontend/cancelJob", {"id": task_id})
    assert "not an id of the _scheduled_functions table" in wrong
    garbage = error(deployed, "_system/frontend/cancelJob", {"id": "nope"})
    assert "Invalid scheduled function id" in garbage


def test_generate_upload_url_accepts_a_file(deployed: Server) -> None:
    url = value(deployed, "_system/frontend/fileStorageV2:generateUploadUrl", {})
    assert url.startswith(f"{deployed.url}/api/storage/upload?token=")
    up = httpx.post(url, content=b"console bytes", headers={"Content-Type": "text/plain"})
    storage_id = up.json()["storageId"]
    served = httpx.get(f"{deployed.url}/api/storage/{storage_id}")
    assert served.content == b"console bytes"
    delete = "_system/frontend/fileStorageV2:deleteFiles"
    assert "valid storage ID" in error(deployed, delete, {"storageIds": ["nope"]})
    assert "storageIds" in error(deployed, delete, {"storageIds": storage_id})
    assert value(deployed, delete, {"storageIds": [storage_id]}) is None
    assert httpx.get(f"{deployed.url}/api/storage/{storage_id}").status_code == 404
    anonymous = httpx.post(
        f"{deployed.url}/api/function",
        json={"path": "_system/frontend/fileStorageV2:generateUploadUrl", "args": {}},
    ).json()
    assert anonymous.get("status") != "success"  # system functions are admin-only
    assert "Could not find" in str(anonymous.get("errorMessage") or anonymous.get("message"))


def test_patch_can_remove_fields(deployed: Server) -> None:
    task_id = value(deployed, "tasks:add", {"text": "with done"})
    patch = "_system/frontend/patchDocumentsFields"
    value(deployed, patch, {"table": "tasks", "ids": [task_id], "fields": {"done": True}})
    assert {t["_id"]: t for t in value(deployed, "tasks:list", {})}[task_id]["done"] is True
    value(
        deployed,
        patch,
        {"table": "tasks", "ids": [task_id], "fields": {"text": "x"}, "removeFields": ["done"]},
    )
    doc = {t["_id"]: t for t in value(deployed, "tasks:list", {})}[task_id]
    assert doc["text"] == "x" and "done" not in doc
    bad = error(
        deployed, patch, {"table": "tasks", "ids": [task_id], "fields": {}, "removeFields": "done"}
    )
    assert "`removeFields` to be a list of field names" in bad
    required = error(
        deployed,
        patch,
        {"table": "tasks", "ids": [task_id], "fields": {}, "removeFields": ["text"]},
    )
    assert "schema" in required  # `text` is required
    assert {t["_id"]: t for t in value(deployed, "tasks:list", {})}[task_id]["text"] == "x"
