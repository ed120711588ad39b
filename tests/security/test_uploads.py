"""Uploads against a served deployment: streamed with flat memory, capped with a clear 413."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dataplane.serving import MAX_BODY_BYTES
from tests.sync.live import LiveApp, deploy_sync_app

MIB = 1 << 20
CAP = 160 * MIB
UPLOAD = 150 * MIB


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    app = deploy_sync_app(
        tmp_path_factory.mktemp("uploads"), extra_env={"STRATA_DP_MAX_UPLOAD_BYTES": str(CAP)}
    )
    try:
        yield app
    finally:
        app.server.stop()


def _upload_url(app: LiveApp) -> str:
    response = httpx.post(
        f"{app.url}/api/mutation",
        json={"path": "messages:uploadUrl", "args": {}, "format": "json"},
        timeout=30,
    )
    url: str = response.json()["value"]
    return url


def _body(size: int, chunk: int = MIB) -> Iterator[bytes]:
    block = bytes(range(256)) * (chunk // 256)
    sent = 0
    while sent < size:
        piece = block[: min(chunk, size - sent)]
        sent += len(piece)
        yield piece


def _post(
    url: str, size: int, *, declare_length: bool = True, content_type: str = "image/png"
) -> httpx.Response:
    headers = {"Content-Type": content_type}
    if declare_length:
        headers["Content-Length"] = str(size)
    return httpx.post(url, content=_body(size), headers=headers, timeout=300)


def _peak_rss(pid: int) -> int:
    """The process's resident-set high-water mark (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def test_concurrent_large_uploads_keep_memory_flat(live: LiveApp) -> None:
    pid = live.server.process.pid
    urls = [_upload_url(live) for _ in range(2)]
    before = _peak_rss(pid)
    results: list[httpx.Response] = []
    # Twisted parses form bodies into memory unless told not to: one upload claims to be one.
    kinds = ["application/octet-stream", "multipart/form-data; boundary=strata"]
    threads = [
        threading.Thread(target=lambda u=u, k=k: results.append(_post(u, UPLOAD, content_type=k)))
        for u, k in zip(urls, kinds, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    grown = _peak_rss(pid) - before
    assert [r.status_code for r in results] == [200, 200], [r.text for r in results]
    # Two 150 MiB bodies held in memory would add 300 MiB; streamed, a few chunks remain.
    assert grown < 64 * MIB, f"peak RSS grew by {grown / MIB:.0f} MiB"
    storage_id = results[0].json()["storageId"]
    with httpx.stream("GET", f"{live.url}/api/storage/{storage_id}", timeout=120) as response:
        assert response.status_code == 200
        assert sum(len(chunk) for chunk in response.iter_bytes()) == UPLOAD


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
def test_upload_over_the_cap_gets_413(live: LiveApp, declare_length: bool) -> None:
    response = _post(_upload_url(live), CAP + MIB, declare_length=declare_length)
    assert response.status_code == 413
    assert response.json()["code"] == "PayloadTooLarge"
    assert str(CAP) in response.json()["message"]
    # The refused body left no file behind and the server still answers.
    assert _post(_upload_url(live), MIB).status_code == 200


def test_other_bodies_over_their_cap_get_413(live: LiveApp) -> None:
    response = _post(f"{live.url}/api/mutation", MAX_BODY_BYTES + MIB)
    assert response.status_code == 413
    assert response.json()["code"] == "PayloadTooLarge"
