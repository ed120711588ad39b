"""ctx.storage, ctx.vectorSearch and `.withSearchIndex` for user functions.

A thin bridge from syscalls to the deployment's FileService and SearchService: it picks the
service, enforces which function kinds may call what (queries only read files; store/get and
vectorSearch are action-only, as in Convex), and turns their errors into SyscallFailures the
function sees as thrown Errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..files import FileService, FileStorageError
from ..files.service import STORAGE_TABLE
from ..files.syscalls import STORAGE_OPS, storage_syscall
from ..search import SearchService
from ..search.specs import SearchError
from ..search.syscalls import text_search_source, vector_search_syscall
from ..transactions import Transaction
from .components import NamespaceError, internal_table, scope_args
from .errorformat import staged_index_message
from .isolate import SyscallFailure

if TYPE_CHECKING:
    from .runner import CallContext

VECTOR_SEARCH_OP = "1.0/actions/vectorSearch"
_MUTATION_ONLY = {"1.0/storageGenerateUploadUrl", "1.0/storageDelete"}
_ACTION_ONLY = {"1.0/storageStore", "1.0/storageGet"}
# Ops an action runs on a helper thread (they touch blob stores and indexes, not the isolate).
ACTION_ASYNC_OPS = frozenset({*STORAGE_OPS, VECTOR_SEARCH_OP})


def _files(call: CallContext) -> FileService:
    files = call.runner.files
    if files is None:
        raise SyscallFailure("File storage needs a deployment")
    return files


def _search(call: CallContext) -> SearchService:
    search = call.runner.search
    if search is None:
        raise SyscallFailure("Search needs a deployment")
    return search


def storage_in_transaction(
    call: CallContext, txn: Transaction, op: str, args: dict[str, Any], writable: bool
) -> Any:
    """A ctx.storage call from a query or mutation, read and written in its transaction."""
    if op in _ACTION_ONLY:
        what = "store" if op == "1.0/storageStore" else "get"
        raise SyscallFailure(
            f"storage.{what}() is only available in actions: use an action, or upload with "
            "storage.generateUploadUrl()"
        )
    if op in _MUTATION_ONLY and not writable:
        what = "generateUploadUrl" if op == "1.0/storageGenerateUploadUrl" else "delete"
        raise SyscallFailure(f"storage.{what}() is not allowed in a query: use a mutation")
    try:
        return storage_syscall(_files(call), op, args, txn, _storage_table(call))
    except FileStorageError as e:
        raise SyscallFailure(str(e)) from None


def _storage_table(call: CallContext) -> str:
    """The storage table of the calling function's namespace (a component has its own)."""
    return internal_table(call.namespace, STORAGE_TABLE)


def action_operation(call: CallContext, op: str, args: dict[str, Any]) -> Any:
    """A ctx.storage or ctx.vectorSearch call from an action (each in its own transaction)."""
    namespace = call.namespace
    if namespace and op == VECTOR_SEARCH_OP:
        try:
            args = scope_args(namespace, args)
        except NamespaceError as e:
            raise SyscallFailure(str(e)) from None
    try:
        if op == VECTOR_SEARCH_OP:
            return vector_search_syscall(_search(call), args)
        return storage_syscall(_files(call), op, args, None, _storage_table(call))
    except (FileStorageError, SearchError) as e:
        raise SyscallFailure(_staged_or(call, str(e))) from None


def search_documents(
    call: CallContext, txn: Transaction, source: dict[str, Any], limit: int
) -> list[dict[str, Any]]:
    """The ranked documents of a `.withSearchIndex(...)` source at the transaction's snapshot."""
    try:
        return text_search_source(_search(call), txn, source, limit)
    except SearchError as e:
        raise SyscallFailure(str(e)) from None


def _staged_or(call: CallContext, message: str) -> str:
    return staged_index_message(call.active.analysis.schema, message) or message


__all__ = [
    "ACTION_ASYNC_OPS",
    "STORAGE_OPS",
    "VECTOR_SEARCH_OP",
    "action_operation",
    "search_documents",
    "storage_in_transaction",
]
