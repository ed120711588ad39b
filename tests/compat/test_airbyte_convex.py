"""The official Airbyte Convex connector (`airbyte-source-convex` from PyPI, unmodified) against
a live deployment: spec, check, discover, a full-refresh read, then incremental reads that pick
up inserts, patches and deletes made between them.

The connector lives in its own virtual environment (cached under var/, outside ours), so its
dependencies never reach the project's.
"""

from __future__ import annotations

import base64
import fcntl
import json
import shutil
import subprocess
import sys
import time
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.compat.conftest import REPO, Server, start_server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

CONNECTOR = "airbyte-source-convex"
VERSION = "0.4.51"
CACHE = REPO / "var" / "test-cache" / f"{CONNECTOR}-{VERSION}"


def connector_venv() -> Path:
    """The connector's venv, built once (under a lock) and reused; returns its executable."""
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    exe = CACHE / "bin" / "source-convex"
    marker = CACHE / ".installed"
    with (CACHE.parent / f"{CACHE.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            shutil.rmtree(CACHE, ignore_errors=True)
            venv.EnvBuilder(with_pip=True).create(CACHE)
            subprocess.run(
                [str(CACHE / "bin" / "python"), "-m", "pip", "install", "-q",
                 f"{CONNECTOR}=={VERSION}"],
                check=True,
                timeout=600,
            )  # fmt: skip
            marker.write_text(VERSION)
    return exe


@pytest.fixture(scope="module")
def source_convex() -> Path:
    return connector_venv()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    s = start_server(tmp_path / "deployment")
    try:
        yield s
    finally:
        s.stop()


class Airbyte:
    """Runs the connector's CLI and parses its Airbyte protocol messages."""

    def __init__(self, exe: Path, workdir: Path, url: str, key: str) -> None:
        self.exe = exe
        self.workdir = workdir
        self.config = self._write("config.json", {"deployment_url": url, "access_key": key})

    def _write(self, name: str, obj: Any) -> Path:
        path = self.workdir / name
        path.write_text(json.dumps(obj))
        return path

    def run(self, *args: str, fails: bool = False) -> list[dict[str, Any]]:
        proc = subprocess.run(
            [str(self.exe), *args],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=self.workdir,
            env={"PATH": f"{self.exe.parent}:/usr/bin:/bin", "HOME": str(self.workdir)},
        )
        messages = []
        for line in proc.stdout.splitlines():
            if line.startswith("{"):
                messages.append(json.loads(line))
        errors = [m for m in messages if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]
        if fails:
            assert errors, (proc.stdout[-6000:], proc.stderr[-6000:])
            return errors
        assert proc.returncode == 0 and not errors, (proc.stdout[-6000:], proc.stderr[-6000:])
        return messages

    def with_config(self, command: str) -> list[dict[str, Any]]:
        return self.run(command, "--config", str(self.config))

    def read(
        self, streams: list[dict[str, Any]], mode: str, state: list[Any] | None = None
    ) -> tuple[dict[str, list[dict[str, Any]]], list[Any]]:
        """(records by stream, the last STATE message of each stream) of one read."""
        records: dict[str, list[dict[str, Any]]] = {s["name"]: [] for s in streams}
        states: dict[str, Any] = {}
        for m in self.run(*self.read_args(streams, mode, state)):
            if m["type"] == "RECORD":
                records[m["record"]["stream"]].append(m["record"]["data"])
            elif m["type"] == "STATE" and m["state"].get("type") == "STREAM":
                states[m["state"]["stream"]["stream_descriptor"]["name"]] = m["state"]
        return records, list(states.values())

    def read_args(
        self, streams: list[dict[str, Any]], mode: str, state: list[Any] | None = None
    ) -> list[str]:
        catalog = {
            "streams": [
                {
                    "stream": stream,
                    "sync_mode": mode,
                    "destination_sync_mode": "append" if mode == "incremental" else "overwrite",
                    **({"cursor_field": ["_ts"]} if mode == "incremental" else {}),
                    "primary_key": [["_id"]],
                }
                for stream in streams
            ]
        }
        args = ["read", "--config", str(self.config)]
        args += ["--catalog", str(self._write(f"catalog-{mode}.json", catalog))]
        if state is not None:
            args += ["--state", str(self._write("state.json", state))]
        return args


def call(server: Server, path: str, args: dict[str, Any]) -> Any:
    r = httpx.post(
        f"{server.url}/api/function",
        json={"path": path, "args": args},
        headers={"Authorization": f"Convex {server.admin_key}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return r.json()["value"]


def add(server: Server, table: str, docs: list[dict[str, Any]]) -> list[str]:
    ids: list[str] = call(
        server, "_system/frontend/addDocument", {"table": table, "documents": docs}
    )
    return ids


def int64(n: int) -> dict[str, str]:
    """An int64 argument in convex-JSON."""
    return {"$integer": base64.b64encode(n.to_bytes(8, "little", signed=True)).decode()}


def user_fields(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def test_airbyte_connector_full_refresh_and_incremental(
    source_convex: Path, server: Server, tmp_path: Path
) -> None:
    users = add(server, "users", [{"name": f"user{i}", "age": 20.0 + i} for i in range(5)])
    posts = add(server, "posts", [{"title": "hello", "tags": ["a", "b"], "meta": {"x": 1.5}}])
    posts += add(server, "posts", [{"title": "second", "tags": [], "meta": {"x": 2.5}}])
    comments = add(server, "comments", [{"post": posts[0], "text": f"c{i}"} for i in range(3)])
    # More than a snapshot page (1000 documents): the connector follows the cursor.
    bulk = add(server, "bulk", [{"i": float(i), "count": int64(i)} for i in range(1500)])
    work = tmp_path / "airbyte"
    work.mkdir()
    airbyte = Airbyte(source_convex, work, server.url, server.admin_key)

    spec = airbyte.run("spec")
    props = spec[-1]["spec"]["connectionSpecification"]["properties"]
    assert {"deployment_url", "access_key"} <= set(props)

    status = [m for m in airbyte.with_config("check") if m["type"] == "CONNECTION_STATUS"]
    assert status[0]["connectionStatus"]["status"] == "SUCCEEDED"
    bad = Airbyte(source_convex, tmp_path, server.url, "not-a-key").with_config("check")
    failed = next(m for m in bad if m["type"] == "CONNECTION_STATUS")["connectionStatus"]
    assert failed["status"] == "FAILED" and "BadAdminKey" in failed["message"]

    catalog = next(m for m in airbyte.with_config("discover") if m["type"] == "CATALOG")
    streams = {s["name"]: s for s in catalog["catalog"]["streams"]}
    assert set(streams) == {"users", "posts", "comments", "bulk"}
    assert streams["bulk"]["json_schema"]["properties"]["count"] == {"type": "string"}
    assert "incremental" in streams["users"]["supported_sync_modes"]
    user_props = streams["users"]["json_schema"]["properties"]
    assert user_props["name"] == {"type": "string"} and user_props["age"] == {"type": "number"}
    assert {"_id", "_creationTime", "_ts", "_deleted"} <= set(user_props)
    stream_list = list(streams.values())

    # Full refresh: every document of every table, once.
    full, _ = airbyte.read(stream_list, "full_refresh")
    assert sorted(r["_id"] for r in full["users"]) == sorted(users)
    assert sorted(r["_id"] for r in full["posts"]) == sorted(posts)
    assert sorted(r["_id"] for r in full["comments"]) == sorted(comments)
    assert sorted(r["_id"] for r in full["bulk"]) == sorted(bulk)
    assert sorted(r["count"] for r in full["bulk"]) == sorted(str(i) for i in range(1500))
    by_id = {r["_id"]: r for records in full.values() for r in records}
    assert user_fields(by_id[users[3]]) == {"name": "user3", "age": 23.0}
    assert user_fields(by_id[posts[0]]) == {
        "title": "hello",
        "tags": ["a", "b"],
        "meta": {"x": 1.5},
    }
    assert user_fields(by_id[comments[2]]) == {"post": posts[0], "text": "c2"}
    assert all(r["_deleted"] is False and r["_ab_cdc_deleted_at"] is None for r in by_id.values())

    # First incremental sync: the snapshot, and a state to continue from.
    first, state = airbyte.read(stream_list, "incremental")
    assert {name: sorted(r["_id"] for r in recs) for name, recs in first.items()} == {
        "users": sorted(users),
        "posts": sorted(posts),
        "comments": sorted(comments),
        "bulk": sorted(bulk),
    }
    assert len(state) == 4
    assert all(s["stream"]["stream_state"]["snapshot_has_more"] is False for s in state)

    # Changes between syncs: an insert, a patch, deletes, in two tables; one table untouched.
    new_user = add(server, "users", [{"name": "newcomer", "age": 40.0}])[0]
    call(
        server,
        "_system/frontend/patchDocumentsFields",
        {"table": "users", "ids": [users[1]], "fields": {"age": 99.0}},
    )
    call(
        server,
        "_system/frontend/deleteDocuments",
        {
            "toDelete": [
                {"id": posts[1], "tableName": "posts"},
                {"id": users[4], "tableName": "users"},
            ]
        },
    )

    second, state2 = airbyte.read(stream_list, "incremental", state)
    assert second["comments"] == [] and second["bulk"] == []
    changes = [(r["_id"], r["_deleted"]) for r in second["users"]]
    assert changes == [(new_user, False), (users[1], False), (users[4], True)]
    got = {r["_id"]: r for r in second["users"]}
    assert user_fields(got[new_user]) == {"name": "newcomer", "age": 40.0}
    assert user_fields(got[users[1]]) == {"name": "user1", "age": 99.0}
    assert got[users[4]]["_ab_cdc_deleted_at"] is not None
    assert [(r["_id"], r["_deleted"]) for r in second["posts"]] == [(posts[1], True)]
    lsns = [r["_ab_cdc_lsn"] for r in second["users"]]
    assert lsns == sorted(lsns) and lsns[0] > max(r["_ts"] for r in first["users"])

    # Nothing changed since: the next sync reads nothing, and duplicates nothing.
    third, _ = airbyte.read(stream_list, "incremental", state2)
    assert third == {"users": [], "posts": [], "comments": [], "bulk": []}


def test_value_formats(source_convex: Path, server: Server) -> None:
    """`json` writes int64 as a decimal string and bytes as base64; `convex_encoded_json` keeps
    them lossless. The metadata fields stay plain numbers in both."""
    doc_id = add(server, "vals", [{"big": int64(2**40), "raw": {"$bytes": "AAE="}}])[0]
    auth = {"Authorization": f"Convex {server.admin_key}"}
    for fmt, big, raw in (
        ("json", str(2**40), "AAE="),
        ("convex_encoded_json", int64(2**40), {"$bytes": "AAE="}),
    ):
        page = httpx.get(
            f"{server.url}/api/list_snapshot",
            params={"tableName": "vals", "format": fmt},
            headers=auth,
        ).json()
        value = page["values"][0]
        assert (value["_id"], value["big"], value["raw"]) == (doc_id, big, raw)
        assert isinstance(value["_ts"], int) and value["_table"] == "vals"
    bad = httpx.get(f"{server.url}/api/list_snapshot", params={"format": "xml"}, headers=auth)
    assert bad.status_code == 400 and bad.json()["code"] == "BadFormat"
    no_cursor = httpx.get(f"{server.url}/api/document_deltas", headers=auth)
    assert no_cursor.status_code == 400


def test_a_cursor_older_than_the_history_is_refused_and_a_reset_recovers(
    source_convex: Path, tmp_path: Path
) -> None:
    """With a short retention, history behind a saved cursor gets collected: the endpoint
    answers OutOfRetention, the incremental sync fails showing that message,
    and a reset (a sync without state) starts over from a fresh snapshot, as with Convex."""
    retention = {"STRATA_DP_HISTORY_RETENTION_S": "1", "STRATA_DP_GC_INTERVAL_S": "0.2"}
    server = start_server(tmp_path / "deployment", extra_env=retention)
    try:
        first = add(server, "items", [{"n": 1.0}, {"n": 2.0}])
        work = tmp_path / "airbyte"
        work.mkdir()
        airbyte = Airbyte(source_convex, work, server.url, server.admin_key)
        catalog = next(m for m in airbyte.with_config("discover") if m["type"] == "CATALOG")
        streams = catalog["catalog"]["streams"]
        synced, state = airbyte.read(streams, "incremental")
        assert sorted(r["_id"] for r in synced["items"]) == sorted(first)
        cursor = state[0]["stream"]["stream_state"]["delta_cursor"]
        auth = {"Authorization": f"Convex {server.admin_key}"}
        # Keep committing until the collector has moved past the saved cursor.
        later: list[str] = []
        deadline = time.monotonic() + 120
        while True:
            later += add(server, "items", [{"n": 3.0 + len(later)}])
            r = httpx.get(
                f"{server.url}/api/document_deltas",
                params={"cursor": cursor, "tableName": "items", "format": "json"},
                headers=auth,
            )
            if r.status_code != 200:
                break
            assert time.monotonic() < deadline, "history was never collected"
            time.sleep(0.3)
        assert r.status_code == 400 and r.json()["code"] == "OutOfRetention", r.text

        errors = airbyte.run(*airbyte.read_args(streams, "incremental", state), fails=True)
        messages = [e["trace"]["error"]["message"] for e in errors]
        assert any("older than the retained history" in m for m in messages), messages

        reset, _ = airbyte.read(streams, "incremental")
        assert sorted(r["_id"] for r in reset["items"]) == sorted(first + later)
    finally:
        server.stop()


def test_connector_venv_is_separate(source_convex: Path) -> None:
    """The connector's packages stay out of the project's environment."""
    ours = subprocess.run(
        [sys.executable, "-c", "import source_convex"], capture_output=True, check=False
    )
    assert ours.returncode != 0
    theirs = subprocess.run(
        [str(source_convex.parent / "python"), "-c", "import source_convex, airbyte_cdk"],
        capture_output=True,
        check=False,
    )
    assert theirs.returncode == 0, theirs.stderr


def test_airbyte_connector_on_a_deployment_with_component_tables(
    source_convex: Path, server: Server, tmp_path: Path
) -> None:
    """Convex lists every component's tables in json_schemas and the connector asks for each
    by name alone (the app's): a component's table is a stream that reads empty, and the
    sync does not fail."""
    users = add(server, "users", [{"name": "ann"}])
    r = httpx.post(
        f"{server.url}/api/function",
        json={
            "path": "_system/frontend/addDocument",
            "args": {"table": "entries", "documents": [{"text": "in a component"}]},
            "componentPath": "ledger",
        },
        headers={"Authorization": f"Convex {server.admin_key}"},
        timeout=30,
    )
    assert r.status_code == 200 and r.json()["status"] == "success", r.text
    work = tmp_path / "airbyte"
    work.mkdir()
    airbyte = Airbyte(source_convex, work, server.url, server.admin_key)
    catalog = next(m for m in airbyte.with_config("discover") if m["type"] == "CATALOG")
    streams = {s["name"]: s for s in catalog["catalog"]["streams"]}
    assert set(streams) == {"users", "entries"}
    assert "_component" in streams["entries"]["json_schema"]["properties"]
    records, _ = airbyte.read(list(streams.values()), "full_refresh")
    assert [r["_id"] for r in records["users"]] == users
    assert records["users"][0]["_component"] == ""
    assert records["entries"] == []
