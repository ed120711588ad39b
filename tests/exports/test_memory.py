"""Large snapshot export and import keep the server's memory flat (peak RSS, not timing).

50k documents of ~1.5 KB (about 75 MB of JSON, several times that as Python objects) go
through a real server: export to ZIP, download, upload into a fresh server, import. Holding
the table in memory anywhere would raise the server's peak RSS by hundreds of MB.
"""

from __future__ import annotations

import base64
import shutil
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from dataplane.exports import state
from tests.compat.conftest import Server, start_server

from .conftest import make_deployment

pytestmark = pytest.mark.slow
DOCS = 50_000
DOC_TEXT = 1400
DATASET_MB = DOCS * DOC_TEXT / 1e6
ENGINE_CACHES_MB = 96


def peak_rss_mb(server: Server) -> float:
    """The server process's peak resident set size (VmHWM)."""
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


def populate(data_dir: Path) -> None:
    dep = make_deployment(data_dir)
    try:
        db = dep.db
        for start in range(0, DOCS, 2000):
            txn = db.begin()
            for i in range(start, start + 2000):
                doc: dict[str, Any] = {"i": float(i), "text": f"{i:08d}" * (DOC_TEXT // 8)}
                if i % 100 == 0:
                    doc["n"] = i * 1_000_000_007
                txn.insert("big", doc)
            db.commit(txn)
    finally:
        dep.close()


def query(server: Server, path: str, args: dict[str, Any]) -> Any:
    r = httpx.post(
        f"{server.url}/api/query",
        json={"path": path, "args": args, "format": "convex_encoded_json"},
        headers={"Authorization": f"Convex {server.admin_key}"},
        timeout=60,
    )
    body = r.json()
    assert body["status"] == "success", body
    return body["value"]


def wait_state(server: Server, path: str, args: dict[str, Any], key: Any, done: set[str]) -> Any:
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        value = query(server, path, args)
        if value is not None and key(value) in done:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{path} did not finish")


@pytest.fixture(scope="module")
def big_dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A populated data dir and a snapshot ZIP of it (made in-process)."""
    base = tmp_path_factory.mktemp("big")
    populate(base / "source")
    dep = make_deployment(base / "source")
    try:
        jobs = dep.exports
        jobs.request_export(False)
        jobs.wait(600)
        latest = state.latest_export(dep.db.begin())
        assert latest is not None and latest["state"] == "completed", latest
        found = jobs.export_file(str(latest["start_ts"]))
        assert found is not None
        zip_path = base / "big.zip"
        shutil.copyfile(found[0], zip_path)
    finally:
        dep.files.close()
        dep.close()
    return base / "source", zip_path


def test_export_of_50k_documents_keeps_server_memory_flat(
    big_dataset: tuple[Path, Path], tmp_path: Path
) -> None:
    source = start_server(big_dataset[0], name="source")
    try:
        auth = {"Authorization": f"Convex {source.admin_key}"}
        # Warm up (imports, first queries) before taking the baseline.
        assert query(source, "_system/cli/tableSize", {"tableName": "big"}) == DOCS
        before = peak_rss_mb(source)
        r = httpx.post(f"{source.url}/api/export/request/zip?includeStorage=true", headers=auth)
        assert r.status_code == 200, r.text
        export = wait_state(
            source,
            "_system/cli/exports:getLatest",
            {},
            lambda e: e["state"],
            {"completed", "failed"},
        )
        assert export["state"] == "completed", export
        start_ts = int.from_bytes(base64.b64decode(export["start_ts"]["$integer"]), "little")
        zip_path = tmp_path / "download.zip"
        url = f"{source.url}/api/export/zip/{start_ts}"
        with httpx.stream("GET", url, headers=auth, timeout=300) as resp:
            assert resp.status_code == 200
            with zip_path.open("wb") as f:
                for chunk in resp.iter_bytes(1 << 20):
                    f.write(chunk)
        growth = peak_rss_mb(source) - before
    finally:
        source.stop()
    with zipfile.ZipFile(zip_path) as zf, zf.open("big/documents.jsonl") as docs:
        assert sum(1 for _ in docs) == DOCS
    print(f"dataset {DATASET_MB:.0f} MB of JSON; export peak RSS growth {growth:.1f} MB")
    assert growth < 0.3 * DATASET_MB


def test_import_of_50k_documents_keeps_server_memory_flat(
    big_dataset: tuple[Path, Path], tmp_path: Path
) -> None:
    target = start_server(tmp_path / "target", name="target")
    try:
        auth = {"Authorization": f"Convex {target.admin_key}"}
        query(target, "_system/cli/queryImport:list", {})
        before = peak_rss_mb(target)
        with big_dataset[1].open("rb") as f:
            r = httpx.post(
                f"{target.url}/api/import?format=zip&mode=requireEmpty",
                content=iter(lambda: f.read(1 << 20), b""),
                headers=auth,
                timeout=300,
            )
        assert r.status_code == 200, r.text
        args = {"importId": r.json()["importId"]}
        st = wait_state(
            target,
            "_system/cli/queryImport",
            args,
            lambda d: d["state"]["state"],
            {"waiting_for_confirmation", "failed"},
        )
        assert st["state"]["state"] == "waiting_for_confirmation", st
        r = httpx.post(f"{target.url}/api/perform_import", json=args, headers=auth)
        assert r.status_code == 200, r.text
        st = wait_state(
            target,
            "_system/cli/queryImport",
            args,
            lambda d: d["state"]["state"],
            {"completed", "failed"},
        )
        assert st["state"] == {
            "state": "completed",
            "num_rows_written": {"$integer": base64.b64encode(DOCS.to_bytes(8, "little")).decode()},
        }, st
        growth = peak_rss_mb(target) - before
        assert query(target, "_system/cli/tableSize", {"tableName": "big"}) == DOCS
    finally:
        target.stop()
    print(f"dataset {DATASET_MB:.0f} MB of JSON; import peak RSS growth {growth:.1f} MB")
    # Committing fills the engine's bounded caches (32 MB document cache, 64 MB write log);
    # beyond those, the import itself must hold well under the dataset.
    assert growth < ENGINE_CACHES_MB + 0.5 * DATASET_MB
