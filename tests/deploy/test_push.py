"""The push state machine against a real database and the real V8 runtime."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataplane.app import DeploymentApp
from dataplane.deploy import store
from dataplane.deploy.errors import DeployError, PushNotFound, PushRaced
from dataplane.deploy.push import PushManager
from dataplane.runtime import FunctionError

from .conftest import app_variant, make_deployment, push_request


def deploy(manager: PushManager, request: dict) -> tuple[dict, dict]:
    start = manager.start_push(request)
    status = manager.wait_for_schema({"schemaChange": start["schemaChange"], "timeoutMs": 30_000})
    assert status == {"type": "complete"}, status
    diff = manager.finish_push({"startPush": start, "dryRun": False})
    return start, diff


def test_push_analyses_then_activates_atomically(deployment: DeploymentApp) -> None:
    manager = deployment.pushes
    start = manager.start_push(push_request())

    functions = start["analysis"][""]["functions"]["tasks.js"]["functions"]
    by_name = {f["name"]: f for f in functions}
    assert by_name["list"]["udfType"] == "Query"
    assert by_name["list"]["visibility"] == {"kind": "public"}
    assert by_name["countAll"]["visibility"] == {"kind": "internal"}
    assert by_name["addNote"]["udfType"] == "Mutation"
    assert by_name["report"]["udfType"] == "Action"
    assert '"owner"' in by_name["list"]["args"]
    routes = start["app"]["httpRoutes"]["httpModuleRoutes"]
    assert {"method": "GET", "path": "/hello"} in routes
    assert start["appAuth"] == [{"domain": "https://issuer.example.com", "applicationID": "convex"}]
    added = {
        i["name"]: i["fields"] for i in start["schemaChange"]["indexDiffs"][""]["added_indexes"]
    }
    assert added == {"tasks.by_owner": ["owner"], "tasks.by_owner_done": ["owner", "done"]}

    # Nothing is live before finish_push.
    assert deployment.runner.analysis is None
    assert store.load_config(deployment.db.begin()) is None

    status = manager.wait_for_schema({"schemaChange": start["schemaChange"], "timeoutMs": 30_000})
    assert status == {"type": "complete"}
    diff = manager.finish_push({"startPush": start, "dryRun": False})

    root = diff["componentDiffs"][""]
    assert "tasks.js" in root["moduleDiff"]["added"]
    assert root["diffType"] == {"type": "create"}
    assert diff["authDiff"]["added"] == ["https://issuer.example.com"]
    assert root["cronDiff"]["added"] == ["daily note"]
    assert "daily note" in start["analysis"][""]["functions"]["crons.js"]["cronSpecs"]
    assert {i.name for i in deployment.db.indexes("tasks")} == {"by_owner", "by_owner_done"}

    runner = deployment.runner
    runner.run_mutation("tasks:add", {"owner": "ann", "text": "write tests"})
    listed = runner.run_query("tasks:list", {"owner": "ann"}).value
    assert listed == [{"text": "write tests", "done": False, "priority": None}]
    report = runner.run_action("tasks:report", {"owner": "ann"}).value
    assert report == {"mine": 1.0, "total": 1.0, "written": float(len("ann has 1 of 1 tasks"))}


def test_unchanged_modules_are_reused_by_hash(deployment: DeploymentApp) -> None:
    manager = deployment.pushes
    first = push_request()
    deploy(manager, first)
    rows = store.module_rows(deployment.db.begin())
    by_path = {m["path"]: m for m in first["appDefinition"]["changedModules"]}
    assert {r["path"] for r in rows} == {*by_path, "schema.js"}
    for r in rows:
        if r["path"] in by_path:
            m = by_path[r["path"]]
            assert r["sha256"] == store.module_hash(m["source"], m["sourceMap"])

    second = push_request()
    second["appDefinition"]["unchangedModuleHashes"] = [
        {"path": r["path"], "environment": r["env"], "sha256": r["sha256"]}
        for r in rows
        if r["path"] != "schema.js"
    ]
    second["appDefinition"]["changedModules"] = []
    _, diff = deploy(manager, second)
    assert diff["componentDiffs"][""]["moduleDiff"] == {"added": [], "removed": []}
    assert deployment.runner.run_query("tasks:open", {"owner": "x"}).value == []

    bogus = push_request()
    bogus["appDefinition"]["unchangedModuleHashes"] = [
        {"path": "tasks.js", "environment": "isolate", "sha256": "0" * 64}
    ]
    bogus["appDefinition"]["changedModules"] = [
        m for m in bogus["appDefinition"]["changedModules"] if m["path"] != "tasks.js"
    ]
    with pytest.raises(DeployError, match="sent as unchanged"):
        manager.start_push(bogus)


BAD_SCHEMA = """
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
export default defineSchema({
  tasks: defineTable({ owner: v.string(), text: v.number(), done: v.boolean(),
                       priority: v.optional(v.int64()) }).index("by_owner", ["owner"]),
  notes: defineTable({ body: v.string() }),
});
"""


def test_schema_violation_fails_push_and_keeps_old_code(
    deployment: DeploymentApp, tmp_path: Path
) -> None:
    manager = deployment.pushes
    deploy(manager, push_request())
    deployment.runner.run_mutation("tasks:add", {"owner": "ann", "text": "a string"})
    active_before = store.load_config(deployment.db.begin())
    assert active_before is not None

    start = manager.start_push(
        push_request(app_variant(tmp_path, "bad", {"schema.ts": BAD_SCHEMA}))
    )
    status = manager.wait_for_schema({"schemaChange": start["schemaChange"], "timeoutMs": 30_000})
    assert status["type"] == "failed"
    assert status["tableName"] == "tasks"
    assert "does not match the schema" in status["error"]
    with pytest.raises(DeployError, match="Schema validation failed"):
        manager.finish_push({"startPush": start, "dryRun": False})

    after = store.load_config(deployment.db.begin())
    assert after is not None and after.push_id == active_before.push_id
    assert {i.name for i in deployment.db.indexes("tasks")} == {"by_owner", "by_owner_done"}
    assert deployment.runner.run_query("tasks:open", {"owner": "ann"}).value == ["a string"]


FEWER_INDEXES = """
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
export default defineSchema({
  tasks: defineTable({ owner: v.string(), text: v.string(), done: v.boolean(),
                       priority: v.optional(v.int64()) })
    .index("by_owner", ["owner"])
    .index("by_text", ["text"]),
  notes: defineTable({ body: v.string() }),
});
"""


def test_index_changes_backfill_and_drop(deployment: DeploymentApp, tmp_path: Path) -> None:
    manager = deployment.pushes
    deploy(manager, push_request())
    for text in ("b", "a", "c"):
        deployment.runner.run_mutation("tasks:add", {"owner": "ann", "text": text})
    convex_dir = app_variant(tmp_path, "fewer", {"schema.ts": FEWER_INDEXES, "tasks.ts": TASKS_V2})
    start, _ = deploy(manager, push_request(convex_dir))
    diff = start["schemaChange"]["indexDiffs"][""]
    assert [i["name"] for i in diff["added_indexes"]] == ["tasks.by_text"]
    assert [i["name"] for i in diff["removed_indexes"]] == ["tasks.by_owner_done"]
    assert {i.name for i in deployment.db.indexes("tasks")} == {"by_owner", "by_text"}
    # The backfilled index serves queries over documents written before it existed.
    assert deployment.runner.run_query("tasks:sorted", {}).value == ["a", "b", "c"]
    with pytest.raises(FunctionError, match="open"):
        deployment.runner.run_query("tasks:open", {"owner": "ann"})


TASKS_V2 = """
import { query } from "./_generated/server";
export const sorted = query({
  args: {},
  handler: async (ctx) =>
    (await ctx.db.query("tasks").withIndex("by_text").collect()).map((t) => t.text),
});
"""


def test_evaluate_schema_predicts_index_changes(deployment: DeploymentApp, tmp_path: Path) -> None:
    manager = deployment.pushes
    deploy(manager, push_request())
    for text in ("a", "b"):
        deployment.runner.run_mutation("tasks:add", {"owner": "o", "text": text})
    convex_dir = app_variant(tmp_path, "fewer", {"schema.ts": FEWER_INDEXES, "tasks.ts": TASKS_V2})
    evaluation = manager.evaluate_schema(push_request(convex_dir))
    root = evaluation["componentSchemaEvaluations"][""]
    changes = {i["name"]: (i["change"], i["numDocs"], i["needsBackfill"]) for i in root["indexes"]}
    assert changes == {
        "tasks.by_text": ("added", 2, True),
        "tasks.by_owner_done": ("dropped", 2, False),
        "tasks.by_owner": ("identical", 2, False),
    }
    assert {t["name"]: t["numDocs"] for t in root["tables"]} == {"tasks": 2, "notes": 0}
    assert store.load_config(deployment.db.begin()) is not None  # nothing was changed
    assert {i.name for i in deployment.db.indexes("tasks")} == {"by_owner", "by_owner_done"}


def test_concurrent_push_is_detected(deployment: DeploymentApp) -> None:
    manager = deployment.pushes
    first = manager.start_push(push_request())
    second = manager.start_push(push_request())
    manager.wait_for_schema({"schemaChange": first["schemaChange"], "timeoutMs": 30_000})
    manager.finish_push({"startPush": first, "dryRun": False})
    status = manager.wait_for_schema({"schemaChange": second["schemaChange"], "timeoutMs": 30_000})
    assert status == {"type": "raceDetected"}
    with pytest.raises(PushRaced):
        manager.finish_push({"startPush": second, "dryRun": False})


def test_unknown_push_and_bad_requests(deployment: DeploymentApp) -> None:
    manager = deployment.pushes
    with pytest.raises(PushNotFound):
        manager.wait_for_schema({"schemaChange": {"schemaIds": {"": "nope"}}})
    with pytest.raises(DeployError, match="appDefinition"):
        manager.start_push({"functions": "convex/"})
    with pytest.raises(DeployError, match="Components"):
        manager.start_push(push_request(componentDefinitions=[{"definitionPath": "x"}]))
    request = push_request()
    request["appDefinition"]["changedModules"].append(
        {
            "path": "broken.js",
            "source": "throw new Error('top-level boom');",
            "environment": "isolate",
        }
    )
    with pytest.raises(DeployError, match="top-level boom"):
        manager.start_push(request)
    request = push_request()
    request["appDefinition"]["changedModules"].append(
        {
            "path": "nodey.js",
            "source": "export const q = { isQuery: true, exportArgs: () => '{}' };",
            "environment": "node",
        }
    )
    with pytest.raises(DeployError, match=r"nodey\.js:q is a query, but \"use node\" files"):
        manager.start_push(request)
    request = push_request()
    request["appDefinition"]["changedModules"].append(
        {"path": "../escape.js", "source": "export const x = 1;", "environment": "isolate"}
    )
    with pytest.raises(DeployError, match="Invalid module path"):
        manager.start_push(request)


def test_dry_run_changes_nothing(deployment: DeploymentApp) -> None:
    manager = deployment.pushes
    start = manager.start_push(push_request(dryRun=True))
    manager.wait_for_schema({"schemaChange": start["schemaChange"], "timeoutMs": 30_000})
    diff = manager.finish_push({"startPush": start, "dryRun": True})
    assert "tasks.js" in diff["componentDiffs"][""]["moduleDiff"]["added"]
    assert store.load_config(deployment.db.begin()) is None
    assert deployment.db.indexes("tasks") == []
    assert deployment.runner.analysis is None


def test_restart_restores_active_code(tmp_path: Path, any_db_url: str) -> None:
    first = make_deployment(tmp_path, any_db_url)
    try:
        deploy(first.pushes, push_request())
        first.runner.run_mutation("tasks:add", {"owner": "bo", "text": "persist"})
    finally:
        first.close()
    second = make_deployment(tmp_path, any_db_url)
    try:
        active = second.code.current()
        assert active is not None
        assert active.app.function("tasks:list") is not None
        assert second.runner.run_query("tasks:open", {"owner": "bo"}).value == ["persist"]
    finally:
        second.close()


_SITE_AUTH_CONFIG = """
export default {
  providers: [{ domain: process.env.CONVEX_SITE_URL, applicationID: "convex" }],
};
"""
_BUILTIN_ENV_MODULE = """
import { query } from "./_generated/server";
// Read while the module loads (push-time analysis included), and again when called.
const atLoad = { site: process.env.CONVEX_SITE_URL, cloud: process.env.CONVEX_CLOUD_URL };
export const urls = query({
  args: {},
  handler: async () => ({
    atLoad,
    site: process.env.CONVEX_SITE_URL ?? null,
    cloud: process.env.CONVEX_CLOUD_URL ?? null,
  }),
});
"""


def test_builtin_urls_are_set_at_push_time_and_run_time(tmp_path: Path) -> None:
    # Convex provides CONVEX_SITE_URL / CONVEX_CLOUD_URL to every deployment: Convex Auth's
    # auth.config.ts names `process.env.CONVEX_SITE_URL` as its issuer and is evaluated at push.
    app = app_variant(
        tmp_path, "site-url", {"auth.config.ts": _SITE_AUTH_CONFIG, "urls.ts": _BUILTIN_ENV_MODULE}
    )
    site, cloud = "http://127.0.0.1:3210/http", "http://127.0.0.1:3210"
    expected = {"atLoad": {"site": site, "cloud": cloud}, "site": site, "cloud": cloud}
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    first = make_deployment(tmp_path, url)
    try:
        start, diff = deploy(first.pushes, push_request(app))
        assert start["appAuth"] == [{"domain": site, "applicationID": "convex"}]
        assert diff["authDiff"]["added"] == [site]
        assert first.runner.run_query("urls:urls", {}).value == expected
    finally:
        first.close()
    second = make_deployment(tmp_path, url)  # a restart re-analyses the stored code
    try:
        assert second.code.current() is not None
        assert second.runner.run_query("urls:urls", {}).value == expected
    finally:
        second.close()
