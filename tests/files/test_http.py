"""Upload and serve endpoints of a real data-plane server process, over HTTP."""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Any

import httpx
import pytest

from dataplane.files import sign_upload_token
from dataplane.ids import decode_id, encode_id


def _upload_url(server: dict[str, str]) -> str:
    token = sign_upload_token(server["secret"], server["name"])
    return f"{server['url']}/api/storage/upload?token={token}"


def _upload(server: dict[str, str], data: bytes, content_type: str = "image/png") -> str:
    r = httpx.post(_upload_url(server), content=data, headers={"Content-Type": content_type})
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    storage_id: str = r.json()["storageId"]
    return storage_id


def test_upload_then_serve_with_ranges(server: dict[str, str]) -> None:
    data = os.urandom(300_000)
    sid = _upload(server, data)
    url = f"{server['url']}/api/storage/{sid}"

    full = httpx.get(url)
    assert full.status_code == 200
    assert full.content == data
    assert full.headers["Content-Type"] == "image/png"
    assert full.headers["Content-Length"] == str(len(data))
    assert full.headers["Accept-Ranges"] == "bytes"
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert full.headers["Digest"] == f"sha-256={digest}"

    part = httpx.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == data[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"

    tail = httpx.get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == data[-10:]
    open_ended = httpx.get(url, headers={"Range": f"bytes={len(data) - 5}-"})
    assert open_ended.status_code == 206 and open_ended.content == data[-5:]
    clamped = httpx.get(url, headers={"Range": f"bytes=0-{len(data) * 2}"})
    assert clamped.status_code == 206 and clamped.content == data

    refused = httpx.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert refused.status_code == 416
    assert refused.headers["Content-Range"] == f"bytes */{len(data)}"

    cached = httpx.get(url, headers={"If-None-Match": full.headers["ETag"]})
    assert cached.status_code == 304 and cached.content == b""

    head = httpx.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Length"] == str(len(data))


def test_large_upload_streams(server: dict[str, str], s3_client: Any) -> None:
    data = os.urandom(12 * 1024 * 1024 + 3)
    sid = _upload(server, data, "video/mp4")
    with httpx.stream("GET", f"{server['url']}/api/storage/{sid}") as r:
        assert r.status_code == 200
        assert hashlib.sha256(b"".join(r.iter_bytes())).digest() == hashlib.sha256(data).digest()
    if "bucket" in server:  # the bytes really are in the S3 bucket, under the deployment prefix
        obj = s3_client.head_object(Bucket=server["bucket"], Key=f"files-e2e/{sid}")
        assert obj["ContentLength"] == len(data)


def test_digest_header_is_checked(server: dict[str, str]) -> None:
    data = b"checked payload"
    good = base64.b64encode(hashlib.sha256(data).digest()).decode()
    bad = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    r = httpx.post(_upload_url(server), content=data, headers={"Digest": f"sha-256={bad}"})
    assert r.status_code == 400
    assert "digest mismatch" in r.json()["message"]
    r = httpx.post(_upload_url(server), content=data, headers={"Digest": f"sha-256={good}"})
    assert r.status_code == 200
    served = httpx.get(f"{server['url']}/api/storage/{r.json()['storageId']}")
    assert served.content == data
    assert served.headers["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "nonsense",
        sign_upload_token("wrong-secret", "files-e2e"),
        sign_upload_token("placeholder", "another-deployment"),
    ],
)
def test_bad_tokens_are_rejected(server: dict[str, str], token: str) -> None:
    r = httpx.post(f"{server['url']}/api/storage/upload?token={token}", content=b"x")
    assert r.status_code == 401
    assert r.json()["code"] == "StorageTokenInvalid"  # Convex's code


def test_expired_token_is_reported_as_expired(server: dict[str, str]) -> None:
    token = sign_upload_token(server["secret"], server["name"], ttl=-60)
    r = httpx.post(f"{server['url']}/api/storage/upload?token={token}", content=b"x")
    assert r.status_code == 401
    assert r.json()["code"] == "StorageTokenExpired"


def test_range_request_on_empty_file_serves_it_whole(server: dict[str, str]) -> None:
    """As Convex: 200 with an empty body and no Content-Range, not 416."""
    sid = _upload(server, b"", "text/plain")
    r = httpx.get(f"{server['url']}/api/storage/{sid}", headers={"Range": "bytes=0-0"})
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["Content-Length"] == "0"
    assert r.headers["Content-Type"] == "text/plain"
    assert "Content-Range" not in r.headers


def test_unknown_and_invalid_ids(server: dict[str, str]) -> None:
    sid = _upload(server, b"x")
    parts = decode_id(sid)
    assert parts is not None
    missing = encode_id(parts.table_number, os.urandom(16))  # well-formed, never stored
    r = httpx.get(f"{server['url']}/api/storage/{missing}")
    assert r.status_code == 404
    assert r.json()["code"] == "FileNotFound"
    r = httpx.get(f"{server['url']}/api/storage/not-a-storage-id")
    assert r.status_code == 400
    assert "not a valid storage ID" in r.json()["message"]


def test_cors_preflight(server: dict[str, str]) -> None:
    r = httpx.options(
        _upload_url(server),
        headers={"Origin": "http://app.test", "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Digest" in r.headers["Access-Control-Allow-Headers"]
