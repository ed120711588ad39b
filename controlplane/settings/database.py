"""Control-plane database: SQLite under the data directory by default, any DATABASE_URL else.

The data directory is created private (0700), and a SQLite database file is created, or
tightened, to 0600 before Django opens it: it holds password hashes and token hashes. SQLite
gives its -wal/-shm/-journal files the database file's mode.
"""

import contextlib
import os
from pathlib import Path
from typing import Any

from .env import DATA_DIR, env

DATA_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)


def _private_sqlite_file(database: dict[str, Any]) -> None:
    name = str(database.get("NAME") or "")
    if not database.get("ENGINE", "").endswith("sqlite3") or name in ("", ":memory:"):
        return
    if name.startswith("file:"):
        return
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # SQLite takes an empty file
    for file in (path, *(Path(f"{path}{s}") for s in ("-wal", "-shm", "-journal"))):
        with contextlib.suppress(FileNotFoundError, PermissionError):  # not ours: leave it
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)


def _queued_sqlite_writes(database: dict[str, Any]) -> None:
    """Concurrent API writes (Terraform sends ten at once) must queue, not fail: a transaction
    takes SQLite's write lock when it begins (IMMEDIATE) instead of upgrading a read lock
    mid-way, which SQLite refuses at once with "database is locked" whatever the timeout;
    waiting writers then queue for up to `timeout` seconds. WAL lets reads go on meanwhile."""
    if not database.get("ENGINE", "").endswith("sqlite3"):
        return
    options = database.setdefault("OPTIONS", {})
    options.setdefault("transaction_mode", "IMMEDIATE")
    options.setdefault("timeout", 30)
    options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")


DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'controlplane.sqlite3'}")
}
_private_sqlite_file(DATABASES["default"])
_queued_sqlite_writes(DATABASES["default"])
