"""How component instances' tables, ids and function references map into the deployment."""

from __future__ import annotations

import pytest

from dataplane.runtime.components import (
    NamespaceError,
    check_table_owner,
    instance_of,
    internal_table,
    module_prefix,
    resolve_name,
    scope_args,
)
from dataplane.transactions.catalog import validate_table_name


def test_instances_own_their_module_directories() -> None:
    assert module_prefix("") == ""
    assert module_prefix("ledger/counter") == "_components/ledger.counter/"
    assert instance_of("_components/ledger.counter/counts:add") == "ledger/counter"
    assert instance_of("counts:add") == ""


def test_references_resolve_relative_to_the_caller() -> None:
    ref = "_reference/childComponent/counter/dir/counts/add"
    assert resolve_name("", ref) == "_components/counter/dir/counts:add"
    assert resolve_name("ledger", ref) == "_components/ledger.counter/dir/counts:add"
    assert resolve_name("ledger", "entries:record") == "_components/ledger/entries:record"
    assert resolve_name("", "entries:record") == "entries:record"
    with pytest.raises(NamespaceError):
        resolve_name("", "_components/counter/counts:add")  # only through references


def test_table_names_are_scoped_and_cannot_escape() -> None:
    assert internal_table("", "messages") == "messages"
    assert internal_table("a/b", "messages") == "a/b/messages"
    assert internal_table("a", "_storage") == "a/_storage"
    assert internal_table("a", "_scheduled_functions") == "_scheduled_functions"
    with pytest.raises(NamespaceError):
        internal_table("", "a/messages")
    query = {"source": {"type": "IndexRange", "indexName": "messages.by_channel", "range": []}}
    scoped = scope_args("a", {"query": query, "table": "messages"})
    assert scoped["table"] == "a/messages"
    assert scoped["query"]["source"]["indexName"] == "a/messages.by_channel"
    with pytest.raises(NamespaceError):
        scope_args("", {"query": {"source": {"type": "FullTableScan", "tableName": "a/x"}}})
    validate_table_name("a/b/messages")
    validate_table_name("a/_storage")


def test_documents_of_other_namespaces_are_refused() -> None:
    check_table_owner("a", "a/messages")
    check_table_owner("", "messages")
    with pytest.raises(NamespaceError, match="component 'a'"):
        check_table_owner("", "a/messages")
    with pytest.raises(NamespaceError, match="the app"):
        check_table_owner("a", "messages")
    with pytest.raises(NamespaceError):
        check_table_owner("a", "a/b/messages")  # a child's tables are not the parent's
