"""The official npm `convex` clients, unmodified, against a live Strata server."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import IO

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.sync.live import (
    JS_DIR,
    JWT_ISSUER,
    LiveApp,
    auth_config_for,
    deploy_sync_app,
    run_scenario,
    user_token,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, signing_key) -> Iterator[LiveApp]:
    root = tmp_path_factory.mktemp("js-clients")
    app = deploy_sync_app(root, auth_config=auth_config_for(signing_key))
    try:
        yield app
    finally:
        app.server.stop()


def test_subscription_sees_other_clients_mutations_and_http_client(live: LiveApp) -> None:
    lines = run_scenario(live, "subscribe")
    seen = lines[0]["seen"]
    assert seen[0] == [] and seen[-1] == ["one", "two"]
    assert lines[1]["error"] == {
        "convexError": True,
        "data": {"code": "EMPTY", "message": "body must not be empty"},
    }
    assert lines[2]["echo"] == {"n": "bigint:5", "s": "x"}
    assert lines[3]["query"] == 2
    assert lines[4]["httpQuery"] == ["one", "two"]
    assert lines[5]["httpMutation"] == "string"


def test_optimistic_update_then_server_value(live: LiveApp) -> None:
    (line,) = run_scenario(live, "optimistic")
    assert line["localFirst"] == ["fast:local"]
    assert line["events"][-1] == ["fast:server"]
    assert line["final"] == [True]


def test_paginated_query_grows_live(live: LiveApp) -> None:
    (line,) = run_scenario(live, "paginate")
    last = line["results"][-1]
    assert last["bodies"] == ["a", "b", "c", "d"]
    firsts = [r for r in line["results"] if r["status"] != "LoadingFirstPage"]
    assert firsts[0]["bodies"] == ["a", "b"]


def _next_json(stream: IO[str]) -> dict:
    """The next JSON line of the scenario (the client also logs plain text)."""
    while True:
        line = stream.readline()
        if not line:
            raise AssertionError("scenario ended early")
        if line.startswith("{"):
            return json.loads(line)


def test_mutation_sent_while_server_down_survives_restart(live: LiveApp) -> None:
    proc = subprocess.Popen(
        ["node", str(JS_DIR / "scenarios.mjs"), "reconnect", live.url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert _next_json(proc.stdout) == {"ready": True}
        live.server.stop()
        proc.stdin.write("stopped\n")
        proc.stdin.flush()
        assert _next_json(proc.stdout) == {"sent": True}
        live.restart()
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    assert lines and lines[-1] == {"ok": True}, f"{out}\n{err}\n{live.server.log()[-3000:]}"
    result = lines[0]
    assert result["bodies"] == ["while-down"]  # delivered exactly once
    assert isinstance(result["id"], str)


def test_user_jwt_auth_and_rejected_token(live: LiveApp, signing_key) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    good, bad = user_token(signing_key, "carol"), user_token(stranger, "mallory")
    first, second = run_scenario(live, "auth", good, bad)
    assert first["subject"] == "carol"
    assert first["tokenIdentifier"] == f"{JWT_ISSUER}|carol"
    assert first["changes"] == [True]
    assert second == {"badChanges": [False], "anonymous": None}
