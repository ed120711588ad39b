"""A replica's commits and schema changes, sent to whichever process is the committer.

Each commit carries a fresh token; retries (the committer died, the network failed) resend
the same token, so a commit lands exactly once even across a failover. The reply is only
returned once this replica has read that commit back, so read-your-writes holds here.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import structlog

from ..transactions import Database, DatabaseError, DuplicateRequest, OccConflict, Transaction
from ..transactions.catalog import IndexDefinition
from .codec import encode_transaction

log = structlog.get_logger(__name__)
COMMIT_PATH = "/api/_strata/replication/commit"
SCHEMA_PATH = "/api/_strata/replication/schema"
RETRY_FOR_S = 30.0  # long enough for a replica to notice the committer died and take over


class HttpForwarder:
    """Forwarder for `Database.forwarder`: POSTs to the committer named in the database."""

    def __init__(self, db: Database, admin_key: str) -> None:
        self.db = db
        self._headers = {"Authorization": f"Convex {admin_key}"}
        self._client = httpx.Client(timeout=httpx.Timeout(60.0, connect=2.0))
        # Where the committer was last found: read from the database again only when it
        # fails (unreachable, no longer the committer, any unexpected answer), not per commit.
        self._url: str | None = None

    def commit(self, txn: Transaction) -> int:
        token = uuid.uuid4().hex
        body = encode_transaction(txn, token)
        reply = self._send(COMMIT_PATH, body, lambda: self.db.commit_forwarded(txn, token))
        ts = int(reply["ts"])
        self.wait_for(ts)
        return ts

    def schema(self, table: str, indexes: list[IndexDefinition] | None) -> None:
        body: dict[str, Any] = {"table": table}
        if indexes is not None:
            body["indexes"] = [[d.name, list(d.fields)] for d in indexes]

        def local() -> int:
            if indexes is None:
                self.db.ensure_table(table)
            else:
                self.db.set_indexes(table, indexes)
            return self.db.latest_ts()

        self.wait_for(int(self._send(SCHEMA_PATH, body, local)["ts"]))

    def _send(self, path: str, body: dict[str, Any], local: Any) -> dict[str, Any]:
        deadline = time.monotonic() + RETRY_FOR_S
        while True:
            if not self.db.replica:  # promoted meanwhile: this process commits itself
                return {"ts": local()}
            url = self._url
            cached = url is not None
            if url is None:
                url = self.db.committer_url()
            try:
                if url is None:
                    raise httpx.ConnectError("no committer has registered yet")
                response = self._client.post(url + path, json=body, headers=self._headers)
            except httpx.HTTPError as exc:
                self._url = None
                if time.monotonic() > deadline:
                    raise DatabaseError(f"The committer is unreachable: {exc}") from exc
                if not cached:  # a cached address is retried at once with a fresh one
                    log.warning("committer unreachable, retrying", url=url, error=str(exc))
                    time.sleep(0.2)
                continue
            reply: dict[str, Any] = response.json() if response.content else {}
            if response.status_code in (200, 409):
                self._url = url
            else:
                self._url = None
            if response.status_code == 200:
                return reply
            if response.status_code == 409:
                if reply.get("code") == "DuplicateRequest":
                    raise DuplicateRequest(str(reply.get("message", "")))
                raise OccConflict(str(reply.get("message", "conflict at the committer")))
            if response.status_code == 503 and time.monotonic() < deadline:
                time.sleep(0.2)  # that process is no longer (or not yet) the committer
                continue
            if cached:  # another process may answer at that address by now: ask the database
                continue
            raise DatabaseError(str(reply.get("message", f"committer said {response.status_code}")))

    def wait_for(self, ts: int) -> None:
        """Block until this replica has applied the commit at ts (it is durable already)."""
        deadline = time.monotonic() + RETRY_FOR_S
        while self.db.latest_ts() < ts:
            if self.db.follow(until=ts) == 0 and self.db.latest_ts() < ts:
                if time.monotonic() > deadline:
                    raise DatabaseError(f"Commit {ts} did not become readable on this replica")
                time.sleep(0.005)

    def close(self) -> None:
        self._client.close()
