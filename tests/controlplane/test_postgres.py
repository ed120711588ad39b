"""The control plane on PostgreSQL: the API, usage and security suites re-run with DATABASE_URL
set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
@pytest.mark.slow
def test_api_suites_pass_on_postgres(postgres_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": postgres_url, "STRATA_EXPECT_DB_VENDOR": "postgresql"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/controlplane/test_api.py",
            "tests/controlplane/test_usage.py",
            "tests/controlplane/test_security_api.py",
            "-o",
            "addopts=--timeout=300",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " failed" not in result.stdout
