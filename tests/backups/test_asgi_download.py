"""Under ASGI (what Daphne serves) a download is streamed, not gathered into memory first."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from django.core.handlers.asgi import ASGIHandler

from tests.controlplane.conftest import Caller

from .conftest import DataPlane

pytestmark = pytest.mark.slow


def test_download_streams_under_asgi(
    transactional_db: None,
    team_owner: tuple[Caller, int],
    create_project: Callable[[str, str], tuple[str, str]],
    _backup_dir: Path,
) -> None:
    caller, _ = team_owner
    name, _url = create_project("streamed", "dev")
    DataPlane(name).add("rows", *({"n": i} for i in range(300)))
    created = caller.post(f"deployments/{name}/create_backup").json()
    stored = next(_backup_dir.rglob("*.zip")).read_bytes()

    async def fetch() -> tuple[int, str, bytes]:
        transport = httpx.ASGITransport(app=ASGIHandler())
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            r = await c.get(
                f"/v1/backups/{created['id']}/download",
                headers={"Authorization": f"Bearer {caller.token}"},
            )
            return r.status_code, r.headers["content-type"], r.content

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status, content_type, body = asyncio.run(fetch())
    assert (status, content_type) == (200, "application/zip")
    assert body == stored
    buffered = [w for w in caught if "must consume synchronous iterators" in str(w.message)]
    assert buffered == []
