"""File storage, vector search and text search from user functions, end to end.

tests/apps/files_search_app is pushed by the official `convex` CLI to a real server process;
the official npm clients (tests/compat/js/files_search.mjs) and the PyPI `convex` client call
it, and the tests look at what they get back over HTTP and the sync WebSocket.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from convex.http_client import ConvexExecutionError, ConvexHttpClient

from .conftest import ConvexCli, Server, copy_app, start_server

pytestmark = pytest.mark.slow
SCRIPT = Path(__file__).resolve().parent / "js" / "files_search.mjs"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ConvexCli, str]]:
    """One server with tests/apps/files_search_app deployed by `npx convex deploy`."""
    tmp = tmp_path_factory.mktemp("files-search")
    server = start_server(tmp / "deployment")
    try:
        cli = ConvexCli(server, copy_app("files_search_app", tmp / "work"))
        result = cli.deploy()
        yield cli, result.stdout + result.stderr
    finally:
        server.stop()


@pytest.fixture
def server(deployed: tuple[ConvexCli, str]) -> Server:
    return deployed[0].server


def scenario(server: Server, name: str) -> list[dict]:
    """Run one scenario of files_search.mjs; its JSON lines (without the final ok)."""
    proc = subprocess.run(
        ["node", str(SCRIPT), name, server.url],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines or lines[-1] != {"ok": True}:
        raise AssertionError(
            f"scenario {name} failed ({proc.returncode}):\nstdout:\n{proc.stdout}\n"
            f"stderr:\n{proc.stderr[-4000:]}\nserver log:\n{server.log()[-4000:]}"
        )
    return lines[:-1]


def test_deploy_accepts_vector_and_search_indexes(deployed: tuple[ConvexCli, str]) -> None:
    cli, output = deployed
    assert "docs.search_body" in output and "embeddings.by_vector" in output
    # A second push of the same schema changes no index.
    again = cli.deploy()
    assert "docs.search_body" not in again.stdout + again.stderr


def test_upload_save_get_url_and_ranged_download(server: Server) -> None:
    lines = scenario(server, "upload")
    assert lines[0]["uploadStatus"] == 200
    storage_id = lines[0]["storageId"]
    described = lines[1]["described"]
    assert described["url"] == f"{server.url}/api/storage/{storage_id}"
    body = b"0123456789abcdefghij"
    assert described["metadata"] == {
        "storageId": storage_id,
        "sha256": hashlib.sha256(body).hexdigest(),
        "size": 20,
        "contentType": "text/plain",
    }
    assert described["system"]["size"] == 20
    assert lines[2]["get"] == {"status": 200, "type": "text/plain", "text": body.decode()}
    assert lines[3]["range"] == {"status": 206, "contentRange": "bytes 2-5/20", "text": "2345"}
    assert lines[4]["badDigestStatus"] == 400
    assert lines[5]["forgedStatus"] in (400, 401, 403)
    assert {"name": "digits.txt", "url": described["url"]} in lines[6]["listed"]


def test_action_stores_and_reads_blobs_with_python_client(server: Server) -> None:
    client = ConvexHttpClient(server.url)
    sid = client.action("files:storeText", {"text": "héllo", "contentType": "text/markdown"})
    back = client.action("files:readText", {"storageId": sid})
    assert back["text"] == "héllo" and back["type"] == "text/markdown"
    assert back["sha256"] == hashlib.sha256("héllo".encode()).hexdigest()
    served = httpx.get(back["url"], timeout=30)
    assert served.status_code == 200 and served.content == "héllo".encode()
    assert served.headers["content-type"].startswith("text/markdown")
    out = client.action("files:roundTrip", {"bytes": b"\x00\x01binary\xff"})
    assert out["same"] is True and out["goneIsNull"] is True
    assert httpx.get(f"{server.url}/api/storage/{out['id']}", timeout=30).status_code == 404
    with pytest.raises(ConvexExecutionError, match="only available in actions"):
        client.mutation("files:storeFromMutation", {})


def test_vector_search_from_action_with_filter(server: Server) -> None:
    client = ConvexHttpClient(server.url)
    for text, kind, vector in [
        ("red", "color", [1.0, 0.0, 0.0]),
        ("orange", "color", [0.8, 0.6, 0.0]),
        ("apple", "fruit", [0.95, 0.05, 0.0]),
        ("blue", "color", [0.0, 0.0, 1.0]),
    ]:
        client.mutation("vectors:add", {"text": text, "kind": kind, "vector": vector})
    colors = client.action("vectors:similar", {"vector": [1.0, 0.0, 0.0], "kind": "color"})
    assert [h["text"] for h in colors] == ["red", "orange", "blue"]
    assert colors[0]["score"] > colors[1]["score"] > colors[2]["score"]
    best = client.action("vectors:similar", {"vector": [1.0, 0.0, 0.0], "limit": 2})
    assert [h["text"] for h in best] == ["red", "apple"]
    with pytest.raises(ConvexExecutionError, match="256"):
        client.action("vectors:similar", {"vector": [1.0, 0.0, 0.0], "limit": 257})


def test_search_query_results_follow_mutations_live(server: Server) -> None:
    (line,) = scenario(server, "reactiveSearch")
    assert line["seen"][0] == []
    assert ["launch"] in line["seen"]
    assert ["geology", "launch"] in line["seen"] or ["launch", "geology"] in line["seen"]
    assert line["last"] == ["geology"]
    client = ConvexHttpClient(server.url)
    assert client.query("search:find", {"text": "rock"}) == ["geology", "music"]
    assert client.query("search:find", {"text": "conc"}) == ["music"]


def test_http_action_stores_request_body_and_serves_it(server: Server) -> None:
    body = bytes(range(200)) * 3
    posted = httpx.post(
        f"{server.url}/http/upload",
        content=body,
        headers={"Content-Type": "image/png"},
        timeout=30,
    )
    assert posted.status_code == 200, posted.text
    sid = posted.json()["storageId"]
    served = httpx.get(f"{server.url}/http/file", params={"id": sid}, timeout=30)
    assert served.status_code == 200 and served.content == body
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-size"] == str(len(body))
    meta = ConvexHttpClient(server.url).query("files:describe", {"storageId": sid})
    assert meta["metadata"]["contentType"] == "image/png"
    # A storage id that parses but names nothing: the action sees null.
    client = ConvexHttpClient(server.url)
    doomed = client.action("files:storeText", {"text": "x", "contentType": "text/plain"})
    client.mutation("files:remove", {"storageId": doomed})
    gone = httpx.get(f"{server.url}/http/file", params={"id": doomed}, timeout=30)
    assert gone.status_code == 404


def test_indexes_survive_a_restart(tmp_path: Path) -> None:
    server = start_server(tmp_path / "deployment")
    try:
        cli = ConvexCli(server, copy_app("files_search_app", tmp_path / "work"))
        cli.deploy()
        client = ConvexHttpClient(server.url)
        client.mutation("search:add", {"title": "kept", "body": "durable words", "channel": "c"})
        client.mutation("vectors:add", {"text": "v", "kind": "k", "vector": [0.0, 1.0, 0.0]})
        sid = client.action("files:storeText", {"text": "persisted", "contentType": "text/plain"})
        port = int(server.url.rsplit(":", 1)[1])
        server.stop()
        server = start_server(server.data_dir, name=server.name, port=port)
        client = ConvexHttpClient(server.url)
        assert client.query("search:find", {"text": "durable"}) == ["kept"]
        hits = client.action("vectors:similar", {"vector": [0.0, 1.0, 0.0]})
        assert [h["text"] for h in hits] == ["v"]
        assert client.action("files:readText", {"storageId": sid})["text"] == "persisted"
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("table", "error"),
    [
        (
            'bad: defineTable({ v: v.array(v.float64()) }).vectorIndex("by_v", '
            '{ vectorField: "v", dimensions: 5000 }),',
            "dimensions must be between 2 and 4096, got 5000",
        ),
        (
            'bad: defineTable({ s: v.string() }).index("twice", ["s"])'
            '.searchIndex("twice", { searchField: "s" }),',
            "two indexes named twice",
        ),
    ],
)
def test_deploy_rejects_bad_vector_and_search_indexes(
    deployed: tuple[ConvexCli, str], tmp_path: Path, table: str, error: str
) -> None:
    cli, _ = deployed
    app = copy_app("files_search_app", tmp_path)
    schema = app / "convex" / "schema.ts"
    schema.write_text(
        schema.read_text().replace(
            "export default defineSchema({", "export default defineSchema({\n  " + table
        )
    )
    result = ConvexCli(cli.server, app).deploy(check=False)
    assert result.returncode != 0
    assert error in result.stdout + result.stderr
    # The deployed app is untouched.
    assert ConvexHttpClient(cli.server.url).query("search:find", {"text": "zzz"}) == []


def test_files_and_search_on_postgres(dataplane_server_pg: Server, tmp_path: Path) -> None:
    ConvexCli(dataplane_server_pg, copy_app("files_search_app", tmp_path)).deploy()
    client = ConvexHttpClient(dataplane_server_pg.url)
    sid = client.action("files:storeText", {"text": "on pg", "contentType": "text/plain"})
    assert client.action("files:readText", {"storageId": sid})["text"] == "on pg"
    client.mutation("search:add", {"title": "pg", "body": "postgres rocks", "channel": "db"})
    assert client.query("search:find", {"text": "postgr", "channel": "db"}) == ["pg"]
    client.mutation("vectors:add", {"text": "p", "kind": "k", "vector": [0.0, 0.0, 1.0]})
    assert [h["text"] for h in client.action("vectors:similar", {"vector": [0.1, 0.0, 1.0]})] == [
        "p"
    ]
