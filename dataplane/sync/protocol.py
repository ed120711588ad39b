"""The Convex sync protocol's messages: parse client frames, build server frames.

Client frames are validated into small dataclasses so bad input fails with a clear
ProtocolError (sent to the client as a FatalError). Server frames are built as bytes with
orjson; query values arrive pre-serialised as `orjson.Fragment`s so a result shared by many
sockets is encoded once.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

MAX_U32 = 2**32 - 1
_pack_u64 = struct.Struct("<Q").pack
_unpack_u64 = struct.Struct("<Q").unpack


class ProtocolError(Exception):
    """A client message that breaks the protocol; fatal for the socket."""


# ----- timestamps and paths -----------------------------------------------------------


def encode_ts(ts: int) -> str:
    """u64 nanoseconds as standard base64 of 8 little-endian bytes (1000 -> "6AMAAAAAAAA=")."""
    return base64.b64encode(_pack_u64(ts)).decode("ascii")


def decode_ts(text: Any, what: str = "timestamp") -> int:
    if not isinstance(text, str):
        raise ProtocolError(f"{what} must be a base64 string of 8 bytes")
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise ProtocolError(f"{what} is not valid base64") from exc
    if len(raw) != 8:
        raise ProtocolError(f"{what} must encode exactly 8 bytes, got {len(raw)}")
    return int(_unpack_u64(raw)[0])


def canonical_udf_path(path: Any) -> str:
    """`module:function` with `.js` dropped and `:default` added, as the clients canonicalise."""
    if not isinstance(path, str) or not path or len(path) > 1024:
        raise ProtocolError("udfPath must be a non-empty string")
    module, sep, function = path.rpartition(":")
    if not sep:
        module, function = path, "default"
    if module.endswith(".js"):
        module = module[:-3]
    if not module or not function:
        raise ProtocolError(f"Invalid function path {path!r}")
    return f"{module}:{function}"


# ----- client messages ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Connect:
    session_id: str
    connection_count: int
    max_observed_ts: int | None
    client_ts: float | None


@dataclass(frozen=True, slots=True)
class AddQuery:
    query_id: int
    udf_path: str
    args: Any  # convex-JSON object
    journal: str | None
    component_path: str | None


@dataclass(frozen=True, slots=True)
class RemoveQuery:
    query_id: int


@dataclass(frozen=True, slots=True)
class ModifyQuerySet:
    base_version: int
    new_version: int
    modifications: tuple[AddQuery | RemoveQuery, ...]


@dataclass(frozen=True, slots=True)
class Mutation:
    request_id: int
    udf_path: str
    args: Any
    component_path: str | None


@dataclass(frozen=True, slots=True)
class Action:
    request_id: int
    udf_path: str
    args: Any
    component_path: str | None


@dataclass(frozen=True, slots=True)
class Authenticate:
    token_type: Literal["User", "Admin", "None"]
    value: str | None
    base_version: int
    impersonating: Any = None


@dataclass(frozen=True, slots=True)
class Event:
    event_type: str


ClientMessage = Connect | ModifyQuerySet | Mutation | Action | Authenticate | Event


def _int(msg: dict[str, Any], key: str, *, maximum: int = MAX_U32) -> int:
    value = msg.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProtocolError(f"{msg.get('type')}.{key} must be an integer")
    if value != int(value) or not 0 <= value <= maximum:
        raise ProtocolError(f"{msg.get('type')}.{key} must be an integer in 0..{maximum}")
    return int(value)


def _opt_str(msg: dict[str, Any], key: str) -> str | None:
    value = msg.get(key)
    if value is not None and not isinstance(value, str):
        raise ProtocolError(f"{msg.get('type')}.{key} must be a string or null")
    return value


def _args(msg: dict[str, Any]) -> Any:
    """Args travel as a one-element array holding the args object."""
    args = msg.get("args")
    if isinstance(args, list):
        if len(args) != 1:
            raise ProtocolError(f"{msg.get('type')}.args must be an array of one object")
        args = args[0]
    if args is None:
        return {}
    if not isinstance(args, dict):
        raise ProtocolError(f"{msg.get('type')}.args must be an object")
    return args


def _component(msg: dict[str, Any]) -> str | None:
    path = _opt_str(msg, "componentPath")
    return path or None


def _parse_modification(raw: Any) -> AddQuery | RemoveQuery:
    if not isinstance(raw, dict):
        raise ProtocolError("ModifyQuerySet.modifications must hold objects")
    kind = raw.get("type")
    if kind == "Add":
        return AddQuery(
            query_id=_int(raw, "queryId"),
            udf_path=canonical_udf_path(raw.get("udfPath")),
            args=_args(raw),
            journal=_opt_str(raw, "journal"),
            component_path=_component(raw),
        )
    if kind == "Remove":
        return RemoveQuery(_int(raw, "queryId"))
    raise ProtocolError(f"Unknown query set modification type {kind!r}")


def parse_client_message(text: str | bytes) -> ClientMessage:
    """Decode and validate one client frame; raises ProtocolError."""
    try:
        msg = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"Client message is not JSON: {exc}") from exc
    if not isinstance(msg, dict):
        raise ProtocolError("Client message must be a JSON object")
    kind = msg.get("type")
    if kind == "Connect":
        session_id = msg.get("sessionId")
        if not isinstance(session_id, str) or not session_id or len(session_id) > 128:
            raise ProtocolError("Connect.sessionId must be a non-empty string")
        observed = msg.get("maxObservedTimestamp")
        client_ts = msg.get("clientTs")
        return Connect(
            session_id=session_id,
            connection_count=int(msg.get("connectionCount") or 0),
            max_observed_ts=None
            if observed is None
            else decode_ts(observed, "maxObservedTimestamp"),
            client_ts=float(client_ts) if isinstance(client_ts, int | float) else None,
        )
    if kind == "ModifyQuerySet":
        mods = msg.get("modifications")
        if not isinstance(mods, list):
            raise ProtocolError("ModifyQuerySet.modifications must be an array")
        return ModifyQuerySet(
            base_version=_int(msg, "baseVersion"),
            new_version=_int(msg, "newVersion"),
            modifications=tuple(_parse_modification(m) for m in mods),
        )
    if kind in ("Mutation", "Action"):
        cls = Mutation if kind == "Mutation" else Action
        return cls(
            request_id=_int(msg, "requestId"),
            udf_path=canonical_udf_path(msg.get("udfPath")),
            args=_args(msg),
            component_path=_component(msg),
        )
    if kind == "Authenticate":
        token_type = msg.get("tokenType")
        if token_type not in ("User", "Admin", "None"):
            raise ProtocolError("Authenticate.tokenType must be User, Admin or None")
        value = _opt_str(msg, "value")
        if token_type != "None" and not value:
            raise ProtocolError(f"Authenticate with tokenType {token_type} needs a value")
        impersonating = msg.get("impersonating", msg.get("actingAs", msg.get("acting_as")))
        return Authenticate(token_type, value, _int(msg, "baseVersion"), impersonating)
    if kind == "Event":
        return Event(str(msg.get("eventType") or ""))
    raise ProtocolError(f"Unknown client message type {kind!r}")


# ----- server messages ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StateVersion:
    query_set: int = 0
    identity: int = 0
    ts: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"querySet": self.query_set, "identity": self.identity, "ts": encode_ts(self.ts)}


@dataclass(frozen=True, slots=True)
class QueryResult:
    """One execution's outcome, pre-serialised for sending to many sockets."""

    success: bool
    value: orjson.Fragment | None  # convex-JSON of the value (success)
    error_message: str = ""
    error_data: orjson.Fragment | None = None
    log_lines: tuple[str, ...] = ()
    journal: str | None = None
    fingerprint: bytes = field(default=b"", compare=False)

    def modification(self, query_id: int) -> dict[str, Any]:
        if self.success:
            return {
                "type": "QueryUpdated",
                "queryId": query_id,
                "value": self.value,
                "logLines": self.log_lines,
                "journal": self.journal,
            }
        mod: dict[str, Any] = {
            "type": "QueryFailed",
            "queryId": query_id,
            "errorMessage": self.error_message,
            "logLines": self.log_lines,
            "journal": self.journal,
        }
        if self.error_data is not None:
            mod["errorData"] = self.error_data
        return mod


def query_removed(query_id: int) -> dict[str, Any]:
    return {"type": "QueryRemoved", "queryId": query_id}


def transition(
    start: StateVersion,
    end: StateVersion,
    modifications: list[dict[str, Any]],
    server_ts_ns: int,
    client_clock_skew: int | None,
) -> bytes:
    msg: dict[str, Any] = {
        "type": "Transition",
        "startVersion": start.to_json(),
        "endVersion": end.to_json(),
        "modifications": modifications,
        "serverTs": server_ts_ns,
    }
    if client_clock_skew is not None:
        msg["clientClockSkew"] = client_clock_skew
    return orjson.dumps(msg)


def transition_chunks(payload: bytes, transition_id: str, max_bytes: int) -> list[bytes]:
    """Split a large Transition's JSON text into TransitionChunk frames (npm >= 1.28)."""
    text = payload.decode()
    parts = [text[i : i + max_bytes] for i in range(0, len(text), max_bytes)]
    return [
        orjson.dumps(
            {
                "type": "TransitionChunk",
                "chunk": chunk,
                "partNumber": n,
                "totalParts": len(parts),
                "transitionId": transition_id,
            }
        )
        for n, chunk in enumerate(parts)
    ]


def mutation_response(
    request_id: int,
    *,
    success: bool,
    result: Any,
    ts: int | None,
    log_lines: tuple[str, ...] | list[str],
    error_data: Any = None,
) -> bytes:
    msg: dict[str, Any] = {
        "type": "MutationResponse",
        "requestId": request_id,
        "success": success,
        "result": result,
        "ts": None if ts is None else encode_ts(ts),
        "logLines": list(log_lines),
    }
    if error_data is not None:
        msg["errorData"] = error_data
    return orjson.dumps(msg)


def action_response(
    request_id: int,
    *,
    success: bool,
    result: Any,
    log_lines: tuple[str, ...] | list[str],
    error_data: Any = None,
) -> bytes:
    msg: dict[str, Any] = {
        "type": "ActionResponse",
        "requestId": request_id,
        "success": success,
        "result": result,
        "logLines": list(log_lines),
    }
    if error_data is not None:
        msg["errorData"] = error_data
    return orjson.dumps(msg)


def auth_error(message: str, base_version: int, *, attempted: bool = True) -> bytes:
    return orjson.dumps(
        {
            "type": "AuthError",
            "error": message,
            "baseVersion": base_version,
            "authUpdateAttempted": attempted,
        }
    )


def fatal_error(message: str) -> bytes:
    return orjson.dumps({"type": "FatalError", "error": message})


PING = orjson.dumps({"type": "Ping"})
