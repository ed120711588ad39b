"""Taking and applying Convex snapshot ZIPs through a data plane's admin HTTP endpoints.

The same calls `npx convex export --include-file-storage` and `npx convex import --replace-all`
make, with a key the control plane mints under the deployment's instance secret.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from contract.keys import mint_key
from controlplane.provisioning.client import CONTROLPLANE_KEY_ID

POLL_SECONDS = 0.2
CHUNK = 1 << 20


class SnapshotError(Exception):
    """The data plane refused or failed an export or import (message safe to show)."""


@dataclass(frozen=True)
class Downloaded:
    size: int
    sha256: str


def _int(value: Any) -> int:
    """An int64 in any of the data plane's JSON encodings."""
    if isinstance(value, dict) and "$integer" in value:
        return int(struct.unpack("<q", base64.b64decode(value["$integer"]))[0])
    return int(value)


class SnapshotClient:
    def __init__(self, url: str, deployment: str, instance_secret: str, timeout: float) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        key = mint_key(deployment, instance_secret, key_id=CONTROLPLANE_KEY_ID)
        self._headers = {"Authorization": f"Convex {key}"}

    def _check(self, response: httpx.Response, what: str) -> Any:
        if response.status_code >= 400:
            try:
                message = str(response.json().get("message", ""))
            except ValueError:
                message = response.text[:200]
            raise SnapshotError(f"{what} refused ({response.status_code}): {message}")
        return response.json() if response.content else None

    def _query(self, path: str, args: dict[str, Any]) -> Any:
        response = httpx.post(
            f"{self.url}/api/query",
            json={"path": path, "args": args, "format": "json"},
            headers=self._headers,
            timeout=30,
        )
        body = self._check(response, path)
        if body.get("status") != "success":
            raise SnapshotError(f"{path} failed: {body.get('errorMessage', '')}")
        return body.get("value")

    def _poll(self, read: Callable[[], Any], done: Callable[[Any], bool], what: str) -> Any:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            value = read()
            if done(value):
                return value
            time.sleep(POLL_SECONDS)
        raise SnapshotError(f"{what} did not finish within {self.timeout:.0f} s")

    def export_to(self, target: Path) -> Downloaded:
        """Export the whole deployment, file storage included, into the ZIP at `target`."""
        response = httpx.post(
            f"{self.url}/api/export/request/zip",
            params={"includeStorage": "true"},
            headers=self._headers,
            timeout=30,
        )
        self._check(response, "Export")
        export = self._poll(
            lambda: self._query("_system/cli/exports:getLatest", {}),
            lambda doc: isinstance(doc, dict) and doc.get("state") in ("completed", "failed"),
            "The export",
        )
        if export["state"] == "failed":
            raise SnapshotError(f"The export failed: {export.get('error_message', '')}")
        digest = hashlib.sha256()
        size = 0
        url = f"{self.url}/api/export/zip/{_int(export['start_ts'])}"
        with (
            httpx.stream("GET", url, headers=self._headers, timeout=60) as stream,
            target.open("wb") as out,
        ):
            if stream.status_code != 200:
                stream.read()
                self._check(stream, "Downloading the export")
            for chunk in stream.iter_bytes(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        return Downloaded(size=size, sha256=digest.hexdigest())

    def import_replacing_all(self, source: Path) -> int:
        """Replace every table of the deployment with the ZIP's; returns documents written."""
        with source.open("rb") as body:
            response = httpx.post(
                f"{self.url}/api/import",
                params={"format": "zip", "mode": "replaceAll"},
                content=body,
                headers={**self._headers, "Content-Type": "application/zip"},
                timeout=max(60.0, self.timeout),
            )
        import_id = self._check(response, "Import")["importId"]

        def state() -> dict[str, Any]:
            doc = self._query("_system/cli/queryImport", {"importId": import_id})
            return dict(doc.get("state") or {})

        checked = self._poll(
            state, lambda s: s.get("state") in ("waiting_for_confirmation", "failed"), "The import"
        )
        if checked["state"] == "failed":
            raise SnapshotError(f"The import was refused: {checked.get('error_message', '')}")
        response = httpx.post(
            f"{self.url}/api/perform_import",
            json={"importId": import_id},
            headers=self._headers,
            timeout=30,
        )
        self._check(response, "Starting the import")
        finished = self._poll(
            state, lambda s: s.get("state") in ("completed", "failed"), "The import"
        )
        if finished["state"] == "failed":
            raise SnapshotError(f"The import failed: {finished.get('error_message', '')}")
        return _int(finished.get("num_rows_written", 0))
