"""The dashboard's `_system/frontend/*` functions via the official npm client and over HTTP."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.compat.conftest import REPO, ConvexCli, Server, copy_app

pytestmark = pytest.mark.slow
SCRIPT = Path(__file__).parent / "js" / "dashboard.mjs"


def test_dashboard_functions_over_websocket(dataplane_server: Server) -> None:
    proc = subprocess.run(
        ["node", str(SCRIPT), dataplane_server.url, dataplane_server.admin_key],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr + dataplane_server.log()[-3000:]
    steps = json.loads(proc.stdout.strip().splitlines()[-1])
    assert steps["mapping"] == ["widgets"]
    assert steps["firstPage"] == {"names": ["c", "b"], "isDone": False}  # newest first
    assert steps["secondPage"] == {"names": ["a"], "isDone": True, "nType": "bigint"}
    assert steps["patched"] == ["c", "b", "renamed"]
    assert steps["afterDelete"] == ["c", "b"]
    assert steps["schemas"] == {"active": None, "inProgress": None}
    assert steps["latestBefore"] is None
    assert steps["exportRequest"] == 200
    assert steps["latestAfter"] == {"state": "completed", "startTsType": "bigint"}
    errors = steps["errors"]
    assert "Could not find public function" in errors["anonymous"]
    assert "System table _storage cannot be edited" in errors["systemTable"]
    assert "reserved for system fields" in errors["badField"]
    assert "is not an id of table other" in errors["wrongTable"]


def test_add_document_follows_the_schema(dataplane_server: Server, tmp_path: Path) -> None:
    ConvexCli(dataplane_server, copy_app("deploy_app", tmp_path / "app")).deploy()
    url, key = dataplane_server
    auth = {"Authorization": f"Convex {key}"}

    def run(path: str, args: dict) -> dict:
        r = httpx.post(f"{url}/api/function", json={"path": path, "args": args}, headers=auth)
        return r.json()

    schemas = run("_system/frontend/getSchemas", {})["value"]
    assert [t["tableName"] for t in json.loads(schemas["active"])["tables"]] == ["tasks", "notes"]
    bad = httpx.post(
        f"{url}/api/function",
        json={
            "path": "_system/frontend/addDocument",
            "args": {"table": "tasks", "documents": [{"owner": 5}]},
        },
        headers=auth,
    )
    assert bad.status_code == 400 and "does not match the schema" in bad.json()["message"]
    good = run(
        "_system/frontend/addDocument",
        {"table": "tasks", "documents": [{"owner": "ann", "text": "hi", "done": False}]},
    )
    assert good["status"] == "success" and len(good["value"]) == 1
    undeclared = httpx.post(
        f"{url}/api/function",
        json={
            "path": "_system/frontend/addDocument",
            "args": {"table": "stray", "documents": [{}]},
        },
        headers=auth,
    )
    assert "Table stray is not declared in the schema" in undeclared.json()["message"]
    anonymous = httpx.post(
        f"{url}/api/query", json={"path": "_system/frontend/getTableMapping", "args": {}}
    )
    assert "Could not find public function" in anonymous.json()["errorMessage"]
