"""Convex components deployed by the official CLI: instances, namespaces, sub-transactions."""

from __future__ import annotations

import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from convex.http_client import ConvexExecutionError, ConvexHttpClient

from .conftest import ConvexCli, Server, copy_app, start_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ConvexCli, str]]:
    """tests/apps/components_app (counter twice, ledger with a nested counter) deployed."""
    tmp = tmp_path_factory.mktemp("components")
    server = start_server(tmp / "deployment")
    try:
        cli = ConvexCli(server, copy_app("components_app", tmp / "work"))
        out = cli.deploy()
        yield cli, out.stdout + out.stderr
    finally:
        server.stop()


def client(deployed: tuple[ConvexCli, str]) -> ConvexHttpClient:
    return ConvexHttpClient(deployed[0].server.url)


def test_cli_generates_the_component_api(deployed: tuple[ConvexCli, str]) -> None:
    cli, _ = deployed
    generated = (cli.app_dir / "convex" / "_generated" / "api.d.ts").read_text()
    for name in ("counter", "counter2", "ledger"):
        assert f"{name}:" in generated, generated
    component = (cli.app_dir / "counter" / "_generated" / "component.ts").read_text()
    assert "counts:" in component and "addThenFail" in component, component


def test_instances_have_their_own_tables(deployed: tuple[ConvexCli, str]) -> None:
    c = client(deployed)
    c.mutation("app:bump", {"name": "a", "by": 2})
    c.mutation("app:bump", {"name": "a", "by": 3})
    c.mutation("app:bumpSecond", {"name": "a", "by": 10})
    # The app's own `counts` table is a different table from either instance's.
    assert c.query("app:values", {"name": "a"}) == {"first": 5, "second": 10, "ownCounts": 0}


def test_failed_child_mutation_rolls_back_only_its_writes(
    deployed: tuple[ConvexCli, str],
) -> None:
    c = client(deployed)
    result = c.mutation("app:partial", {"name": "p"})
    assert "counter refused the change" in result["caught"]
    assert result["seen"] == 1  # the failed child's patch is gone, the earlier call's stays
    assert c.query("app:notes", {}).count("before") == 1
    assert c.query("app:notes", {}).count("after") == 1
    names = c.query("app:names", {})
    assert "p" in names and "p-failed" not in names


def test_ids_do_not_cross_namespaces(deployed: tuple[ConvexCli, str]) -> None:
    c = client(deployed)
    with pytest.raises(ConvexExecutionError, match=r"component .counter.*cannot access"):
        c.mutation("app:readComponentId", {"name": "leak"})
    with pytest.raises(ConvexExecutionError, match="table 'notes' of the app"):
        c.mutation("app:passAppId", {})
    with pytest.raises(ConvexExecutionError, match=r"ArgumentValidationError|Invalid id"):
        c.mutation("app:passSiblingId", {})


def test_arguments_are_validated_at_the_boundary(deployed: tuple[ConvexCli, str]) -> None:
    with pytest.raises(ConvexExecutionError, match="ArgumentValidationError"):
        client(deployed).mutation("app:badArgs", {})


def test_nested_components_and_actions(deployed: tuple[ConvexCli, str]) -> None:
    c = client(deployed)
    c.mutation("app:record", {"text": "one"})
    c.mutation("app:record", {"text": "two"})
    ledger = c.query("app:ledger", {})
    # ledger's own counter instance counted; the app's `counter` instance did not.
    assert ledger == {"texts": ["one", "two"], "counted": 2, "topLevelCounter": 0}
    assert c.action("app:fromAction", {"name": "act"}) == 7


def test_clients_cannot_call_component_functions(deployed: tuple[ConvexCli, str]) -> None:
    server = deployed[0].server
    for path in ("_components/counter/counts:get", "counts:get"):
        r = httpx.post(
            server.url + "/api/query", json={"path": path, "args": {"name": "a"}}, timeout=30
        )
        assert r.json()["status"] == "error", r.text


def test_components_see_only_the_env_vars_their_parent_binds(
    deployed: tuple[ConvexCli, str],
) -> None:
    cli, _ = deployed
    cli.run("env", "set", "APP_GREETING", "hello")
    cli.run("env", "set", "APP_SECRET", "not for components")
    seen = client(deployed).query("app:envSeen", {})
    assert seen["app"] is True and seen["appSecretAtLoad"] == "not for components"
    platform = ["CONVEX_CLOUD_URL", "CONVEX_SITE_URL"]
    # `counter` got a literal; `counter2` the deployment's APP_GREETING, read when it changes;
    # neither sees the app's secret, in a call or while its modules load
    assert seen["component"] == {
        "keys": [*platform, "GREETING"],
        "greeting": "hi",
        "atLoad": {"greeting": "hi", "secret": None},
    }
    assert seen["second"] == {
        "keys": [*platform, "GREETING"],
        "greeting": "hello",
        "atLoad": {"greeting": "hello", "secret": None},
    }
    cli.run("env", "remove", "APP_GREETING")
    seen = client(deployed).query("app:envSeen", {})
    assert seen["second"] == {
        "keys": platform,
        "greeting": None,
        "atLoad": {"greeting": None, "secret": None},
    }


def test_component_crons_run_in_their_instance(deployed: tuple[ConvexCli, str]) -> None:
    c = client(deployed)
    deadline = time.monotonic() + 60
    values = c.query("app:values", {"name": "cron"})
    while (values["first"] < 1 or values["second"] < 1) and time.monotonic() < deadline:
        time.sleep(0.2)
        values = c.query("app:values", {"name": "cron"})
    # each counter instance ran its own cron on its own table; the app's table is untouched
    assert values["first"] >= 1 and values["second"] >= 1 and values["ownCounts"] == 0


def test_unbound_required_component_env_fails_the_deploy(tmp_path: Path) -> None:
    server = start_server(tmp_path / "deployment")
    try:
        app = copy_app("components_app", tmp_path / "work")
        config = app / "counter" / "convex.config.ts"
        config.write_text(
            config.read_text().replace(
                "GREETING: v.optional(v.string())",
                "GREETING: v.optional(v.string()), TOKEN: v.string()",
            )
        )
        out = ConvexCli(server, app).deploy(check=False)
        assert out.returncode != 0
        assert "component 'counter' needs env vars TOKEN" in out.stderr, out.stderr
    finally:
        server.stop()


def test_component_http_routes_are_mounted_under_their_prefix(
    deployed: tuple[ConvexCli, str],
) -> None:
    site = deployed[0].server.url + "/http"
    c = client(deployed)
    c.mutation("app:bump", {"name": "web", "by": 3})
    r = httpx.get(f"{site}/counter/count", params={"name": "web"}, timeout=30)
    assert r.status_code == 200, r.text
    # the instance's own route, its own tables and env; the request keeps its full URL
    body = r.json()
    assert body["value"] == 3 and body["greeting"] == "hi"
    assert body["url"].endswith("/counter/count?name=web")
    assert httpx.post(f"{site}/counter/bump/zed", timeout=30).status_code == 204
    assert c.query("app:values", {"name": "zed"}) == {"first": 1, "second": 0, "ownCounts": 0}
    assert httpx.get(f"{site}/hello", timeout=30).text == "app hello"
    assert httpx.get(f"{site}/counter/special", timeout=30).text == "app special"
    assert httpx.get(f"{site}/counter/nothing", timeout=30).status_code == 404
    assert httpx.get(f"{site}/count", timeout=30).status_code == 404  # only under the prefix
    assert httpx.get(f"{site}/counter/bump/zed", timeout=30).status_code == 404  # POST only


def test_app_http_prefix_moves_only_the_apps_own_routes(tmp_path: Path) -> None:
    server = start_server(tmp_path / "deployment")
    try:
        app = copy_app("components_app", tmp_path / "work")
        config = app / "convex" / "convex.config.ts"
        config.write_text(
            config.read_text().replace("defineApp({", 'defineApp({ httpPrefix: "/app",')
        )
        ConvexCli(server, app).deploy()
        site = server.url + "/http"
        assert httpx.get(f"{site}/app/hello", timeout=30).text == "app hello"
        assert httpx.get(f"{site}/hello", timeout=30).status_code == 404
        # mounts stay absolute: /counter/ is not under the app's prefix
        r = httpx.get(f"{site}/counter/count", params={"name": "x"}, timeout=30)
        assert r.status_code == 200 and r.json()["value"] == 0, r.text
    finally:
        server.stop()


def test_redeploy_keeps_component_data(deployed: tuple[ConvexCli, str]) -> None:
    cli, _ = deployed
    c = client(deployed)
    c.mutation("app:bumpSecond", {"name": "kept", "by": 4})
    cli.deploy()
    assert c.query("app:values", {"name": "kept"})["second"] == 4


def test_component_jobs_live_in_the_component(deployed: tuple[ConvexCli, str]) -> None:
    c = client(deployed)
    job = c.mutation("app:scheduleInComponent", {"name": "sched"})
    states = c.query("app:jobStates", {"id": job})
    assert states["app"] is None and states["appListed"] is False
    deadline = time.monotonic() + 60
    while states["component"] != "success" and time.monotonic() < deadline:
        assert states["component"] in ("pending", "inProgress")
        time.sleep(0.2)
        states = c.query("app:jobStates", {"id": job})
    assert states["component"] == "success"
    assert c.query("app:values", {"name": "sched"})["first"] == 1


def test_export_writes_components_in_convex_layout(
    deployed: tuple[ConvexCli, str], tmp_path: Path
) -> None:
    cli, _ = deployed
    client(deployed).mutation("app:record", {"text": "exported"})
    out = tmp_path / "snapshot.zip"
    cli.run("export", "--path", str(out))
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        assert "_tables/documents.jsonl" in names
        assert "_components/counter/counts/documents.jsonl" in names
        assert "_components/ledger/entries/documents.jsonl" in names
        assert "_components/ledger/_components/counter/counts/documents.jsonl" in names
        assert not any(n.startswith("counter/") for n in names)
        tables = zf.read("_components/ledger/_tables/documents.jsonl").decode()
        assert '"name":"entries"' in tables
        entries = zf.read("_components/ledger/entries/documents.jsonl").decode()
        assert "exported" in entries


def test_component_file_storage_is_its_own(deployed: tuple[ConvexCli, str]) -> None:
    c = client(deployed)
    file_id = c.action("app:storeInComponent", {"text": "component bytes"})
    views = c.query("app:fileViews", {"id": file_id})
    assert views["component"] == [file_id]
    assert views["sibling"] == [] and views["app"] == 0
    assert "?component=counter" in views["url"]
    assert httpx.get(views["url"], timeout=30).text == "component bytes"
    with pytest.raises(ConvexExecutionError, match="component 'counter'"):
        c.query("app:appReadsComponentFile", {"id": file_id})


def _system_query(server: Server, path: str, args: dict[str, Any], **extra: Any) -> Any:
    r = httpx.post(
        f"{server.url}/api/query",
        json={"path": path, "args": args, **extra},
        headers={"Authorization": f"Convex {server.admin_key}"},
        timeout=30,
    )
    body = r.json()
    assert body["status"] == "success", body
    return body["value"]


def test_dashboard_lists_components_and_their_tables(deployed: tuple[ConvexCli, str]) -> None:
    server = deployed[0].server
    client(deployed).mutation("app:bumpSecond", {"name": "listed", "by": 1})
    listed = _system_query(server, "_system/frontend/components:list", {})
    paths = {c["path"]: c for c in listed}
    assert set(paths) == {"", "counter", "counter2", "ledger", "ledger/counter"}
    assert paths["ledger/counter"]["name"] == "counter" and "name" not in paths[""]
    assert all(c["state"] == "active" for c in listed)
    second = paths["counter2"]["id"]
    mapping = _system_query(server, "_system/frontend/getTableMapping", {"componentId": second})
    assert sorted(mapping.values()) == ["counts"]
    root = _system_query(server, "_system/frontend/getTableMapping", {"componentId": None})
    assert "notes" in root.values() and not any("/" in n for n in root.values())
    page = _system_query(
        server,
        "_system/frontend/paginatedTableDocuments",
        {
            "componentId": second,
            "table": "counts",
            "filters": None,
            "paginationOpts": {"numItems": 100, "cursor": None},
        },
    )
    assert "listed" in {d["name"] for d in page["page"]}
    schema = _system_query(server, "_system/frontend/getSchemas", {"componentId": second})
    assert [t["tableName"] for t in json.loads(schema["active"])["tables"]] == ["counts"]
    # Another component's table cannot be reached by naming it from a component.
    r = httpx.post(
        f"{server.url}/api/query",
        json={
            "path": "_system/frontend/paginatedTableDocuments",
            "args": {
                "componentId": second,
                "table": "ledger/entries",
                "filters": None,
                "paginationOpts": {"numItems": 10, "cursor": None},
            },
        },
        headers={"Authorization": f"Convex {server.admin_key}"},
        timeout=30,
    )
    assert r.status_code == 400 and "Invalid table name" in r.json()["message"], r.text


def test_cli_data_run_logs_and_env_with_components(deployed: tuple[ConvexCli, str]) -> None:
    cli, _ = deployed
    client(deployed).mutation("app:bumpSecond", {"name": "cli", "by": 3})
    assert cli.run("data", "--component", "counter2").stdout.split() == ["counts"]
    out = cli.run("data", "--component", "counter2", "counts", "--format", "jsonl")
    docs = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert any(d["name"] == "cli" and d["value"] == 3 for d in docs), docs
    assert cli.run("data", "--component", "ledger/counter").stdout.split() == ["counts"]
    root_tables = cli.run("data").stdout.split()
    assert "notes" in root_tables and not any("/" in t for t in root_tables)

    logs = cli.popen("logs", "--jsonl")
    try:
        ran = cli.run("run", "--component", "counter2", "counts:get", '{"name": "cli"}')
        assert ran.stdout.strip() == "3"
        added = cli.run("run", "--component", "counter2", "counts:add", '{"name": "cli", "by": 1}')
        assert added.returncode == 0
        assert client(deployed).query("app:values", {"name": "cli"})["second"] == 4
        deadline = time.monotonic() + 60
        entry = None
        assert logs.stdout is not None
        while entry is None and time.monotonic() < deadline:
            line = logs.stdout.readline()
            parsed = json.loads(line) if line.startswith("{") else {}
            if parsed.get("componentPath") == "counter2":
                entry = parsed
        assert entry is not None and entry["identifier"] in ("counts:get", "counts:add")
    finally:
        logs.terminate()
        logs.wait(timeout=30)

    missing = cli.run("run", "--component", "counter2", "app:bump", "{}", check=False)
    assert missing.returncode != 0  # the app's functions are not the component's
    # Components have no environment variables: the env system queries answer empty.
    server = cli.server
    assert (
        _system_query(server, "_system/cli/queryEnvironmentVariables", {}, componentPath="counter")
        == []
    )
    spec = _system_query(server, "_system/cli/modules:apiSpec", {}, componentPath="counter")
    assert {f["identifier"] for f in spec} >= {"counts.js:get", "counts.js:add"}
    assert not any(f["identifier"].startswith(("app.js", "_components")) for f in spec)


def _all_documents(server: Server) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Every user table of every component (and of the app), through the dashboard API."""
    out = {}
    for component in _system_query(server, "_system/frontend/components:list", {}):
        path = component["path"]
        mapping = _system_query(server, "_system/frontend/getTableMapping", {}, componentPath=path)
        for table in mapping.values():
            if table.startswith("_") and table != "_storage":
                continue
            page = _system_query(
                server,
                "_system/frontend/paginatedTableDocuments",
                {
                    "table": table,
                    "filters": None,
                    "paginationOpts": {"numItems": 1000, "cursor": None},
                },
                componentPath=path,
                format="convex_encoded_json",
            )
            assert page["isDone"]
            out[(path, table)] = sorted(page["page"], key=lambda d: d["_id"])
    return out


def _without_cron_row(
    docs: dict[tuple[str, str], list[dict[str, Any]]],
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    return {k: [d for d in v if d.get("name") != "cron"] for k, v in docs.items()}


def test_cli_export_with_components_imports_into_a_fresh_deployment(
    deployed: tuple[ConvexCli, str], tmp_path: Path
) -> None:
    cli, _ = deployed
    c = client(deployed)
    c.mutation("app:record", {"text": "round trip"})
    c.mutation("app:bumpSecond", {"name": "round", "by": 6})
    file_id = c.action("app:storeInComponent", {"text": "bytes in a component"})
    before = _all_documents(cli.server)
    assert before[("ledger/counter", "counts")] and before[("counter", "_storage")]
    out = tmp_path / "snapshot.zip"
    cli.run("export", "--include-file-storage", "--path", str(out))
    with zipfile.ZipFile(out) as zf:
        assert any(n.startswith(f"_components/counter/_storage/{file_id}") for n in zf.namelist())

    fresh = start_server(tmp_path / "fresh", name="fresh-deployment")
    try:
        dst = ConvexCli(fresh, copy_app("components_app", tmp_path / "dst"))
        dst.deploy()
        # --replace: the counters' 1 s cron may already have written its row on the fresh
        # deployment, and a table holding documents refuses a plain import (as in Convex).
        imported = dst.run("import", "--replace", "-y", str(out))
        assert "Added" in imported.stdout + imported.stderr
        after = _all_documents(fresh)
        # Same ids, creation times and values in every component. The counter components'
        # 1 s cron keeps bumping their "cron" row on both deployments, so that row is left out.
        assert _without_cron_row(after) == _without_cron_row(before)
        fc = ConvexHttpClient(fresh.url)
        views = fc.query("app:fileViews", {"id": file_id})
        assert file_id in views["component"]
        assert httpx.get(views["url"], timeout=30).text == "bytes in a component"
        assert fc.query("app:values", {"name": "round"})["second"] == 6
        assert "round trip" in fc.query("app:ledger", {})["texts"]
        # Importing one table into a component with --component.
        rows = tmp_path / "rows.jsonl"
        rows.write_text('{"name": "jsonl", "value": 9}\n')
        dst.run(
            "import", "--component", "counter2", "--table", "counts", "--append", "-y", str(rows)
        )
        assert fc.query("app:values", {"name": "jsonl"})["second"] == 9
    finally:
        fresh.stop()


def test_streaming_export_names_each_component(deployed: tuple[ConvexCli, str]) -> None:
    server = deployed[0].server
    client(deployed).mutation("app:bumpSecond", {"name": "streamed", "by": 2})
    auth = {"Authorization": f"Convex {server.admin_key}"}
    schemas = httpx.get(
        f"{server.url}/api/json_schemas",
        params={"byComponent": "true", "deltaSchema": "true"},
        headers=auth,
        timeout=30,
    ).json()
    assert {"", "counter", "counter2", "ledger", "ledger/counter"} <= set(schemas)
    assert set(schemas["ledger"]) == {"entries"}
    assert schemas["counter2"]["counts"]["properties"]["_component"] == {"type": "string"}
    page = httpx.get(
        f"{server.url}/api/list_snapshot",
        params={"component": "counter2", "tableName": "counts"},
        headers=auth,
        timeout=30,
    ).json()
    streamed = [v for v in page["values"] if v["name"] == "streamed"]
    assert [(v["_component"], v["_table"], v["value"]) for v in streamed] == [
        ("counter2", "counts", 2)
    ]
    client(deployed).mutation("app:bumpSecond", {"name": "streamed", "by": 1})
    deltas = httpx.get(
        f"{server.url}/api/document_deltas",
        params={"cursor": page["snapshot"], "component": "counter2"},
        headers=auth,
        timeout=30,
    ).json()
    # The counter components' 1 s cron may bump its own row meanwhile: only ours is checked.
    ours = [v for v in deltas["values"] if v.get("name") == "streamed"]
    assert [(v["_component"], v["_table"], v["value"]) for v in ours] == [("counter2", "counts", 3)]


def test_cli_watches_a_component_query_over_the_sync_socket(
    deployed: tuple[ConvexCli, str],
) -> None:
    cli, _ = deployed
    client(deployed).mutation("app:bumpSecond", {"name": "watched", "by": 5})
    watch = cli.popen(
        "run", "--component", "counter2", "counts:get", '{"name": "watched"}', "--watch"
    )
    try:
        assert watch.stdout is not None
        first = watch.stdout.readline().strip()
        assert first == "5", first
        client(deployed).mutation("app:bumpSecond", {"name": "watched", "by": 1})
        assert watch.stdout.readline().strip() == "6"
    finally:
        watch.terminate()
        watch.wait(timeout=30)
