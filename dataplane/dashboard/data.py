"""The `_system/frontend/*` and `_system/cli/*` functions behind the data browser, schema
view, snapshot pages and `npx convex export/import` progress. Admin-only; callers check.

Each takes (services, transaction, args); queries only read (so their read sets make them
reactive), mutations write into the transaction they are given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from ..deploy import store
from ..deploy.errors import DeployError
from ..exports import state
from ..exports.importer import SchemaCheck
from ..transactions import BY_CREATION_TIME, IndexNotFound
from ..values import UNDEFINED, ConvexValueError
from .components import component_schema, own_tables, scoped_table
from .filters import matches, parse_filters
from .services import DashboardServices

if TYPE_CHECKING:
    from ..transactions import Transaction

MAX_PAGE = 1000
MAX_FILTER_SCAN = 10_000  # documents one filtered page may examine before returning short
NEW_TABLE_WATCH = 64  # index ids past the newest whose first write re-runs getTableMapping


def table_mapping(svc: DashboardServices, txn: Transaction, args: dict[str, Any]) -> Any:
    """{table number: name} of every table, like Convex's getTableMapping.

    Tables are catalog entries, not documents; to update when a table gets its first
    document, watch the index ids the next tables will receive.
    """
    catalog = svc.db.catalog
    for index_id in range(catalog.next_index_id, catalog.next_index_id + NEW_TABLE_WATCH):
        txn.read_set.add_interval(index_id, b"", None)
    return {str(number): name for name, number in sorted(own_tables(svc).items())}


def _table_arg(svc: DashboardServices, args: dict[str, Any], key: str = "table") -> str:
    """The stored name of the table argument `key`, inside the call's component."""
    return scoped_table(svc, args.get(key), key)


def cli_tables(svc: DashboardServices, txn: Transaction, args: dict[str, Any]) -> Any:
    """`npx convex data`: the user tables as one page of `{name}` (system tables left out),
    in the `{page, isDone, continueCursor}` shape the CLI pages through."""
    table_mapping(svc, txn, args)  # the same read set: a new table re-runs the query
    names = sorted(name for name in own_tables(svc) if not name.startswith("_"))
    return {"page": [{"name": name} for name in names], "isDone": True, "continueCursor": ""}


def cli_table_data(svc: DashboardServices, txn: Transaction, args: dict[str, Any]) -> Any:
    """`npx convex data <table>`: a page of documents by creation time, `order` "asc" or
    "desc" (default, newest first). The CLI asks for up to 10000 at once; pages are capped
    at MAX_PAGE and it follows `continueCursor` for the rest."""
    return paginated_documents(svc, txn, args, clamp=True)


def paginated_documents(
    svc: DashboardServices,
    txn: Transaction,
    args: dict[str, Any],
    *,
    clamp: bool = False,
) -> Any:
    """A page of a table by its `index` (creation time by default), `order` "desc" (default,
    newest first) or "asc", keeping the documents that match `filters`:
    {page, isDone, continueCursor} (hex index-key cursor). `clamp` caps an oversized
    numItems at MAX_PAGE instead of refusing it."""
    table = _table_arg(svc, args)
    opts = args.get("paginationOpts")
    if not isinstance(opts, dict):
        raise DeployError("Expected `paginationOpts: {numItems, cursor}`")
    num = opts.get("numItems", 100)
    if clamp and isinstance(num, (int, float)) and num > MAX_PAGE:
        num = MAX_PAGE
    if not isinstance(num, (int, float)) or not 1 <= num <= MAX_PAGE:
        raise DeployError(f"paginationOpts.numItems must be between 1 and {MAX_PAGE}")
    cursor = opts.get("cursor")
    start_after = None
    if isinstance(cursor, str) and cursor:
        try:
            start_after = bytes.fromhex(cursor)
        except ValueError:
            raise DeployError(f"Invalid pagination cursor {cursor[:40]!r}") from None
    order = args.get("order", "desc")
    if order not in ("asc", "desc"):
        raise DeployError(f"Invalid order {order!r}: expected 'asc' or 'desc'")
    index = args.get("index") or BY_CREATION_TIME
    if not isinstance(index, str):
        raise DeployError("index: expected the name of one of the table's indexes")
    clauses = parse_filters(args.get("filters"))
    page: list[dict[str, Any]] = []
    last = start_after
    done = True
    scanned = 0
    try:
        scan = txn.index_scan_keyed(table, index, [], order, start_after=start_after)
        for key, doc in scan:
            if len(page) == int(num) or scanned == MAX_FILTER_SCAN:
                # A filter that matches little returns a short page; the cursor moves on.
                done = False
                break
            scanned += 1
            last = key
            if not clauses or matches(doc, clauses):
                page.append(doc)
    except IndexNotFound as e:
        raise DeployError(str(e)) from None
    return {"page": page, "isDone": done, "continueCursor": last.hex() if last else ""}


def schemas(svc: DashboardServices, txn: Transaction, args: dict[str, Any]) -> Any:
    """{active, inProgress}: the deployed schema as its JSON string (None without one)."""
    if store.CONFIG_TABLE not in svc.db.catalog.by_name:
        txn.read_set.add_missing_table(store.CONFIG_TABLE)
        return {"active": None, "inProgress": None}
    config = store.load_config(txn)
    schema = None if config is None else component_schema(config.schema, svc.component)
    return {"active": None if schema is None else orjson.dumps(schema).decode(), "inProgress": None}


def latest_export(svc: DashboardServices, txn: Transaction, args: dict[str, Any]) -> Any:
    return state.latest_export(txn)


def query_import(svc: DashboardServices, txn: Transaction, args: dict[str, Any]) -> Any:
    doc = state.get_import(txn, args.get("importId"))
    if doc is None:
        raise DeployError(f"No import with id {args.get('importId')!r}")
    return doc


def list_imports(svc: DashboardServices, txn: Transaction, args: dict[str, Any]) -> Any:
    return state.list_imports(txn)


def _user_table(table: str) -> str:
    if table.rpartition("/")[2].startswith("_"):
        raise DeployError(f"System table {table} cannot be edited from the dashboard")
    return table


def add_documents(svc: DashboardServices, txn: Transaction, args: dict[str, Any]) -> Any:
    """Insert `documents` into `table`, validated against the schema; returns their ids."""
    table = _user_table(_table_arg(svc, args))
    docs = args.get("documents")
    if not isinstance(docs, list) or not all(isinstance(d, dict) for d in docs):
        raise DeployError("Expected `documents` to be a list of objects")
    check = SchemaCheck(svc.code.schema())
    ids = []
    try:
        for doc in docs:
            doc_id = txn.insert(table, doc)
            check(table, txn.get(doc_id) or {})
            ids.append(doc_id)
    except ConvexValueError as exc:
        raise DeployError(str(exc)) from None
    return ids


def _own_id(txn: Transaction, table: str, doc_id: Any) -> str:
    if not isinstance(doc_id, str) or txn.normalize_id(table, doc_id) is None:
        raise DeployError(f"{doc_id!r} is not an id of table {table}")
    return doc_id


def patch_documents(svc: DashboardServices, txn: Transaction, args: dict[str, Any]) -> Any:
    """Shallow-merge `fields` into each of `ids` in `table`, validated against the schema.

    Clients drop `undefined` from arguments, so the console names fields to delete in the
    optional `removeFields: [name, ...]` (a Strata extension).
    """
    table = _user_table(_table_arg(svc, args))
    ids, fields = args.get("ids"), args.get("fields")
    if not isinstance(ids, list) or not isinstance(fields, dict):
        raise DeployError("Expected {table, ids: [...], fields: {...}}")
    remove = args.get("removeFields", [])
    if not isinstance(remove, list) or not all(isinstance(k, str) for k in remove):
        raise DeployError("Expected `removeFields` to be a list of field names")
    fields = {**{k: UNDEFINED for k in remove}, **fields}
    check = SchemaCheck(svc.code.schema())
    try:
        for doc_id in ids:
            txn.patch(_own_id(txn, table, doc_id), fields)
            check(table, txn.get(doc_id) or {})
    except ConvexValueError as exc:
        raise DeployError(str(exc)) from None
    return None


def delete_documents(svc: DashboardServices, txn: Transaction, args: dict[str, Any]) -> Any:
    """Delete `toDelete: [{id, tableName}]`."""
    items = args.get("toDelete")
    if not isinstance(items, list):
        raise DeployError("Expected `toDelete: [{id, tableName}]`")
    for item in items:
        if not isinstance(item, dict):
            raise DeployError("Expected `toDelete: [{id, tableName}]`")
        table = _user_table(_table_arg(svc, item, "tableName"))
        txn.delete(_own_id(txn, table, item.get("id")))
    return None
