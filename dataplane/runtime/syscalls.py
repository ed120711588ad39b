"""The syscalls convex/server 1.48 makes, served from the caller's Transaction.

Queries get a read-only view; mutations may write. Every database error becomes a
SyscallFailure whose message user code sees as a thrown Error. ctx.scheduler is served by
dataplane.scheduler.syscalls; ctx.storage by dataplane.files and `.withSearchIndex` queries by
dataplane.search (see host_services.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson

from ..scheduler import syscalls as scheduler_syscalls
from ..scheduler.jobs import MAX_SCHEDULED_PER_CALL, ScheduleError
from ..transactions import DatabaseError, Transaction
from ..values import ConvexValueError, from_json, to_json
from .errorformat import TEST_SYSCALL_FAILURES, SystemFailure, staged_index_message
from .handles import FunctionHandleError, address_path, create_handle
from .host_services import STORAGE_OPS, VECTOR_SEARCH_OP, search_documents, storage_in_transaction
from .isolate import SyscallFailure
from .jwt_signing import SignJwtError, sign_jwt
from .outcomes import FunctionError
from .queries import (
    open_search_stream,
    open_stream,
    query_page,
    search_limit_hint,
    search_page,
    search_source,
)

if TYPE_CHECKING:
    from .runner import CallContext

# getServiceToken/getServiceUrl (convex/server 1.48) reach Convex-managed services such as
# "ai-gateway", which a self-hosted deployment does not have.
_NOT_YET = {
    "1.0/createServiceToken": "getServiceToken",
    "1.0/getServiceUrl": "getServiceUrl",
}

_WRITE_OPS = {"1.0/insert", "1.0/shallowMerge", "1.0/replace", "1.0/remove"}


class _Raw:
    """A syscall reply that is already the exact text to send (not JSON-encoded again)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _doc_json(doc: dict[str, Any] | None) -> Any:
    return None if doc is None else to_json(doc)


class CommonSyscalls:
    """Syscalls every function kind shares (identity, metadata, unsupported features)."""

    def __init__(self, call: CallContext) -> None:
        self.call = call

    def scheduler(self, op: str, args: dict[str, Any]) -> Any:
        """ctx.scheduler from an action (mutations override this to use their transaction)."""
        try:
            return scheduler_syscalls.handle_action(self.call, op, args)
        except ScheduleError as e:
            raise SyscallFailure(str(e)) from None

    def common(self, op: str, args: dict[str, Any]) -> Any:
        if op == "1.0/getUserIdentity":
            identity = self.call.identity
            user = getattr(identity, "user", None) if identity is not None else None
            return None if user is None else dict(user)
        if op == "1.0/getFunctionMetadata":
            return {"name": self.call.path, "componentPath": ""}
        if op == "1.0/getDeploymentMetadata":
            return {"name": self.call.deployment_name, "region": None, "class": "s16"}
        if op == "1.0/getRequestMetadata":
            return {
                "ip": None,
                "userAgent": None,
                "requestId": self.call.request_id,
                "scheduledFunctionId": None,
                "authToken": None,
            }
        if op == "1.0/auditLog":
            return None
        if op == "1.0/createFunctionHandle":
            try:
                return create_handle(self.call.runner.analysis, args)
            except FunctionHandleError as e:
                raise SyscallFailure(str(e)) from None
        if op in scheduler_syscalls.OPS:
            return self.scheduler(op, args)
        if op == "1.0/signJwt":
            raise SyscallFailure("ctx.auth.signJwt is only available in mutations")
        if op == VECTOR_SEARCH_OP:
            raise SyscallFailure("ctx.vectorSearch is only available in actions")
        if op in TEST_SYSCALL_FAILURES:
            code, message = TEST_SYSCALL_FAILURES[op]
            self.call.system_failure = SystemFailure(code, message)
            raise SyscallFailure(f"{code}: {message}")
        if op in _NOT_YET:
            service = args.get("service")
            raise SyscallFailure(
                f"{_NOT_YET[op]}({service!r}): Convex-managed services are not available on "
                "this self-hosted deployment"
            )
        raise SyscallFailure(f"Unknown operation {op}")


class DatabaseSyscalls(CommonSyscalls):
    """Serves one query or mutation's syscalls from its Transaction."""

    def __init__(
        self,
        call: CallContext,
        txn: Transaction,
        writable: bool,
        journal_end: str | None = None,
    ) -> None:
        super().__init__(call)
        self.txn = txn
        self.writable = writable
        self._streams: dict[int, Iterator[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self.syscalls = 0
        self.scheduled = 0
        # Stable reactive pagination: the first paginate() of a subscribed query re-runs with
        # the end cursor its first run reached, so its page grows or shrinks in place.
        self.journal_end = journal_end
        self.paged_end: str | None = None
        self._paged = False

    def syscall(self, op: str, raw_args: str) -> str:
        self.syscalls += 1
        try:
            args = orjson.loads(raw_args) if raw_args else {}
            if not isinstance(args, dict):
                raise SyscallFailure(f"Invalid arguments for {op}")
            result = self._handle(op, args)
            return result.text if isinstance(result, _Raw) else dumps(result)
        except SyscallFailure as e:
            staged = staged_index_message(self.call.active.analysis.schema, e.message)
            if staged is None:
                raise
            raise SyscallFailure(staged, e.data) from None
        except (DatabaseError, ConvexValueError) as e:
            raise SyscallFailure(str(e)) from None
        except orjson.JSONDecodeError as e:
            raise SyscallFailure(f"Invalid arguments for {op}: {e}") from None

    def start(self, op: str, args: str) -> str:
        raise SyscallFailure(f"{op} is only available in actions")

    def completions(self) -> list[tuple[str, bool, str]]:
        return []

    def attach(self, wake: Any) -> None:
        """Queries and mutations start no host work, so they never need waking."""

    def has_pending(self) -> bool:
        return False

    def _require_write(self, op: str) -> None:
        if not self.writable:
            raise SyscallFailure(
                f"Write operation {op} is not allowed in a query: use a mutation to write"
            )

    def _check_table(self, table: Any, op: str) -> str:
        if not isinstance(table, str) or not table:
            raise SyscallFailure(f"{op} needs a table name")
        if table.startswith("_"):
            raise SyscallFailure(f"System tables (prefixed with `_`) are read-only: {table}")
        return table

    def _check_id_table(self, doc_id: str, table: Any) -> None:
        if table is not None and self.txn.normalize_id(str(table), doc_id) is None:
            raise SyscallFailure(f"Invalid argument `id` for table {table}: {doc_id}")

    def _handle(self, op: str, a: dict[str, Any]) -> Any:
        txn = self.txn
        if op in _WRITE_OPS:
            self._require_write(op)
        if op == "1.0/get":
            doc_id = a.get("id")
            if not isinstance(doc_id, str):
                raise SyscallFailure("db.get needs a document id string")
            self._check_id_table(doc_id, a.get("table"))
            table = txn.table_for_id(doc_id)
            if table is not None and table.startswith("_") and not a.get("isSystem"):
                raise SyscallFailure(f"Use ctx.db.system.get to read system table {table}")
            if table is not None and not table.startswith("_") and a.get("isSystem"):
                raise SyscallFailure(f"ctx.db.system.get reads system tables; {table} is not one")
            return _doc_json(txn.get(doc_id))
        if op == "1.0/queryStream":
            query = a.get("query")
            if not isinstance(query, dict):
                raise SyscallFailure("Invalid query")
            qid = next(self._ids)
            search = search_source(query)
            if search is None:
                self._streams[qid] = open_stream(txn, query)
            else:
                docs = search_documents(self.call, txn, search, search_limit_hint(query, 1024))
                self._streams[qid] = open_search_stream(docs, query)
            return {"queryId": qid}
        if op == "strata/queryStreamNextBatch" or op == "1.0/queryStreamNext":
            stream_id = a.get("queryId")
            stream = self._streams.get(stream_id) if isinstance(stream_id, int) else None
            if stream is None:
                raise SyscallFailure(f"Query {stream_id} is not open")
            n = max(1, min(int(a.get("n", 1)), 1024))
            values = [to_json(d) for d in itertools.islice(stream, n)]
            done = len(values) < n
            if done:
                self._streams.pop(stream_id, None)  # type: ignore[arg-type]
            if op == "1.0/queryStreamNext":
                return {"value": values[0] if values else None, "done": not values}
            return _Raw("\n".join(["1" if done else "0", *(dumps(v) for v in values)]))
        if op == "1.0/queryCleanup":
            return self._streams.pop(a.get("queryId"), None) is not None  # type: ignore[arg-type]
        if op == "1.0/queryPage":
            first_page = not self._paged
            self._paged = True
            if first_page and self.journal_end is not None and a.get("endCursor") is None:
                a = {**a, "endCursor": self.journal_end}
            search = search_source(a.get("query"))
            if search is None:
                result = query_page(txn, a)
            else:
                result = search_page(search_documents(self.call, txn, search, 1024), a)
            result["page"] = [to_json(d) for d in result["page"]]
            if first_page:
                self.paged_end = str(result["continueCursor"])
            return result
        if op == "1.0/count":
            return float(txn.count(str(a.get("table"))))
        if op == "1.0/db/normalizeId":
            table, id_string = a.get("table"), a.get("idString")
            if not isinstance(table, str) or not isinstance(id_string, str):
                raise SyscallFailure("normalizeId needs a table and an id string")
            return {"id": txn.normalize_id(table, id_string)}
        if op == "1.0/getSnapshotTs":
            return to_json(txn.snapshot_ts)
        if op == "1.0/insert":
            table = self._check_table(a.get("table"), "db.insert")
            value = from_json(a.get("value"))
            if not isinstance(value, dict):
                raise SyscallFailure("db.insert needs an object")
            self.call.check_document(table, value)
            return {"_id": txn.insert(table, value)}
        if op == "1.0/shallowMerge":
            doc_id = self._write_target(a)
            fields = from_json(a.get("value"))
            if not isinstance(fields, dict):
                raise SyscallFailure("db.patch needs an object")
            txn.patch(doc_id, fields)
            self._check_written(doc_id)
            return None
        if op == "1.0/replace":
            doc_id = self._write_target(a)
            value = from_json(a.get("value"))
            if not isinstance(value, dict):
                raise SyscallFailure("db.replace needs an object")
            txn.replace(doc_id, value)
            self._check_written(doc_id)
            return None
        if op == "1.0/remove":
            doc_id = self._write_target(a)
            txn.delete(doc_id)
            return None
        if op == "1.0/runUdf":
            udf_type = a.get("udfType")
            try:
                name = address_path(self.call.runner.analysis, a)
            except FunctionHandleError as e:
                raise SyscallFailure(str(e)) from None
            if name is None:
                raise SyscallFailure("ctx.runQuery/runMutation needs a function reference")
            args = from_json(a.get("args", {}))
            if not isinstance(args, dict):
                raise SyscallFailure("ctx.runQuery/runMutation arguments must be an object")
            call = self.call
            try:
                if udf_type in ("query", "snapshotQuery"):
                    return call.runner.run_query_in_transaction(
                        name, args, call.identity, txn, call.depth + 1
                    )
                if udf_type == "mutation":
                    if not self.writable:
                        raise SyscallFailure("ctx.runMutation cannot be called from a query")
                    return call.runner.run_mutation_in_transaction(
                        name, args, call.identity, txn, call.depth + 1
                    )
                raise SyscallFailure(f"Unknown udfType {udf_type!r} for ctx.run*")
            except FunctionError as e:
                from .actions import nested_error

                info = nested_error(e)
                raise SyscallFailure(info["message"], info["data"]) from None
        if op == "1.0/getTransactionMetrics":
            return {
                "bytesRead": {"used": txn.bytes_read, "remaining": None},
                "bytesWritten": {"used": txn.bytes_written, "remaining": None},
                "databaseQueries": {"used": txn.ranges_read, "remaining": None},
                "documentsRead": {"used": txn.documents_read, "remaining": None},
                "documentsWritten": {"used": txn.documents_written, "remaining": None},
                "functionsScheduled": {"used": self.scheduled, "remaining": None},
                "scheduledFunctionArgsBytes": {"used": 0, "remaining": None},
            }
        if op == "1.0/signJwt" and self.writable:
            return self._sign_jwt(a)
        if op in STORAGE_OPS:
            return storage_in_transaction(self.call, txn, op, a, self.writable)
        return self.common(op, a)

    def scheduler(self, op: str, args: dict[str, Any]) -> Any:
        """ctx.scheduler in a mutation: written in this transaction, so rollback unschedules."""
        if not self.writable:
            raise SyscallFailure("ctx.scheduler is only available in mutations and actions")
        if op.startswith("1.0/actions/"):
            raise SyscallFailure(f"{op} is only available in actions")
        self.scheduled += 1
        if self.scheduled > MAX_SCHEDULED_PER_CALL:
            raise SyscallFailure(
                f"Too many functions scheduled by one function (limit {MAX_SCHEDULED_PER_CALL})"
            )
        try:
            if op == "1.0/schedule":
                return scheduler_syscalls.schedule_in(self.call, self.txn, args)
            scheduler_syscalls.cancel_in(self.txn, args)
            return None
        except ScheduleError as e:
            raise SyscallFailure(str(e)) from None

    def _sign_jwt(self, a: dict[str, Any]) -> str:
        deployment = self.call.runner.deployment
        if deployment is None:
            raise SyscallFailure("ctx.auth.signJwt needs a deployment")
        config = deployment.config
        try:
            return sign_jwt(config.instance_secret, config.public_url, a)
        except SignJwtError as e:
            raise SyscallFailure(str(e)) from None

    def _write_target(self, a: dict[str, Any]) -> str:
        doc_id = a.get("id")
        if not isinstance(doc_id, str):
            raise SyscallFailure("A document id string is required")
        self._check_id_table(doc_id, a.get("table"))
        table = self.txn.table_for_id(doc_id)
        if table is not None and table.startswith("_"):
            raise SyscallFailure(f"System tables (prefixed with `_`) are read-only: {table}")
        return doc_id

    def _check_written(self, doc_id: str) -> None:
        table = self.txn.table_for_id(doc_id)
        doc = self.txn.get(doc_id)
        if table is not None and doc is not None:
            self.call.check_document(table, doc)
