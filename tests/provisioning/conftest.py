"""Tenants fixtures: a real local driver supervising real data-plane processes in a temp dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from controlplane.provisioning.drivers.local import LocalDriver


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[LocalDriver]:
    local = LocalDriver(tmp_path / "deployments", port_range=(25000, 25999))
    try:
        yield local
    finally:
        local.shutdown()
