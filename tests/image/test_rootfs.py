"""The image's root filesystem, built offline by scripts/build-rootfs, serves a deployment.

The built filesystem's entrypoint runs in a bubblewrap sandbox the way a pod runs it: the root
filesystem read-only, /tmp and /data the only writable places, uid 10001 with no capabilities
and no new privileges. The official CLI deploys an app with "use node" actions to it; queries,
mutations and a Node.js action are answered through the HTTP API.

Slow (a Debian bootstrap and every wheel): runs when STRATA_TEST_IMAGE=1, which
`scripts/test-image` sets. STRATA_TEST_ROOTFS=<dir> reuses a filesystem built before.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from convex.http_client import ConvexHttpClient

from contract.keys import mint_key, new_instance_secret
from tests.compat.conftest import ConvexCli, Server, copy_app, free_port

REPO = Path(__file__).resolve().parents[2]
RUN_AS = 10001
NODE_VERSION = "v20.20.2"
NPM_VERSION = "10.9.9"

pytestmark = [
    pytest.mark.image,
    pytest.mark.skipif(
        os.environ.get("STRATA_TEST_IMAGE") != "1",
        reason="builds a root filesystem: set STRATA_TEST_IMAGE=1 (scripts/test-image)",
    ),
]


def _du(path: Path) -> int:
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("STRATA_TEST_ROOTFS")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("image") / "rootfs"
    started = time.monotonic()
    subprocess.run([str(REPO / "scripts" / "build-rootfs"), str(out)], check=True, timeout=3000)
    print(f"\nrootfs built in {time.monotonic() - started:.0f} s, {_du(out) / 2**20:.0f} MiB")
    return out


def _in_root(rootfs: Path, *argv: str) -> str:
    """Run argv in the filesystem (read-only) as its unprivileged user."""
    result = subprocess.run(
        _sandbox(rootfs, {"PATH": "/usr/local/bin:/usr/bin:/bin"}, {}) + list(argv),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _sandbox(rootfs: Path, env: dict[str, str], binds: dict[str, Path]) -> list[str]:
    argv = [
        "bwrap",
        "--ro-bind", str(rootfs), "/",
        "--proc", "/proc",
        "--dev", "/dev",
        "--perms", "1777", "--tmpfs", "/tmp",  # an emptyDir
        "--unshare-pid", "--unshare-ipc", "--unshare-uts",
        "--die-with-parent",
        "--clearenv",
    ]  # fmt: skip
    for target, source in binds.items():
        argv += ["--bind", str(source), target]
    for key, value in env.items():
        argv += ["--setenv", key, value]
    # Drop to the image's user, without capabilities, before anything of the image runs.
    return [
        *argv,
        "/usr/bin/setpriv",
        f"--reuid={RUN_AS}",
        f"--regid={RUN_AS}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
    ]


def test_rootfs_layout(rootfs: Path) -> None:
    assert _in_root(rootfs, "/usr/local/bin/node", "--version") == NODE_VERSION
    # npm, for the external packages of "use node" actions (node.externalPackages)
    assert _in_root(rootfs, "/usr/local/bin/npm", "--version") == NPM_VERSION
    assert _in_root(rootfs, "id", "-u") == str(RUN_AS)
    assert _in_root(rootfs, "getent", "passwd", "strata").startswith(f"strata:x:{RUN_AS}:")
    version = _in_root(
        rootfs, "/opt/strata/venv/bin/python", "-c", "import sys; print(sys.version)"
    )
    assert version.startswith("3.11.")
    esbuild = rootfs / "opt/strata/app/node_modules/esbuild/package.json"
    cli = rootfs / "opt/strata/app/node_modules/convex/bin/main.js"
    assert esbuild.is_file() and cli.is_file()
    assert not (rootfs / "opt/strata/app/tests").exists()
    assert not list((rootfs / "var/lib/apt/lists").glob("*_Packages"))
    print(f"\nrootfs size: {_du(rootfs) / 2**20:.0f} MiB")


@pytest.fixture
def served(rootfs: Path, tmp_path: Path) -> Iterator[Server]:
    """`strata dataplane` from the filesystem, on a free port of the host's loopback."""
    name = "image-smoke-1"
    data = tmp_path / "data"
    data.mkdir()
    os.chown(data, RUN_AS, RUN_AS)
    secret = new_instance_secret()
    port = free_port()
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "STRATA_DP_NAME": name,
        "STRATA_DP_DATA_DIR": "/data",
        "STRATA_DP_PORT": str(port),
        "STRATA_DP_INSTANCE_SECRET": secret,
        "STRATA_DP_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "STRATA_DP_ISOLATE_POOL": "2",
    }
    argv = [*_sandbox(rootfs, env, {"/data": data}), "/usr/local/bin/strata", "dataplane"]
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    admin_key = mint_key(name, secret, key_id="local-admin")
    server = Server(f"http://127.0.0.1:{port}", admin_key, name, data, process, log_path, env)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert process.poll() is None, server.log()
            try:
                if httpx.get(f"{server.url}/instance_name", timeout=2).text == name:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            raise AssertionError(f"no answer from the image's data plane:\n{server.log()}")
        yield server
    finally:
        server.stop()


def test_entrypoint_serves_a_deployment(served: Server, tmp_path: Path) -> None:
    assert httpx.get(f"{served.url}/version").text == "strata"
    assert httpx.get(f"{served.url}/healthz").json()["status"] == "ok"
    ready = httpx.get(f"{served.url}/readyz")
    assert ready.status_code == 200 and ready.json()["role"] == "committer"

    app = copy_app("node_app", tmp_path / "work")
    ConvexCli(served, app).deploy()
    client = ConvexHttpClient(served.url)
    out = client.action("nodeActions:hashAndStore", {"text": "image"})  # Node.js in the image
    assert out["digest"] == hashlib.sha256(b"image").hexdigest()
    assert client.query("store:count", {}) == 1
    assert client.action("store:viaNode", {"x": 21}) == 42
    # Everything it wrote is the unprivileged user's, on the one writable volume.
    written = [p for p in served.data_dir.rglob("*") if p.is_file()]
    assert written and {p.stat().st_uid for p in written} == {RUN_AS}


def test_control_plane_entrypoint_migrates_and_serves(rootfs: Path, tmp_path: Path) -> None:
    """`strata migrate` then `strata web` (daphne) from the same filesystem, on SQLite."""
    data = tmp_path / "cp"
    data.mkdir()
    os.chown(data, RUN_AS, RUN_AS)
    port = free_port()
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "STRATA_DATA_DIR": "/data",
        "STRATA_WEB_PORT": str(port),
        "DJANGO_SETTINGS_MODULE": "controlplane.settings",
    }
    sandbox = _sandbox(rootfs, env, {"/data": data})
    migrate = subprocess.run(
        [*sandbox, "/usr/local/bin/strata", "migrate"], capture_output=True, text=True, timeout=300
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    log_path = tmp_path / "web.log"
    with log_path.open("wb") as log:
        web = subprocess.Popen([*sandbox, "/usr/local/bin/strata", "web"], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert web.poll() is None, log_path.read_text()
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.3)
        assert r.json() == {"status": "ok"}
        anon = httpx.get(f"http://127.0.0.1:{port}/v1/teams", timeout=10)
        assert anon.status_code in (401, 403), anon.text  # the API answers, and wants a login
    finally:
        web.terminate()
        web.wait(timeout=30)
