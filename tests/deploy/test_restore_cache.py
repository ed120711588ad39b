"""A start restores the deployed code from the data dir's cache (no esbuild, no analysis run)
when the modules, environment and builder are unchanged, and rebuilds it otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataplane.app import DeploymentApp
from dataplane.deploy import envvars, store
from dataplane.deploy.analysis import analyze
from dataplane.deploy.errors import DeployError
from dataplane.deploy.restore_cache import CACHE_FILE
from tests.apps.cli_bundle import APPS

from .conftest import make_deployment, push_request


def deploy_messages(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    app = make_deployment(tmp_path, url)
    try:
        manager = app.pushes
        start = manager.start_push(push_request(APPS / "messages" / "convex"))
        manager.wait_for_schema({"schemaChange": start["schemaChange"], "timeoutMs": 30_000})
        manager.finish_push({"startPush": start, "dryRun": False})
    finally:
        app.close()
    return url


def restored(tmp_path: Path, url: str) -> DeploymentApp:
    app = make_deployment(tmp_path, url)
    try:
        assert app.code.current() is not None
    except BaseException:
        app.close()
        raise
    return app


def test_a_start_uses_the_cache_and_rebuilds_when_it_does_not_match(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = deploy_messages(tmp_path)
    first = restored(tmp_path, url)  # builds, and writes the cache
    try:
        built = first.code.current()
        assert built is not None
        env = first.code.function_env(store.load_env(first.db.begin()))
        _bundle, fresh, _ = analyze(store.load_modules(first.db.begin()), env)
    finally:
        first.close()
    cache = tmp_path / "data" / CACHE_FILE
    assert cache.is_file()

    monkeypatch.setenv("STRATA_ESBUILD", str(tmp_path / "no-esbuild"))  # cannot build now
    second = restored(tmp_path, url)
    try:
        active = second.code.current()
        assert active is not None
        assert active.bundle.script == built.bundle.script
        assert active.app.functions == fresh.functions and active.app.crons == fresh.crons
        assert active.app.function("messages:list") is not None
    finally:
        second.close()
    # New environment variables are a miss: the code is rebuilt (which fails without esbuild).
    changed = make_deployment(tmp_path, url)
    try:
        envvars.update(changed.db, [("NEW_VAR", "1")])
    finally:
        changed.close()
    with pytest.raises(DeployError):
        restored(tmp_path, url).close()

    cache.write_bytes(b"{not json")  # a damaged cache is a miss too
    with pytest.raises(DeployError):
        restored(tmp_path, url).close()
    monkeypatch.delenv("STRATA_ESBUILD")
    restored(tmp_path, url).close()
    assert cache.read_bytes().startswith(b'{"key"')
