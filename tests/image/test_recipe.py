"""The Dockerfile and the offline build (scripts/build-rootfs) install the same things."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_dockerfile_and_offline_build_share_their_recipe() -> None:
    dockerfile = (REPO / "infra" / "image" / "Dockerfile").read_text()
    build = (REPO / "scripts" / "build-rootfs").read_text()
    for shared in ("packages.txt", "requirements.py", "install.sh", "dpkg-excludes"):
        assert shared in dockerfile and shared in build, shared
    node = build.split("NODE_VERSION=", 1)[1].split()[0]
    assert f"node:{node}-bookworm-slim" in dockerfile
    npm = build.split("NPM_VERSION=", 1)[1].split()[0]
    assert f"ARG NPM_VERSION={npm}" in dockerfile  # the same npm installs external packages
    assert "bookworm" in build and "debian:12." in dockerfile  # one Debian release
    install = (REPO / "infra" / "image" / "install.sh").read_text()
    assert "--uid 10001" in install and "USER 10001:10001" in dockerfile


def test_the_image_leaves_out_test_only_packages_and_keeps_the_rest() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "image_requirements", REPO / "infra" / "image" / "requirements.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    kept = module.image_requirements()
    names = {module._name(r) for r in kept}
    assert not names & {"moto", "schemathesis", "localstripe"}
    for needed in ("django", "daphne", "celery", "kubernetes", "boto3", "mini-racer", "hnswlib"):
        assert needed in names, needed
    assert "async-timeout==5.0.1" in kept  # Debian bookworm's Python 3.11.2 needs it
    assert "psycopg[binary]==3.3.9" in kept  # extras survive
    assert len(kept) == len(set(kept))
