"""The Dockerfile and the offline build (scripts/build-rootfs) install the same things."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_dockerfile_and_offline_build_share_their_recipe() -> None:
    dockerfile = (REPO / "infra" / "image" / "Dockerfile").read_text()
    build = (REPO / "scripts" / "build-rootfs").read_text()
    for shared in ("packages.txt", "requirements-bookworm.txt", "install.sh", "dpkg-excludes"):
        assert shared in dockerfile and shared in build, shared
    node = build.split("NODE_VERSION=", 1)[1].split()[0]
    assert f"node:{node}-bookworm-slim" in dockerfile
    assert "bookworm" in build and "debian:12." in dockerfile  # one Debian release
    install = (REPO / "infra" / "image" / "install.sh").read_text()
    assert "--uid 10001" in install and "USER 10001:10001" in dockerfile
