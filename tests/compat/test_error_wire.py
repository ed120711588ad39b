"""Failing functions as the official clients see them, after a deploy with the official CLI.

Convex's wire behaviour: every failure message reads `[Request ID: <16 hex>] Server Error\\n`
then `Uncaught <Name>: <message>` and the app's own frames (`../convex/<file>.ts:L:C`), the
same over HTTP and the sync WebSocket; ConvexError data reaches the client as a ConvexError;
/api/query etc. answer a failed function with status 560; an HTTP action that throws answers
JSON `{code, trace}`; a missing function reads "Did you forget to run `npx convex dev`?"; a
write conflict or overload (the test-only `throwOcc`/`throwOverloaded` syscalls) is an HTTP error
naming it, and makes the WebSocket client reconnect and resend the mutation."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx
import pytest
from convex.http_client import ConvexError, ConvexExecutionError, ConvexHttpClient

from .conftest import REPO, ConvexCli, Server, copy_app

pytestmark = pytest.mark.slow

SCRIPT = REPO / "tests" / "compat" / "js" / "errors.mjs"
PREFIX = r"\[Request ID: [0-9a-f]{16}\] Server Error\n"
FRAME = r"    at (async )?(<anonymous>|[\w.]+) \(\.\./convex/errors\.ts:\d+:\d+\)\n"


def _observations(url: str) -> list[dict]:
    proc = subprocess.run(
        ["node", str(SCRIPT), url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0 and lines[-1] == {"ok": True}, proc.stdout + proc.stderr
    return lines[:-1]


def test_failures_reach_official_clients_as_convex_words_them(
    dataplane_server: Server, tmp_path: Path
) -> None:
    ConvexCli(dataplane_server, copy_app("errors", tmp_path / "work")).deploy()
    seen = _observations(dataplane_server.url)
    by = {(o["transport"], o["fn"]): o for o in seen if "transport" in o}

    for transport in ("http", "ws"):
        plain = by[(transport, "errors:plainError")]
        assert not plain["isConvexError"] and plain["data"] is None
        # The WebSocket clients add `[CONVEX Q(path)] ` and `\n  Called by client` themselves.
        client_prefix = r"(\[CONVEX [QMA]\([\w:]+\)\] )?"
        suffix = r"(\n  Called by client)?"
        assert re.fullmatch(
            client_prefix + PREFIX + "Uncaught Error: plain failure\n" + FRAME + suffix,
            plain["message"],
        ), plain["message"]

        simple = by[(transport, "errors:stringData")]
        assert simple["isConvexError"] and simple["data"] == "just a string"
        assert re.fullmatch(
            client_prefix + PREFIX + "Uncaught ConvexError: just a string\n" + FRAME + suffix,
            simple["message"],
        ), simple["message"]

        obj = by[(transport, "errors:objectData")]
        assert obj["isConvexError"]
        assert obj["data"] == {"zeta": 1, "alpha": "two", "code": "3n"}
        assert 'Uncaught ConvexError: {"zeta":1,"alpha":"two","code":"3n"}\n' in obj["message"]

        nested = by[(transport, "errors:viaQuery")]
        assert nested["isConvexError"] and nested["data"] == "just a string"
        assert re.fullmatch(
            client_prefix
            + PREFIX
            + "Uncaught ConvexError: Uncaught ConvexError: just a string\n"
            + FRAME
            + "\n"
            + FRAME
            + suffix,
            nested["message"],
        ), nested["message"]

    retryable = {o["retryable"]: o["http"] for o in seen if "retryable" in o}
    assert "OptimisticConcurrencyControlFailure" in retryable["conflictUntilMarked"]
    assert "Busy" in retryable["busyUntilMarked"]
    (retried,) = [o for o in seen if "retried" in o]
    assert retried == {"retried": "done", "reconnected": True}

    (raw,) = [o for o in seen if "raw" in o]
    assert raw["raw"] == 560
    assert raw["body"]["status"] == "error" and raw["body"]["errorData"] == "just a string"
    _check_http_api_and_http_actions(dataplane_server.url)


def _check_http_api_and_http_actions(url: str) -> None:
    failed = httpx.post(f"{url}/api/mutation", json={"path": "errors:objectData", "args": {}})
    assert failed.status_code == 560
    three = {"$integer": "AwAAAAAAAAA="}
    assert failed.json()["errorData"] == {"zeta": 1, "alpha": "two", "code": three}
    missing = httpx.post(f"{url}/api/query", json={"path": "errors:nope", "args": {}})
    assert missing.status_code == 560
    assert missing.json()["errorMessage"].endswith(
        "Could not find public function for 'errors:nope'. Did you forget to run `npx convex dev`?"
    )

    thrown = httpx.get(f"{url}/http/fails")
    assert thrown.status_code == 500
    assert thrown.headers["content-type"] == "application/json"
    body = thrown.json()
    assert re.fullmatch(PREFIX[:-2] + r": Uncaught Error: route failed", body["code"])
    assert re.fullmatch(
        "Uncaught Error: route failed\n" + FRAME.replace("errors", "http"), body["trace"]
    )
    with_data = httpx.get(f"{url}/http/fails_with_data").json()
    assert with_data["data"] == {"reason": "teapot", "status": 418}

    # The PyPI client keeps reading function errors (it raises on 5xx before reading bodies).
    client = ConvexHttpClient(url)
    with pytest.raises(ConvexError) as info:
        client.query("errors:stringData")
    assert info.value.data == "just a string"
    with pytest.raises(ConvexExecutionError, match="Uncaught Error: plain failure"):
        client.query("errors:plainError")
