"""The default control plane (SQLite) under concurrent API writes, as Terraform sends them at
its default parallelism (10): writers queue, none fails with "database is locked"."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.terraform.live_control_plane import running_control_plane

pytestmark = pytest.mark.slow
PARALLELISM = 10


def test_concurrent_writes_queue_instead_of_failing(tmp_path: Path) -> None:
    sqlite = {"DATABASE_URL": f"sqlite:///{tmp_path / 'controlplane.sqlite3'}"}
    with running_control_plane(tmp_path, sqlite) as cp:

        def write(i: int) -> tuple[int, int, int]:
            team = cp.http.post("/v1/teams/create_team", json={"name": f"Team {i}"})
            token = cp.http.post(
                f"/v1/teams/{cp.team_id}/create_access_token", json={"name": f"tf-{i}"}
            )
            personal = cp.http.post("/v1/create_personal_access_token", json={"name": f"p{i}"})
            return team.status_code, token.status_code, personal.status_code

        with ThreadPoolExecutor(PARALLELISM) as pool:
            results = list(pool.map(write, range(PARALLELISM * 3)))
        assert {r[0] for r in results} == {201}
        assert {r[1] for r in results} == {201}
        assert {r[2] for r in results} == {201}
