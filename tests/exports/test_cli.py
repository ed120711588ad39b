"""`npx convex export` and `npx convex import` (the official CLI) against live servers."""

from __future__ import annotations

import base64
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dataplane.files import sign_upload_token
from tests.compat.conftest import ConvexCli, Server, copy_app, start_server

pytestmark = pytest.mark.slow


def _int64(n: int) -> dict[str, str]:
    return {"$integer": base64.b64encode(struct.pack("<q", n)).decode()}


def call(server: Server, kind: str, path: str, args: dict[str, Any]) -> Any:
    r = httpx.post(
        f"{server.url}/api/{kind}",
        json={"path": path, "args": args, "format": "convex_encoded_json"},
        headers={"Authorization": f"Convex {server.admin_key}"},
        timeout=60,
    )
    r.raise_for_status()
    body = r.json()
    assert body["status"] == "success", body
    return body["value"]


def documents(server: Server, table: str) -> list[dict[str, Any]]:
    page = call(
        server,
        "query",
        "_system/frontend/paginatedTableDocuments",
        {"table": table, "filters": None, "paginationOpts": {"numItems": 1000, "cursor": None}},
    )
    assert page["isDone"]
    return sorted(page["page"], key=lambda d: d["_id"])


@pytest.fixture
def second_server(tmp_path: Path) -> Iterator[Server]:
    server = start_server(tmp_path / "second", name="second-deployment")
    try:
        yield server
    finally:
        server.stop()


def test_cli_export_then_import_into_fresh_deployment(
    dataplane_server: Server, second_server: Server, tmp_path: Path
) -> None:
    src = ConvexCli(dataplane_server, copy_app("deploy_app", tmp_path / "src"))
    src.deploy()
    for i in range(3):
        call(
            dataplane_server,
            "mutation",
            "tasks:add",
            {"owner": "ann", "text": f"task {i}", "priority": _int64(2**62 + i)},
        )
    call(dataplane_server, "mutation", "tasks:add", {"owner": "bob", "text": "no priority"})
    token = sign_upload_token(
        dataplane_server.env["STRATA_DP_INSTANCE_SECRET"], dataplane_server.name
    )
    upload = httpx.post(
        f"{dataplane_server.url}/api/storage/upload?token={token}",
        content=b"\x89PNG not really",
        headers={"Content-Type": "image/png"},
    )
    storage_id = upload.json()["storageId"]
    call(dataplane_server, "mutation", "tasks:add", {"owner": "cat", "text": storage_id})
    before = documents(dataplane_server, "tasks")
    assert len(before) == 5

    out = tmp_path / "snapshot.zip"
    exported = src.run("export", "--include-file-storage", "--path", str(out))
    assert "Downloaded snapshot export" in exported.stdout + exported.stderr
    with zipfile.ZipFile(out) as zf:
        assert "tasks/documents.jsonl" in zf.namelist()
        assert f"_storage/{storage_id}.png" in zf.namelist()
        # deploy_app's interval cron may add a note right after the deploy: count what was exported.
        exported_docs = sum(
            len(zf.read(name).splitlines())
            for name in zf.namelist()
            if name.endswith("/documents.jsonl") and not name.startswith("_tables/")
        )
    assert exported_docs >= 6  # 5 tasks + 1 file, plus any cron note

    dst = ConvexCli(second_server, copy_app("deploy_app", tmp_path / "dst"))
    dst.deploy()
    imported = dst.run("import", "--replace", "-y", str(out))
    assert f"Added {exported_docs} documents" in imported.stdout + imported.stderr
    after = documents(second_server, "tasks")
    assert after == before  # same ids, creation times and values (int64 included)
    served = httpx.get(f"{second_server.url}/api/storage/{storage_id}")
    assert served.status_code == 200
    assert served.content == b"\x89PNG not really"
    assert served.headers["content-type"] == "image/png"
    listed = call(second_server, "query", "tasks:list", {"owner": "ann"})
    assert sorted(t["priority"]["$integer"] for t in listed) == sorted(
        _int64(2**62 + i)["$integer"] for i in range(3)
    )

    # Importing again without --replace is refused with the reason.
    again = dst.run("import", "-y", str(out), check=False)
    assert again.returncode != 0
    assert "already has" in again.stdout + again.stderr


def test_cli_imports_jsonl_into_a_table(dataplane_server: Server, tmp_path: Path) -> None:
    cli = ConvexCli(dataplane_server, copy_app("deploy_app", tmp_path / "app"))
    cli.deploy()
    rows = tmp_path / "notes.jsonl"
    rows.write_text("".join(f'{{"body": "note {i}"}}\n' for i in range(25)))
    result = cli.run("import", "--table", "notes", "--append", "-y", str(rows))
    assert "Added 25 documents" in result.stdout + result.stderr
    # deploy_app's interval cron ("daily note") also writes one note right after the deploy.
    imported = [d for d in documents(dataplane_server, "notes") if d["body"] != "daily"]
    assert len(imported) == 25
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"body": 5}\n')  # the schema says body is a string
    failed = cli.run("import", "--table", "notes", "--append", "-y", str(bad), check=False)
    assert failed.returncode != 0
    assert "does not match the schema" in failed.stdout + failed.stderr


def test_http_errors_are_clear(dataplane_server: Server) -> None:
    url, key = dataplane_server
    auth = {"Authorization": f"Convex {key}"}
    r = httpx.post(f"{url}/api/import?format=zip&mode=sideways", content=b"x", headers=auth)
    assert r.status_code == 400 and "Unknown import mode 'sideways'" in r.json()["message"]
    r = httpx.post(f"{url}/api/import?format=zip", content=b"x")
    assert r.status_code == 401
    r = httpx.get(f"{url}/api/export/zip/12345", headers=auth)
    assert r.status_code == 404 and r.json()["code"] == "ExportNotFound"
    r = httpx.post(f"{url}/api/perform_import", json={"importId": "nope"}, headers=auth)
    assert r.status_code == 400 and "No import with id" in r.json()["message"]
    # A corrupt ZIP uploads fine and then fails its check with a readable reason.
    r = httpx.post(
        f"{url}/api/import?format=zip&mode=append", content=b"PK\x03\x04junk", headers=auth
    )
    assert r.status_code == 200
    import_id = r.json()["importId"]
    for _ in range(600):
        state = call(dataplane_server, "query", "_system/cli/queryImport", {"importId": import_id})
        if state["state"]["state"] == "failed":
            break
        import time

        time.sleep(0.1)
    assert "not a valid ZIP archive" in state["state"]["error_message"]
