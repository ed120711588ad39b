"""ctx.storage, ctx.vectorSearch and withSearchIndex from real V8 functions on a real database.

The app is tests/apps/files_search_app bundled as the CLI pushes it; the deployment's own
FileService (local blob store) and SearchService (hnswlib + tantivy) answer the syscalls.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dataplane.app import DeploymentApp
from dataplane.runtime import AppAnalysis, Bundle, FunctionError, FunctionRunner, analyze_bundle
from dataplane.runtime import build_bundle as build
from tests.apps.cli_bundle import cli_modules

from .conftest import apply_schema_indexes, make_deployment


@pytest.fixture(scope="module")
def app() -> tuple[Bundle, AppAnalysis]:
    bundle = build(cli_modules("files_search_app"))
    return bundle, analyze_bundle(bundle, {})


@pytest.fixture(params=["sqlite", "postgres", pytest.param("mysql", marks=pytest.mark.mysql)])
def fs_deployment(
    request: pytest.FixtureRequest, tmp_path: Path, app: tuple[Bundle, AppAnalysis]
) -> Iterator[DeploymentApp]:
    """A deployment with the app active, its schema's search indexes built (as deploy does),
    on SQLite and on fresh PostgreSQL and MySQL databases."""
    bundle, analysis = app
    url = request.getfixturevalue(f"{request.param}_url") if request.param != "sqlite" else None
    d = make_deployment(tmp_path, "fs-test", url)
    try:
        apply_schema_indexes(d, analysis)
        d.search.set_schema(analysis.schema)
        d.runner.activate(bundle, analysis, {})
        yield d
    finally:
        d.close()


@pytest.fixture
def fs(fs_deployment: DeploymentApp) -> FunctionRunner:
    return fs_deployment.runner


def test_action_stores_blob_and_reads_it_back(fs: FunctionRunner) -> None:
    storage_id = fs.run_action(
        "files:storeText", {"text": "hello files", "contentType": "text/plain"}
    ).value
    assert isinstance(storage_id, str)
    back = fs.run_action("files:readText", {"storageId": storage_id}).value
    digest = hashlib.sha256(b"hello files").hexdigest()
    assert back == {
        "text": "hello files",
        "type": "text/plain",
        "size": 11.0,
        "sha256": digest,
        "url": f"http://127.0.0.1:0/api/storage/{storage_id}",
    }
    described = fs.run_query("files:describe", {"storageId": storage_id}).value
    assert described["url"] == back["url"]
    assert described["metadata"]["contentType"] == "text/plain"
    assert described["system"] == {
        "size": 11.0,
        "sha256": base64.b64encode(hashlib.sha256(b"hello files").digest()).decode(),
        "contentType": "text/plain",
    }
    assert fs.run_query("files:listStorage", {}).value == [{"id": storage_id, "size": 11.0}]


def test_store_checks_the_sha256_option(fs: FunctionRunner) -> None:
    good = hashlib.sha256(b"abc").hexdigest()
    sid = fs.run_action(
        "files:storeText", {"text": "abc", "contentType": "text/plain", "sha256": good}
    ).value
    assert isinstance(sid, str)
    with pytest.raises(FunctionError, match="digest mismatch"):
        fs.run_action(
            "files:storeText", {"text": "abd", "contentType": "text/plain", "sha256": good}
        )
    assert len(fs.run_query("files:listStorage", {}).value) == 1


def test_action_round_trip_with_bytes_and_delete(fs: FunctionRunner) -> None:
    payload = bytes(range(256)) * 4
    out = fs.run_action("files:roundTrip", {"bytes": payload}).value
    assert out["same"] is True and out["goneIsNull"] is True
    # The file row stays, but its storage is gone: getUrl answers null.
    assert fs.run_query("files:listFiles", {}).value == [{"name": "round-trip", "url": None}]


def test_upload_url_then_save_and_delete_in_mutations(
    fs: FunctionRunner, fs_deployment: DeploymentApp
) -> None:
    url = fs.run_mutation("files:generateUploadUrl", {}).value
    assert url.startswith("http://127.0.0.1:0/api/storage/upload?token=")
    token = url.split("token=", 1)[1]
    sid = fs_deployment.files.accept_upload(token, [b"%PDF-1.7 ..."], "application/pdf")
    fs.run_mutation("files:save", {"storageId": sid, "name": "doc.pdf"})
    listed = fs.run_query("files:listFiles", {}).value
    assert listed == [{"name": "doc.pdf", "url": f"http://127.0.0.1:0/api/storage/{sid}"}]
    fs.run_mutation("files:remove", {"storageId": sid})
    assert fs.run_query("files:describe", {"storageId": sid}).value == {
        "url": None,
        "metadata": None,
        "system": None,
    }
    # Convex's wording, which apps and Convex's own tests match on.
    with pytest.raises(FunctionError, match=rf"Uncaught Error: storage id {sid} not found"):
        fs.run_mutation("files:remove", {"storageId": sid})


def test_storage_rules_per_function_kind(fs: FunctionRunner) -> None:
    with pytest.raises(FunctionError, match=r"generateUploadUrl\(\) is not allowed in a query"):
        fs.run_query("files:uploadUrlFromQuery", {})
    with pytest.raises(FunctionError, match=r"store\(\) is only available in actions"):
        fs.run_mutation("files:storeFromMutation", {})


def test_storage_id_of_another_table_is_rejected(fs: FunctionRunner) -> None:
    doc_id = fs.run_mutation("search:add", {"title": "t", "body": "b", "channel": "c"}).value
    # `_storage` exists from the deployment's start, so the v.id("_storage") validator
    # already refuses an id of another table.
    with pytest.raises(FunctionError, match=r"not a valid ID for table _storage"):
        fs.run_query("files:describe", {"storageId": doc_id})
    with pytest.raises(FunctionError, match="is an ID of table 'docs', not _storage"):
        fs.run_query("files:urlOf", {"storageId": doc_id})
    with pytest.raises(FunctionError, match="is not a valid storage ID"):
        fs.run_query("files:urlOf", {"storageId": "nonsense"})


def test_vector_search_with_filter_and_limit(fs: FunctionRunner) -> None:
    rows = [
        ("east", "dir", [1.0, 0.0, 0.0]),
        ("north-east", "dir", [0.7, 0.7, 0.0]),
        ("up", "dir", [0.0, 0.0, 1.0]),
        ("east-fruit", "fruit", [0.99, 0.01, 0.0]),
    ]
    for text, kind, vector in rows:
        fs.run_mutation("vectors:add", {"text": text, "kind": kind, "vector": vector})
    hits = fs.run_action("vectors:similar", {"vector": [1.0, 0.0, 0.0], "kind": "dir"}).value
    assert [h["text"] for h in hits] == ["east", "north-east", "up"]
    assert hits[0]["score"] == pytest.approx(1.0, abs=1e-5)
    assert hits[0]["score"] > hits[1]["score"] > hits[2]["score"]
    top2 = fs.run_action("vectors:similar", {"vector": [1.0, 0.0, 0.0], "limit": 2.0}).value
    assert [h["text"] for h in top2] == ["east", "east-fruit"]
    either = {"vector": [0.0, 1.0, 0.0], "kinds": ["fruit", "dir"]}
    assert fs.run_action("vectors:similarAnyOf", either).value == 4
    with pytest.raises(FunctionError, match="dimension"):
        fs.run_action("vectors:similar", {"vector": [1.0, 0.0]})
    with pytest.raises(FunctionError, match="256"):
        fs.run_action("vectors:similar", {"vector": [1.0, 0.0, 0.0], "limit": 1000.0})


def test_text_search_relevance_filter_and_prefix(fs: FunctionRunner) -> None:
    docs = [
        ("a", "the quick brown fox", "news"),
        ("b", "a fox and another fox and a fox", "news"),
        ("c", "lazy dogs sleep", "news"),
        ("d", "fox tales", "blog"),
    ]
    for title, body, channel in docs:
        fs.run_mutation("search:add", {"title": title, "body": body, "channel": channel})
    found = fs.run_query("search:find", {"text": "fox"}).value
    assert set(found) == {"a", "b", "d"} and found[0] in ("b", "d")
    assert fs.run_query("search:find", {"text": "fox", "channel": "blog"}).value == ["d"]
    assert fs.run_query("search:find", {"text": "laz"}).value == ["c"]  # prefix, last term
    assert fs.run_query("search:find", {"text": "fox", "limit": 1.0}).value == found[:1]
    assert fs.run_query("search:find", {"text": "   "}).value == []
    with pytest.raises(FunctionError, match="nope"):
        fs.run_query("search:findMissingIndex", {})


def test_text_search_sees_writes_and_paginates(fs: FunctionRunner) -> None:
    ids = [
        fs.run_mutation("search:add", {"title": f"t{i}", "body": f"report {i}", "channel": "x"})
        for i in range(5)
    ]
    out = fs.run_query("search:find", {"text": "report"})
    assert len(out.value) == 5 and not out.read_set.is_empty()
    fs.run_mutation("search:edit", {"id": ids[0].value, "body": "something else"})
    assert "t0" not in fs.run_query("search:find", {"text": "report"}).value
    seen: list[str] = []
    cursor = None
    while True:
        page = fs.run_query(
            "search:findPage",
            {"text": "report", "paginationOpts": {"numItems": 3.0, "cursor": cursor}},
        ).value
        seen += page["page"]
        if page["isDone"]:
            break
        cursor = page["continueCursor"]
    assert sorted(seen) == ["t1", "t2", "t3", "t4"]


def test_a_full_search_page_is_not_the_last(fs: FunctionRunner) -> None:
    """As on Convex, a page of search results that fills numItems says isDone: false, even
    when nothing follows; the next page is then empty and done."""
    for i in range(2):
        fs.run_mutation("search:add", {"title": f"t{i}", "body": "quarterly", "channel": "x"})
    opts: dict[str, Any] = {"numItems": 2.0, "cursor": None}
    first = fs.run_query("search:findPage", {"text": "quarterly", "paginationOpts": opts}).value
    assert sorted(first["page"]) == ["t0", "t1"] and first["isDone"] is False
    opts = {"numItems": 2.0, "cursor": first["continueCursor"]}
    second = fs.run_query("search:findPage", {"text": "quarterly", "paginationOpts": opts}).value
    assert second["page"] == [] and second["isDone"] is True
    opts = {"numItems": 3.0, "cursor": None}
    short = fs.run_query("search:findPage", {"text": "quarterly", "paginationOpts": opts}).value
    assert len(short["page"]) == 2 and short["isDone"] is True


def test_large_blob_from_action(fs: FunctionRunner, fs_deployment: DeploymentApp) -> None:
    size = 8 * 1024 * 1024
    out = fs.run_action("files:storeGenerated", {"size": float(size)}).value
    assert out["same"] is True and out["type"] is None
    stored = fs_deployment.files.stat(out["id"])
    assert stored is not None and stored.size == size
    expected = bytes((i * 31) & 0xFF for i in range(size))
    assert stored.sha256 == hashlib.sha256(expected).digest()


def test_blob_bytes_survive_exactly(fs: FunctionRunner, fs_deployment: DeploymentApp) -> None:
    for n in range(8):
        data = bytes((200 + i * 7) & 0xFF for i in range(n))
        out = fs.run_action("files:echoBytes", {"bytes": data}).value
        assert out["bytes"] == data
        found = fs_deployment.files.read_all(out["id"])
        assert found is not None and found[0] == data
