"""A process killed with SIGKILL between commits loses nothing it reported as committed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dataplane.transactions import open_database

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_killed_writer_loses_no_commit(db_url: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.storage.crash_writer", db_url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        while len(lines) < 300:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
    finally:
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate(timeout=60)
    lines.extend(rest.splitlines(keepends=True))
    complete = [line.split() for line in lines if line.endswith("\n")]
    assert len(complete) >= 300, "child stopped early"
    db = open_database(db_url)
    try:
        tx = db.begin()
        counter = complete[0][2]
        for ts, doc_id, _ in complete:
            assert tx.get(doc_id) is not None, f"commit {ts} lost"
        counter_doc = tx.get(counter)
        assert counter_doc is not None and counter_doc["n"] >= len(complete)
        assert tx.count("items") == counter_doc["n"]
        last_reported = max(int(ts) for ts, _, _ in complete)
        assert db.latest_ts() >= last_reported
        _, new_ts = db.run_mutation(lambda t: t.insert("items", {"i": -1.0}))
        assert new_ts > last_reported
    finally:
        db.close()
