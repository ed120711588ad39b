"""Revoked key ids, published to a deployment as a signed file in its data directory.

Keys are verified by signature alone, so revocation needs a list the data plane consults. The
control plane writes `revoked_keys.json` = {"revoked": [ids], "sig": HMAC(instance secret)};
the data plane reloads it when its mtime changes and ignores a file whose signature is wrong
(a forged or truncated file then revokes nothing rather than everything, and is logged).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path

import orjson

FILE_NAME = "revoked_keys.json"
log = logging.getLogger(__name__)


def _signature(secret: str, ids: list[str]) -> str:
    return hmac.new(secret.encode(), orjson.dumps(ids), hashlib.sha256).hexdigest()


def write_revoked_keys(data_dir: Path, instance_secret: str, key_ids: Iterable[str]) -> Path:
    """Atomically replace the deployment's revocation list."""
    ids = sorted(set(key_ids))
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / FILE_NAME
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(orjson.dumps({"revoked": ids, "sig": _signature(instance_secret, ids)}))
    os.replace(tmp, path)
    return path


def read_revoked_keys(data_dir: Path, instance_secret: str) -> frozenset[str]:
    """The verified revoked ids; empty when the file is absent or its signature is wrong."""
    path = data_dir / FILE_NAME
    try:
        body = orjson.loads(path.read_bytes())
        ids = [str(i) for i in body["revoked"]]
        sig = str(body["sig"])
    except FileNotFoundError:
        return frozenset()
    except (orjson.JSONDecodeError, KeyError, TypeError):
        log.error("ignoring malformed revocation file %s", path)
        return frozenset()
    if not hmac.compare_digest(sig, _signature(instance_secret, ids)):
        log.error("ignoring revocation file %s: bad signature", path)
        return frozenset()
    return frozenset(ids)


class RevokedKeys:
    """Data-plane side: `is_revoked(key_id)`, re-reading the file only when it changes."""

    def __init__(self, data_dir: Path, instance_secret: str) -> None:
        self._path = data_dir / FILE_NAME
        self._data_dir = data_dir
        self._secret = instance_secret
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._ids: frozenset[str] = frozenset()

    def is_revoked(self, key_id: str) -> bool:
        try:
            st = self._path.stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                self._ids = read_revoked_keys(self._data_dir, self._secret)
                self._stamp = stamp
            return key_id in self._ids
