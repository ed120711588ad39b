"""`npx convex data`: the official CLI lists a deployment's tables and pages through a table's
documents with the `_system/cli/tables` and `_system/cli/tableData` system queries."""

from __future__ import annotations

import json

import pytest
from convex.http_client import ConvexHttpClient

from .conftest import ConvexCli

pytestmark = pytest.mark.slow


def test_convex_data_lists_tables_and_documents(convex_cli: ConvexCli) -> None:
    convex_cli.deploy()
    client = ConvexHttpClient(convex_cli.server.url)
    for text in ("first", "second", "third"):
        client.mutation("tasks:add", {"owner": "ann", "text": text})

    # Without a table: the user tables, sorted, one per line (no system tables).
    tables = convex_cli.run("data").stdout.split()
    assert "tasks" in tables
    assert not [t for t in tables if t.startswith("_")]

    # A table, newest first by default; --limit keeps the most recent and warns about the rest.
    out = convex_cli.run("data", "tasks", "--limit", "2", "--format", "jsonl")
    docs = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert [d["text"] for d in docs] == ["third", "second"]
    assert all(d["_id"] and d["_creationTime"] for d in docs)
    out = convex_cli.run("data", "tasks", "--limit", "2")  # as a table
    assert "third" in out.stdout and "first" not in out.stdout
    assert "Showing the 2 most recently created documents" in out.stderr

    # Oldest first with --order asc, everything when the limit covers the table.
    out = convex_cli.run("data", "tasks", "--order", "asc", "--format", "jsonl")
    docs = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert [d["text"] for d in docs] == ["first", "second", "third"]

    # A table without documents says so.
    out = convex_cli.run("data", "drafts")
    assert "There are no documents in this table." in out.stderr
