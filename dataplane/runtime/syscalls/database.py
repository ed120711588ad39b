"""DatabaseSyscalls: serves one query's or mutation's syscalls from its Transaction.

Queries get a read-only view; mutations may write. Each operation has one handler in a table
(documents.py, queries.py, nested.py, common.py); storage and scheduling go to their services.
Every database error becomes a SyscallFailure whose message user code sees as a thrown Error.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson

from ...scheduled.jobs import MAX_SCHEDULED_PER_CALL, SCHEDULED, ScheduleError
from ...transactions import DatabaseError, Transaction
from ...values import ConvexValueError
from .. import scheduling
from ..components import NamespaceError, check_table_owner, scope_args, user_table
from ..errorformat import staged_index_message
from ..host_services import STORAGE_OPS, storage_in_transaction
from ..isolate import SyscallFailure
from ..jwt_signing import SignJwtError
from .base import Handler, Raw, dumps
from .common import CommonSyscalls
from .documents import DOCUMENT_OPS, WRITE_OPS
from .nested import NESTED_OPS
from .queries import QUERY_OPS

if TYPE_CHECKING:
    from ..runner import CallContext


def _sign_jwt(host: DatabaseSyscalls, a: dict[str, Any]) -> Any:
    if not host.writable:
        return host.common("1.0/signJwt", a)  # refused with the shared message
    signer = host.call.runner.signer
    if signer is None:
        raise SyscallFailure("ctx.auth.signJwt needs a deployment")
    try:
        return signer.sign(a)
    except SignJwtError as e:
        raise SyscallFailure(str(e)) from None


DATABASE_OPS: dict[str, Handler[DatabaseSyscalls]] = {
    **DOCUMENT_OPS,
    **QUERY_OPS,
    **NESTED_OPS,
    "1.0/signJwt": _sign_jwt,
}


class DatabaseSyscalls(CommonSyscalls):
    """The syscalls of one query or mutation, and the state they share across calls."""

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
        self.streams: dict[int, Iterator[dict[str, Any]]] = {}
        self.stream_ids = itertools.count(1)
        self.syscalls = 0
        self.scheduled = 0
        # Stable reactive pagination: the first paginate() of a subscribed query re-runs with
        # the end cursor its first run reached, so its page grows or shrinks in place.
        self.journal_end = journal_end
        self.paged_end: str | None = None
        self.paged = False

    def syscall(self, op: str, raw_args: str) -> str:
        self.syscalls += 1
        try:
            args = orjson.loads(raw_args) if raw_args else {}
            if not isinstance(args, dict):
                raise SyscallFailure(f"Invalid arguments for {op}")
            result = self.handle(op, args)
            return result.text if isinstance(result, Raw) else dumps(result)
        except SyscallFailure as e:
            staged = staged_index_message(self.call.active.analysis.schema, e.message)
            if staged is None:
                raise
            raise SyscallFailure(staged, e.data) from None
        except (DatabaseError, ConvexValueError) as e:
            raise SyscallFailure(str(e)) from None
        except orjson.JSONDecodeError as e:
            raise SyscallFailure(f"Invalid arguments for {op}: {e}") from None

    def handle(self, op: str, a: dict[str, Any]) -> Any:
        namespace = self.call.namespace
        try:
            a = scope_args(namespace, a)
        except NamespaceError as e:
            raise SyscallFailure(str(e)) from None
        if namespace and _names_shared_system_table(a):
            raise SyscallFailure(
                f"A component can read only its own system tables (_storage, "
                f"_scheduled_functions), not {a.get('table') or 'this one'} "
                f"(component {namespace!r})"
            )
        if op in WRITE_OPS and not self.writable:
            raise SyscallFailure(
                f"Write operation {op} is not allowed in a query: use a mutation to write"
            )
        handler = DATABASE_OPS.get(op)
        if handler is not None:
            return handler(self, a)
        if op in STORAGE_OPS:
            return storage_in_transaction(self.call, self.txn, op, a, self.writable)
        return self.common(op, a)

    def start(self, op: str, args: str) -> str:
        raise SyscallFailure(f"{op} is only available in actions")

    def completions(self) -> list[tuple[str, bool, str]]:
        return []

    def attach(self, wake: Any) -> None:
        """Queries and mutations start no host work, so they never need waking."""

    def has_pending(self) -> bool:
        return False

    # ----- checks the handlers share ----------------------------------------------------

    def check_table(self, table: Any, op: str) -> str:
        if not isinstance(table, str) or not table:
            raise SyscallFailure(f"{op} needs a table name")
        if user_table(table).startswith("_"):
            raise SyscallFailure(f"System tables (prefixed with `_`) are read-only: {table}")
        return table

    def check_id_table(self, doc_id: str, table: Any) -> None:
        if table is not None and self.txn.normalize_id(str(table), doc_id) is None:
            raise SyscallFailure(f"Invalid argument `id` for table {table}: {doc_id}")
        try:
            check_table_owner(self.call.namespace, self.txn.table_for_id(doc_id))
        except NamespaceError as e:
            raise SyscallFailure(f"Invalid id {doc_id}: {e}") from None

    def write_target(self, a: dict[str, Any]) -> str:
        doc_id = a.get("id")
        if not isinstance(doc_id, str):
            raise SyscallFailure("A document id string is required")
        self.check_id_table(doc_id, a.get("table"))
        table = self.txn.table_for_id(doc_id)
        if table is not None and user_table(table).startswith("_"):
            raise SyscallFailure(f"System tables (prefixed with `_`) are read-only: {table}")
        return doc_id

    def check_written(self, doc_id: str) -> None:
        table = self.txn.table_for_id(doc_id)
        doc = self.txn.get(doc_id)
        if table is not None and doc is not None:
            self.call.check_document(table, doc)

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
                return scheduling.schedule_in(self.call, self.txn, args)
            scheduling.cancel_in(self.call, self.txn, args)
            return None
        except ScheduleError as e:
            raise SyscallFailure(str(e)) from None


def _names_shared_system_table(a: dict[str, Any]) -> bool:
    """Whether a syscall's arguments (already in the component's namespace) name a system
    table a component cannot read (`_scheduled_functions` is filtered by owner; a component's
    `_storage` is its own)."""
    query = a.get("query")
    source = query.get("source") if isinstance(query, dict) else None
    names = [a.get("table")]
    if isinstance(source, dict):
        names += [source.get("tableName"), str(source.get("indexName") or "").partition(".")[0]]
    return any(isinstance(n, str) and n.startswith("_") and n != SCHEDULED for n in names)
