"""The data browser's page query: field filters, sort by any index, both orders, paging."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from dataplane.dashboard.filters import parse_filters
from dataplane.deploy.errors import DeployError
from tests.compat.conftest import ConvexCli, Server, copy_app

from .test_cli import _int64, call

pytestmark = pytest.mark.slow
PAGE = "_system/frontend/paginatedTableDocuments"


def page(server: Server, **args: Any) -> dict[str, Any]:
    opts = {"numItems": args.pop("num", 100), "cursor": args.pop("cursor", None)}
    return dict(call(server, "query", PAGE, {"table": "tasks", "paginationOpts": opts, **args}))


def test_filters_sort_and_paging(dataplane_server: Server, tmp_path: Path) -> None:
    ConvexCli(dataplane_server, copy_app("deploy_app", tmp_path / "app")).deploy()
    owners = ["cy", "al", "bo", "al", "cy", "al"]
    docs = [
        {"owner": o, "text": f"t{i}", "done": i % 2 == 0, "priority": _int64(i)}
        for i, o in enumerate(owners)
    ]
    r = httpx.post(
        f"{dataplane_server.url}/api/mutation",
        json={
            "path": "_system/frontend/addDocument",
            "args": {"table": "tasks", "documents": docs},
        },
        headers={"Authorization": f"Convex {dataplane_server.admin_key}"},
        timeout=60,
    )
    assert r.status_code == 200, r.text

    newest_first = [d["text"] for d in page(dataplane_server)["page"]]
    assert newest_first == ["t5", "t4", "t3", "t2", "t1", "t0"]
    oldest_first = [d["text"] for d in page(dataplane_server, order="asc")["page"]]
    assert oldest_first == newest_first[::-1]
    by_owner = [d["owner"] for d in page(dataplane_server, index="by_owner", order="asc")["page"]]
    assert by_owner == sorted(owners)

    als = [{"field": "owner", "op": "eq", "value": "al"}]
    assert {d["text"] for d in page(dataplane_server, filters=als)["page"]} == {"t1", "t3", "t5"}
    # Base64 JSON (the dashboard's encoding), a disabled clause, and Convex's value order.
    encoded = base64.b64encode(
        json.dumps(
            {
                "clauses": [
                    {"field": "owner", "op": "neq", "value": "al"},
                    {"field": "done", "op": "eq", "value": True},
                    {"field": "text", "op": "eq", "value": "nothing", "enabled": False},
                ]
            }
        ).encode()
    ).decode()
    assert {d["text"] for d in page(dataplane_server, filters=encoded)["page"]} == {
        "t0",
        "t2",
        "t4",
    }
    over_two = [{"field": "priority", "op": "gt", "value": _int64(2)}]
    assert {d["text"] for d in page(dataplane_server, filters=over_two)["page"]} == {
        "t3",
        "t4",
        "t5",
    }
    missing = [{"field": "nope", "op": "type", "value": "undefined"}]
    assert len(page(dataplane_server, filters=missing)["page"]) == 6

    # Paging a filtered scan: every match once, in order.
    seen, cursor = [], None
    while True:
        p = page(dataplane_server, filters=als, num=1, cursor=cursor)
        seen += [d["text"] for d in p["page"]]
        if p["isDone"]:
            break
        cursor = p["continueCursor"]
    assert seen == ["t5", "t3", "t1"]

    # Bad input is a clear error, not a crash.
    for bad, message in (
        ({"filters": [{"field": "owner", "op": "like", "value": "a"}]}, "op"),
        ({"index": "by_nothing"}, "by_nothing"),
        ({"order": "sideways"}, "order"),
    ):
        r = httpx.post(
            f"{dataplane_server.url}/api/query",
            json={
                "path": PAGE,
                "args": {
                    "table": "tasks",
                    "paginationOpts": {"numItems": 5, "cursor": None},
                    **bad,
                },
                "format": "json",
            },
            headers={"Authorization": f"Convex {dataplane_server.admin_key}"},
            timeout=30,
        )
        body = r.json()
        assert r.status_code == 400 and message in body["message"], body


def test_filter_parsing_errors() -> None:
    assert parse_filters(None) == [] and parse_filters("") == []
    assert parse_filters('[{"field": "n", "op": "eq", "value": 5}]')[0].value == 5.0  # float64
    for bad in (
        "not json",
        "{]",
        [{"op": "eq"}],
        [{"field": "a", "op": "type", "value": "x"}],
        [1],
    ):
        with pytest.raises(DeployError):
            parse_filters(bad)
    with pytest.raises(DeployError, match="at most"):
        parse_filters([{"field": "a", "op": "eq", "value": 1.0}] * 17)
