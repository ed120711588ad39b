"""Two real deployment processes on one real Postgres or MySQL database and Redis."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.compat.conftest import ConvexCli, Server, start_server
from tests.sync.live import APP, REPO

REDIS_URL = "redis://127.0.0.1:6379/0"


def start_process(data_dir: Path, name: str, database_url: str, env: dict[str, str]) -> Server:
    """start_server with extra STRATA_DP_* settings for the child process only."""
    popen = subprocess.Popen

    def with_env(args: Any, **kwargs: Any) -> Any:
        kwargs["env"] = {**kwargs.get("env", {}), **env}
        return popen(args, **kwargs)

    module_subprocess = start_server.__globals__["subprocess"]
    module_subprocess.Popen = with_env
    try:
        return start_server(data_dir, name=name, database_url=database_url)
    finally:
        module_subprocess.Popen = popen


@dataclass
class Cluster:
    """Processes serving one deployment; the first one started is the committer."""

    root: Path
    name: str
    database_url: str
    servers: list[Server]
    app_dir: Path | None = None

    def start(self, role: str = "auto") -> Server:
        env = {"STRATA_DP_ROLE": role, "STRATA_DP_REDIS_URL": REDIS_URL}
        # One data directory: the processes share the instance secret (and local blobs).
        server = start_process(self.root / "deployment", self.name, self.database_url, env)
        self.servers.append(server)
        return server

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


@pytest.fixture(
    params=[
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=[pytest.mark.mysql, pytest.mark.long]),
    ]
)
def replicated_url(request: pytest.FixtureRequest) -> str:
    """A fresh database of each backend several processes can share (Postgres, MySQL)."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def cluster(tmp_path: Path, replicated_url: str) -> Iterator[Cluster]:
    """A committer with the sync test app pushed by the official CLI, plus one replica."""
    name = f"repl-{uuid.uuid4().hex[:8]}"  # own Redis channel, whatever else runs
    group = Cluster(tmp_path, name, replicated_url, [])
    try:
        committer = group.start()
        app_dir = tmp_path / "work" / "syncapp"
        shutil.copytree(APP, app_dir)
        (app_dir / "package.json").write_text(
            json.dumps({"name": "syncapp", "private": True, "dependencies": {"convex": "1.48.0"}})
        )
        (app_dir / "node_modules").symlink_to(REPO / "node_modules")
        (tmp_path / "work" / "home").mkdir(exist_ok=True)
        ConvexCli(committer, app_dir).deploy()
        group.app_dir = app_dir
        group.start()
        yield group
    finally:
        group.stop()
