"""The `/api/<version>/sync` WebSocket: a Channels consumer speaking the Convex sync protocol.

No channel layer is used: the subscription manager writes Transitions straight to the
socket. Mutations run one at a time per socket, in arrival order, off the event loop; actions
run concurrently. Any protocol violation ends the socket with a FatalError.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import time
from typing import Any

import structlog
from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer

from ..auth import CLOCK_LEEWAY_S, AuthError, Identity
from ..runtime.components import scope_call
from .backend import FunctionFailure, RetryableFailure
from .dedup import MutationOutcome, request_key
from .protocol import (
    PING,
    Action,
    Authenticate,
    ClientMessage,
    Connect,
    Event,
    ModifyQuerySet,
    Mutation,
    ProtocolError,
    action_response,
    auth_error,
    fatal_error,
    mutation_response,
    parse_client_message,
)
from .service import SCOPE_KEY, SyncService
from .session import SyncSession
from .wsframe import direct_writer

log = structlog.get_logger(__name__)

TRACE = bool(os.environ.get("STRATA_SYNC_TRACE"))  # log every frame (debugging clients)
PING_INTERVAL_S = 15.0
MAX_PENDING_MUTATIONS = 1000
MAX_OBSERVED_WAIT_S = 5.0


class SyncConsumer(AsyncWebsocketConsumer):
    """One client connection."""

    channel_layer_alias = "sync-direct"  # not configured: no per-socket channel layer

    service: SyncService
    session: SyncSession

    async def connect(self) -> None:
        self.service = self.scope[SCOPE_KEY]
        self.service.ensure_started()
        self.session = SyncSession(
            self.service.manager,
            self._send_frame,
            supports_chunks=self._npm_client(),
            send_many=self._send_frames,
        )
        self.session.on_revoked = self._key_revoked
        self._mutations: asyncio.Queue[Mutation] = asyncio.Queue(MAX_PENDING_MUTATIONS)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._connected = False
        self._resumed = True  # until Connect says this is the session's first socket
        self._closing = False
        self._expiry: asyncio.TimerHandle | None = None
        await self.accept()
        self._direct = direct_writer(self.base_send)
        self.service.sessions.add(self.session)
        self._spawn(self._mutation_worker())
        self._spawn(self._pinger())

    def _npm_client(self) -> bool:
        """TransitionChunk is only understood by npm clients (URL carries their version)."""
        version = self.scope.get("url_route", {}).get("kwargs", {}).get("version")
        return bool(version)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def disconnect(self, code: int) -> None:
        if TRACE:
            log.info("sync socket closed", code=code)
        self._closing = True
        if getattr(self, "_expiry", None) is not None:
            self._expiry.cancel()  # type: ignore[union-attr]
        for task in list(self._tasks):
            task.cancel()
        if hasattr(self, "session"):
            self.session.close()
            self.service.sessions.discard(self.session)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Channels' consumer loop for a consumer without a channel layer: await the next
        message and dispatch it (no task and `asyncio.wait` per inbound frame)."""
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        with contextlib.suppress(StopConsumer):
            while True:
                await self.dispatch(await receive())

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch without its per-message `close_old_connections` thread hop:
        the data plane has no Django database connections to recycle."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def _send_frame(self, payload: bytes) -> None:
        if not self._closing:
            if TRACE:
                log.info("sync frame out", frame=payload[:2000].decode(errors="replace"))
            if self._direct is None or not self._direct(payload):
                await self.send(text_data=payload.decode())

    async def _send_frames(self, payloads: list[bytes]) -> None:
        """Several frames in order, in one socket write when the direct path is open."""
        if self._closing:
            return
        if TRACE:
            for payload in payloads:
                log.info("sync frame out", frame=payload[:2000].decode(errors="replace"))
        if self._direct is not None and self._direct(payloads):
            return
        for payload in payloads:
            await self.send(text_data=payload.decode())

    async def _fatal(self, message: str) -> None:
        log.info("sync fatal error", error=message)
        await self.session.send(fatal_error(message))
        self.session.close()
        self._closing = True
        await self.close(code=1000)

    # ----- inbound ---------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if TRACE:
            log.info("sync frame in", frame=(text_data or repr(bytes_data))[:2000])
        if self._closing:
            return
        try:
            msg = parse_client_message(text_data if text_data is not None else bytes_data or b"")
            await self._dispatch(msg)
        except ProtocolError as exc:
            await self._fatal(str(exc))

    async def _dispatch(self, msg: ClientMessage) -> None:
        if isinstance(msg, Connect):
            await self._on_connect(msg)
            return
        if not self._connected and not isinstance(msg, Event):
            raise ProtocolError("The first message on a sync socket must be Connect")
        if isinstance(msg, ModifyQuerySet):
            self.session.modify_query_set(msg)
        elif isinstance(msg, Authenticate):
            await self._on_authenticate(msg)
        elif isinstance(msg, Mutation):
            try:
                self._mutations.put_nowait(msg)
            except asyncio.QueueFull:
                await self.close(code=1013, reason="TooManyConcurrentMutations")
        elif isinstance(msg, Action):
            self._spawn(self._run_action(msg))

    async def _on_connect(self, msg: Connect) -> None:
        if self._connected:
            raise ProtocolError("Connect was sent twice on one socket")
        self._connected = True
        self._resumed = msg.connection_count > 0
        self.session.session_id = msg.session_id
        if msg.client_ts:  # the Rust client sends 0: unknown; the skew must be an integer
            self.session.clock_skew = round(msg.client_ts - time.time() * 1000)
        observed = msg.max_observed_ts
        if observed is not None and observed > self.service.manager.processed_ts:
            deadline = time.monotonic() + MAX_OBSERVED_WAIT_S
            while self.service.db.latest_ts() < observed and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if self.service.db.latest_ts() < observed:
                log.warning("client observed a ts ahead of the server", observed=observed)
                await self.close(code=1011, reason="InternalServerError")
                self._closing = True

    async def _on_authenticate(self, msg: Authenticate) -> None:
        base = self.session.identity_version
        try:
            identity = await asyncio.get_running_loop().run_in_executor(
                self.service.functions, self._identity_for, msg
            )
        except AuthError as exc:
            await self.session.send(auth_error(str(exc), base, attempted=True))
            self.session.close()
            self._closing = True
            await self.close(code=1000)
            return
        self.session.set_identity(identity, msg.base_version)
        self._arm_expiry(identity)

    def _arm_expiry(self, identity: Identity | None) -> None:
        """When the token behind the identity expires, say so (AuthError) and close: the
        client fetches a fresh token and reconnects."""
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        if identity is None or identity.expires_at is None:
            return
        version = self.session.identity_version
        delay = max(0.0, identity.expires_at + CLOCK_LEEWAY_S - time.time())
        self._expiry = asyncio.get_running_loop().call_later(
            delay, lambda: self._spawn(self._token_expired(version))
        )

    async def _token_expired(self, version: int) -> None:
        if self._closing or self.session.identity_version != version:
            return
        await self.session.send(auth_error("Token expired", version, attempted=False))
        self.session.close()
        self._closing = True
        await self.close(code=1000)

    async def _key_revoked(self) -> None:
        """The admin key behind this session was revoked (dataplane/sync/revocation.py)."""
        if self._closing:
            return
        version = self.session.identity_version
        await self.session.send(auth_error("The admin key was revoked", version, attempted=False))
        self.session.close()
        self._closing = True
        await self.close(code=1000)

    def _identity_for(self, msg: Authenticate) -> Identity | None:
        if msg.token_type == "None":
            return None
        assert msg.value is not None
        auth = self.service.auth
        if auth is None:
            raise AuthError("This deployment accepts no credentials")
        if msg.token_type == "Admin":
            return auth.admin_identity(msg.value, msg.impersonating)
        return auth.identity_from_token(msg.value)

    # ----- mutations and actions ------------------------------------------------------------

    async def _mutation_worker(self) -> None:
        while True:
            msg = await self._mutations.get()
            identity = self.session.identity
            identity_key = "" if identity is None else identity.key
            session_id = self.session.session_id
            # In memory: a resend while the first run is in flight awaits it. Durable (a key
            # recorded in the mutation's own commit): a resend after a crash replays it.
            try:
                outcome = await self.service.dedup.run(
                    session_id,
                    identity_key,
                    msg.request_id,
                    functools.partial(
                        self._execute_mutation, msg, session_id, identity_key, not self._resumed
                    ),
                )
            except RetryableFailure as exc:
                # As Convex does: close, so the client reconnects and resends the mutation.
                log.info("mutation must be retried", path=msg.udf_path, code=exc.code)
                self.session.close()
                self._closing = True
                # 1011 as Convex sends it is refused by the socket layer (application codes
                # are 1000 or 3000-4999): 4011, the client reconnects on any abnormal close.
                await self.close(code=4011, reason=exc.code)
                return
            # Read-your-writes: the client resolves only once a Transition reaches the commit
            # ts (the Python client also needs one after a failed mutation): the response
            # leaves together with that Transition.
            self.session.respond_then_flush(
                mutation_response(
                    msg.request_id,
                    success=outcome.success,
                    result=outcome.result,
                    ts=outcome.ts,
                    log_lines=outcome.log_lines,
                    error_data=outcome.error_data,
                ),
                outcome.ts or 0,
            )

    def _execute_mutation(
        self, msg: Mutation, session_id: str, identity_key: str, first_send: bool
    ) -> asyncio.Future[MutationOutcome]:
        """Run it; on a session's first socket every request id is new (clients resend only
        after reconnecting), so the durable record is written but need not be looked up."""
        backend = self.service.backend
        identity = self.session.identity

        def run() -> MutationOutcome:  # on a worker thread, hashing included
            key = request_key(session_id, identity_key, msg.request_id) if session_id else None
            try:
                path, args = scope_call(msg.udf_path, msg.args, msg.component_path)
                out = backend.run_mutation(
                    path, args, identity, request_key=key, first_send=first_send
                )
            except FunctionFailure as exc:
                return MutationOutcome(False, exc.message, None, exc.log_lines, exc.data)
            except RetryableFailure:
                raise  # not kept for replay: the resend after reconnecting runs it again
            except Exception as exc:
                log.exception("mutation crashed", path=msg.udf_path)
                return MutationOutcome(False, f"Server Error: {type(exc).__name__}", None, ())
            return MutationOutcome(True, out.value, out.commit_ts, out.log_lines)

        # A plain future (no task of its own): the dedup table keeps it, so the mutation
        # still completes and answers a resend if this socket closes meanwhile.
        return asyncio.get_running_loop().run_in_executor(self.service.functions, run)

    async def _run_action(self, msg: Action) -> None:
        backend = self.service.backend
        identity = self.session.identity
        loop = asyncio.get_running_loop()
        path, args = scope_call(msg.udf_path, msg.args, msg.component_path)
        try:
            run = await loop.run_in_executor(
                self.service.functions, backend.run_action, path, args, identity
            )
            payload = action_response(
                msg.request_id, success=True, result=run.value, log_lines=run.log_lines
            )
        except FunctionFailure as exc:
            payload = action_response(
                msg.request_id,
                success=False,
                result=exc.message,
                log_lines=exc.log_lines,
                error_data=exc.data,
            )
        except Exception as exc:
            log.exception("action crashed", path=msg.udf_path)
            payload = action_response(
                msg.request_id,
                success=False,
                result=f"Server Error: {type(exc).__name__}",
                log_lines=(),
            )
        await self.session.send(payload)

    async def _pinger(self) -> None:
        while True:
            idle = time.monotonic() - self.session.last_send
            if idle >= PING_INTERVAL_S:
                with contextlib.suppress(Exception):
                    await self.session.send(PING)
                idle = 0.0
            await asyncio.sleep(PING_INTERVAL_S - idle)
