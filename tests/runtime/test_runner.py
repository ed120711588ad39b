"""Queries, mutations, actions and HTTP actions through FunctionRunner on a real database."""

from __future__ import annotations

import pytest

from dataplane.runtime import FunctionError, FunctionLog, FunctionRunner
from dataplane.transactions import CommitRecord, DocumentWrite


def send(runner: FunctionRunner, body: str, channel: str = "general", author: str = "ann") -> str:
    out = runner.run_mutation("messages:send", {"channel": channel, "author": author, "body": body})
    assert isinstance(out.value, str)
    return out.value


def test_mutation_then_query_round_trip(runner: FunctionRunner) -> None:
    first = send(runner, "hello")
    send(runner, "second")
    send(runner, "elsewhere", channel="random")
    out = runner.run_query("messages:list", {"channel": "general"})
    assert [d["body"] for d in out.value] == ["second", "hello"]
    assert out.value[1]["_id"] == first
    assert isinstance(out.value[0]["_creationTime"], float)
    assert [line.formatted() for line in out.logs] == ["[LOG] 'list' '#general' 2"]
    assert out.ts == runner.db.latest_ts()
    assert not out.read_set.is_empty()


def test_take_first_get_and_count(runner: FunctionRunner) -> None:
    ids = [send(runner, f"m{i}") for i in range(5)]
    took = runner.run_query("messages:list", {"channel": "general", "limit": 2.0}).value
    assert [d["body"] for d in took] == ["m4", "m3"]
    assert runner.run_query("messages:first", {}).value["body"] == "m0"
    assert runner.run_query("messages:get", {"id": ids[2]}).value["body"] == "m2"
    assert runner.run_query("messages:count", {}).value == 5.0


def test_index_range_with_filter(runner: FunctionRunner) -> None:
    a = send(runner, "a", author="zed")
    send(runner, "b", author="zed")
    send(runner, "c", author="amy")
    runner.run_mutation("messages:like", {"id": a})
    runner.run_mutation("messages:like", {"id": a})
    out = runner.run_query("messages:byAuthor", {"author": "zed", "minLikes": 1.0}).value
    assert [(d["body"], d["likes"]) for d in out] == [("a", 2.0)]


def test_collect_streams_many_documents(runner: FunctionRunner) -> None:
    for i in range(120):
        send(runner, f"n{i:03d}")
    out = runner.run_query("messages:list", {"channel": "general"}).value
    assert len(out) == 120
    assert out[0]["body"] == "n119" and out[-1]["body"] == "n000"


def test_pagination_walks_all_pages_with_stable_cursors(runner: FunctionRunner) -> None:
    for i in range(7):
        send(runner, f"p{i}")
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = runner.run_query(
            "messages:page",
            {"channel": "general", "paginationOpts": {"numItems": 3.0, "cursor": cursor}},
        ).value
        seen += [d["body"] for d in page["page"]]
        cursor = page["continueCursor"]
        if page["isDone"]:
            break
    assert seen == [f"p{i}" for i in range(7)]
    again = runner.run_query(
        "messages:page",
        {"channel": "general", "paginationOpts": {"numItems": 3.0, "cursor": cursor}},
    ).value
    assert again["page"] == [] and again["isDone"] is True


def test_patch_replace_delete_and_int64(runner: FunctionRunner) -> None:
    mid = send(runner, "orig")
    assert runner.run_mutation("messages:like", {"id": mid}).value == 1.0
    runner.run_mutation("messages:edit", {"id": mid, "body": "new"})
    doc = runner.run_query("messages:get", {"id": mid}).value
    assert doc["body"] == "new" and "likes" not in doc
    runner.run_mutation("messages:remove", {"id": mid})
    assert runner.run_query("messages:get", {"id": mid}).value is None
    assert runner.run_mutation("messages:bump", {"name": "c"}).value == 1
    assert runner.run_mutation("messages:bump", {"name": "c"}).value == 2


def test_convex_error_carries_data_and_rolls_back(runner: FunctionRunner) -> None:
    with pytest.raises(FunctionError) as info:
        runner.run_mutation("messages:send", {"channel": "g", "author": "a", "body": ""})
    assert info.value.data == {"code": "EMPTY", "message": "body must not be empty"}
    assert info.value.message.startswith("Uncaught ConvexError:")
    with pytest.raises(FunctionError, match="changed my mind") as thrown:
        runner.run_mutation("messages:sendThenFail", {"body": "x"})
    assert thrown.value.data is None
    assert runner.run_query("messages:count", {}).value == 0.0


def test_argument_and_return_validation(runner: FunctionRunner) -> None:
    with pytest.raises(FunctionError, match=r"ArgumentValidationError(.|\n)*Path: \.channel"):
        runner.run_query("messages:list", {"channel": 3.0})
    with pytest.raises(FunctionError, match="extra field `bogus`"):
        runner.run_query("messages:list", {"channel": "x", "bogus": 1.0})
    with pytest.raises(FunctionError, match="missing required field"):
        runner.run_mutation("messages:send", {"channel": "x", "author": "y"})
    with pytest.raises(FunctionError, match="ReturnsValidationError"):
        runner.run_query("messages:wrongReturn", {})
    with pytest.raises(FunctionError, match="not a valid ID for table messages"):
        runner.run_query("messages:get", {"id": "not-an-id"})


def test_function_lookup_errors(runner: FunctionRunner) -> None:
    with pytest.raises(FunctionError, match="Could not find public function for 'messages:nope'"):
        runner.run_query("messages:nope", {})
    with pytest.raises(FunctionError, match="as Query, but it is defined as Mutation"):
        runner.run_query("messages:send", {})
    with pytest.raises(FunctionError, match="Could not find public function"):
        runner.run_query("messages:secretCount", {})
    assert runner.run_query("messages:secretCount", {}, allow_internal=True).value == 0.0


def test_query_at_older_snapshot(runner: FunctionRunner) -> None:
    send(runner, "one")
    ts = runner.db.latest_ts()
    send(runner, "two")
    old = runner.run_query("messages:list", {"channel": "general"}, ts=ts)
    assert [d["body"] for d in old.value] == ["one"]
    assert old.ts == ts


def test_read_set_sees_relevant_commits_only(runner: FunctionRunner) -> None:
    out = runner.run_query("messages:list", {"channel": "general"})
    records: list[CommitRecord] = []
    runner.db.add_commit_listener(records.append)
    send(runner, "in other channel", channel="random")
    send(runner, "in general")
    assert [out.read_set.overlaps(r) for r in records] == [False, True]
    assert isinstance(records[1].writes[0], DocumentWrite)


def test_action_runs_queries_and_mutations(runner: FunctionRunner) -> None:
    send(runner, "hello")
    out = runner.run_action("messages:viaAction", {"channel": "general"})
    assert out.value["bodies"] == ["hello"]
    assert out.value["n"] == 2.0
    got = runner.run_query("messages:get", {"id": out.value["id"]}).value
    assert got["body"] == "from action"


def test_http_actions(runner: FunctionRunner) -> None:
    send(runner, "via http")
    res = runner.run_http_action("POST", "https://dep.example/echo?q=7", {"x": "1"}, b"payload")
    assert res.status == 201
    assert ("x-strata", "1") in res.headers
    assert res.body == b'{"got":"payload","method":"POST","q":"7"}'
    res = runner.run_http_action("GET", "https://dep.example/channel/general", [], None)
    assert res.status == 200 and res.body == b'["via http"]'
    res = runner.run_http_action("GET", "https://dep.example/missing", [], None)
    assert res.status == 404 and b"No HttpAction routed for /missing" in res.body


def test_log_listener_receives_executions(runner: FunctionRunner) -> None:
    seen: list[FunctionLog] = []
    runner.add_log_listener(seen.append)
    send(runner, "logged")
    with pytest.raises(FunctionError):
        runner.run_mutation("messages:sendThenFail", {"body": "x"})
    assert [(e.path, e.kind, e.success) for e in seen] == [
        ("messages:send", "mutation", True),
        ("messages:sendThenFail", "mutation", False),
    ]
    assert seen[0].lines[0].formatted() == "[INFO] 'sent' 'logged'"
    assert seen[1].error is not None and "changed my mind" in seen[1].error


def test_no_code_deployed_is_a_clear_error(deployment) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FunctionError, match="No functions are deployed"):
        deployment.runner.run_query("messages:list", {})


@pytest.mark.postgres
def test_same_app_on_postgres(tmp_path, postgres_url, messages_bundle, messages_analysis) -> None:  # type: ignore[no-untyped-def]
    from tests.runtime.conftest import activate, make_deployment

    dep = make_deployment(tmp_path, "pg-runtime", postgres_url)
    try:
        pg = activate(dep, messages_bundle, messages_analysis)
        for i in range(4):
            send(pg, f"pg{i}")
        page = pg.run_query(
            "messages:page",
            {"channel": "general", "paginationOpts": {"numItems": 3.0, "cursor": None}},
        ).value
        assert [d["body"] for d in page["page"]] == ["pg0", "pg1", "pg2"]
        out = pg.run_action("messages:viaAction", {"channel": "general"}).value
        assert out["n"] == 5.0
    finally:
        dep.close()


def test_run_query_inside_queries_and_mutations(runner: FunctionRunner) -> None:
    send(runner, "x")
    assert runner.run_query("messages:countViaRunQuery", {}).value == 10.0
    assert runner.run_mutation("messages:sendAndCount", {"body": "y"}).value == 2.0


def test_writes_are_checked_against_the_schema(runner: FunctionRunner) -> None:
    ok = {"channel": "c", "author": "a", "body": "b"}
    assert isinstance(runner.run_mutation("messages:insertRaw", {"doc": ok}).value, str)
    with pytest.raises(FunctionError, match=r"does not match the schema(.|\n)*Path: \.body"):
        runner.run_mutation("messages:insertRaw", {"doc": {"channel": "c", "author": "a"}})
    with pytest.raises(FunctionError, match="extra field `color`"):
        runner.run_mutation("messages:insertRaw", {"doc": {**ok, "color": "red"}})
    assert runner.run_query("messages:count", {}).value == 1.0


def test_concurrent_calls_share_the_warm_pool(runner: FunctionRunner) -> None:
    import threading

    send(runner, "shared")
    failures: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(15):
                if i % 5 == 0:
                    runner.run_mutation(
                        "messages:send", {"channel": f"t{n}", "author": "w", "body": str(i)}
                    )
                rows = runner.run_query("messages:list", {"channel": "general"}).value
                assert [d["body"] for d in rows] == ["shared"]
            runner.run_action("messages:viaAction", {"channel": f"t{n}"})
        except BaseException as e:
            failures.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert failures == []
    assert runner.run_query("messages:count", {}).value == 1.0 + 4 * 3 + 4


def test_stack_traces_point_at_the_typescript_source(runner: FunctionRunner) -> None:
    with pytest.raises(FunctionError) as info:
        runner.run_mutation("messages:sendThenFail", {"body": "x"})
    message = info.value.message
    assert message.startswith("Uncaught Error: changed my mind\n    at ")
    assert "../convex/messages.ts:" in message
    assert "strata:bundle.js" not in message.split("\n")[1]


def test_convex_error_data_crosses_nested_calls(runner: FunctionRunner) -> None:
    caught = runner.run_action("messages:sendViaAction", {"body": "", "rethrow": False}).value
    assert caught == {"caught": {"code": "EMPTY", "message": "body must not be empty"}}
    with pytest.raises(FunctionError) as info:
        runner.run_action("messages:sendViaAction", {"body": "", "rethrow": True})
    assert info.value.data == {"code": "EMPTY", "message": "body must not be empty"}
    ok = runner.run_action("messages:sendViaAction", {"body": "fine", "rethrow": True}).value
    assert isinstance(ok, str)


def test_run_mutation_inside_mutation_is_a_sub_transaction(runner: FunctionRunner) -> None:
    out = runner.run_mutation("messages:nestedMutations", {}).value
    assert out == {"caught": True, "bodies": ["kept"]}
    rows = runner.run_query("messages:first", {}).value
    assert rows["body"] == "kept"
    assert runner.run_query("messages:count", {}).value == 1.0


def test_nested_actions_do_not_deadlock_and_depth_is_capped(runner: FunctionRunner) -> None:
    send(runner, "one")
    assert runner.run_action("messages:recursiveAction", {"n": 5.0}).value == 11.0
    with pytest.raises(FunctionError, match="Too many nested function calls"):
        runner.run_action("messages:recursiveAction", {"n": 12.0})
    assert runner.run_action("messages:recursiveAction", {"n": 1.0}).value == 3.0


def test_reading_at_a_future_ts_is_a_function_error(runner: FunctionRunner) -> None:
    with pytest.raises(FunctionError, match="Cannot read at ts"):
        runner.run_query("messages:count", {}, ts=runner.db.latest_ts() + 10**12)


def test_request_too_big_to_preload_still_reaches_js(runner: FunctionRunner) -> None:
    """Requests above the preload buffer (64K UTF-16 units) travel through a syscall."""
    body = "é" * 100_000
    runner.run_mutation("messages:send", {"channel": "big", "author": "a", "body": body})
    small = runner.run_mutation("messages:send", {"channel": "big", "author": "a", "body": "s"})
    assert small.value_json is not None
    bodies = [d["body"] for d in runner.run_query("messages:list", {"channel": "big"}).value]
    assert sorted(bodies, key=len) == ["s", body]
