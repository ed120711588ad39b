"""Syscalls every function kind shares: identity, metadata, function handles, scheduling from
actions, and clear errors for what a kind may not do or this deployment does not offer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...scheduled.jobs import ScheduleError
from .. import scheduling
from ..errorformat import TEST_SYSCALL_FAILURES, SystemFailure
from ..handles import FunctionHandleError, create_handle
from ..host_services import VECTOR_SEARCH_OP
from ..isolate import SyscallFailure
from .base import Handler

if TYPE_CHECKING:
    from ..runner import CallContext

# getServiceToken/getServiceUrl (convex/server 1.48) reach Convex-managed services such as
# "ai-gateway", which a self-hosted deployment does not have.
_NOT_YET = {
    "1.0/createServiceToken": "getServiceToken",
    "1.0/getServiceUrl": "getServiceUrl",
}


class CommonSyscalls:
    """The shared operations, dispatched through `COMMON_OPS`; subclasses add their own table
    and override `scheduler` (a mutation schedules inside its transaction)."""

    def __init__(self, call: CallContext) -> None:
        self.call = call

    def scheduler(self, op: str, args: dict[str, Any]) -> Any:
        """ctx.scheduler from an action (mutations override this to use their transaction)."""
        try:
            return scheduling.handle_action(self.call, op, args)
        except ScheduleError as e:
            raise SyscallFailure(str(e)) from None

    def common(self, op: str, args: dict[str, Any]) -> Any:
        handler = COMMON_OPS.get(op)
        if handler is not None:
            return handler(self, args)
        if op in scheduling.OPS:
            return self.scheduler(op, args)
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


def _user_identity(host: CommonSyscalls, args: dict[str, Any]) -> Any:
    identity = host.call.identity
    refused = getattr(identity, "auth_error", None)
    if refused is not None:  # an HTTP action's unacceptable Authorization header
        raise SyscallFailure(refused)
    user = getattr(identity, "user", None) if identity is not None else None
    return None if user is None else dict(user)


def _function_metadata(host: CommonSyscalls, args: dict[str, Any]) -> Any:
    return {"name": host.call.path, "componentPath": ""}


def _deployment_metadata(host: CommonSyscalls, args: dict[str, Any]) -> Any:
    return {"name": host.call.deployment_name, "region": None, "class": "s16"}


def _request_metadata(host: CommonSyscalls, args: dict[str, Any]) -> Any:
    return {
        "ip": None,
        "userAgent": None,
        "requestId": host.call.request_id,
        "scheduledFunctionId": None,
        "authToken": None,
    }


def _audit_log(host: CommonSyscalls, args: dict[str, Any]) -> Any:
    return None


def _create_function_handle(host: CommonSyscalls, args: dict[str, Any]) -> Any:
    try:
        return create_handle(host.call.runner.analysis, args, host.call.path)
    except FunctionHandleError as e:
        raise SyscallFailure(str(e)) from None


def _refuse(message: str) -> Handler[CommonSyscalls]:
    def refuse(host: CommonSyscalls, args: dict[str, Any]) -> Any:
        raise SyscallFailure(message)

    return refuse


COMMON_OPS: dict[str, Handler[CommonSyscalls]] = {
    "1.0/getUserIdentity": _user_identity,
    "1.0/getFunctionMetadata": _function_metadata,
    "1.0/getDeploymentMetadata": _deployment_metadata,
    "1.0/getRequestMetadata": _request_metadata,
    "1.0/auditLog": _audit_log,
    "1.0/createFunctionHandle": _create_function_handle,
    "1.0/signJwt": _refuse("ctx.auth.signJwt is only available in mutations"),
    VECTOR_SEARCH_OP: _refuse("ctx.vectorSearch is only available in actions"),
}
