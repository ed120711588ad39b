"""Internal endpoints a deployment's committer serves to its read replicas (admin key only)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path

from dataplane.auth import AuthError
from dataplane.http.web import api_view, app_of, error_response, in_thread, json_response, read_json
from dataplane.replication.codec import decode_transaction
from dataplane.transactions import Database, DatabaseError, DuplicateRequest, OccConflict
from dataplane.transactions.catalog import IndexDefinition


def _for_committer(request: HttpRequest) -> tuple[Any, Database] | HttpResponse:
    """The admin-authenticated body and this process's Database, or the error response
    (401, or 503 when this process is not the committer)."""
    try:
        app_of(request).auth.require_admin(request.headers)
        body = read_json(request)
    except AuthError as exc:
        return error_response("Unauthorized", str(exc), 401)
    db = app_of(request).db
    if db.replica:
        return error_response("NotCommitter", "This process is not the committer", 503)
    return body, db


@api_view("POST")
async def commit(request: HttpRequest) -> HttpResponse:
    """Validate (OCC) and apply a replica's transaction; answers its commit ts."""
    checked = _for_committer(request)
    if isinstance(checked, HttpResponse):
        return checked
    body, db = checked

    def run() -> int:
        txn, token = decode_transaction(db, body)
        return db.commit_forwarded(txn, token)

    try:
        ts = await in_thread(request, run)
    except OccConflict as exc:
        return error_response("OccConflict", str(exc), 409)
    except DuplicateRequest as exc:
        return error_response("DuplicateRequest", exc.key, 409)
    except DatabaseError as exc:
        return error_response("BadCommit", str(exc), 400)
    return json_response({"ts": ts})


@api_view("POST")
async def schema(request: HttpRequest) -> HttpResponse:
    """Create a table or set a table's indexes for a replica; answers the resulting ts."""
    checked = _for_committer(request)
    if isinstance(checked, HttpResponse):
        return checked
    body, db = checked

    def run() -> int:
        if not isinstance(body, dict) or not isinstance(body.get("table"), str):
            raise DatabaseError("Expected {table, indexes?}")
        if body.get("indexes") is None:
            db.ensure_table(body["table"])
        else:
            defs = [IndexDefinition(str(n), [str(f) for f in fs]) for n, fs in body["indexes"]]
            db.set_indexes(body["table"], defs)
        return db.latest_ts()

    try:
        ts = await in_thread(request, run)
    except (DatabaseError, TypeError, ValueError) as exc:
        return error_response("BadSchemaChange", str(exc), 400)
    return json_response({"ts": ts})


urlpatterns = [
    path("api/_strata/replication/commit", commit),
    path("api/_strata/replication/schema", schema),
]
