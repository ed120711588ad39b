"""External packages of "use node" actions (convex.json `node.externalPackages`) deployed by
the official CLI: installed from the npm registry, cached per dependency set across redeploys
and restarts, and a package npm cannot install fails the deploy naming it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from convex.http_client import ConvexHttpClient

from .conftest import REPO, ConvexCli, Server, copy_app, start_server

pytestmark = pytest.mark.slow
INSTALL_LOG = "installing external node packages"
MISSING = "strata-no-such-package-5e1c0a7f"


def _with_local_packages(app_dir: Path, packages: dict[str, str]) -> None:
    """Give the app a node_modules holding the repo's packages plus local stand-ins for
    `packages` (name -> version): the CLI only reads their package.json to learn the version
    it asks the deployment to install. The stand-ins' code is not what the registry has, so
    results show which copy ran."""
    (app_dir / "node_modules").unlink()
    modules = app_dir / "node_modules"
    modules.mkdir()
    for entry in (REPO / "node_modules").iterdir():
        (modules / entry.name).symlink_to(entry)
    for name, version in packages.items():
        pkg = modules / name
        pkg.mkdir()
        (pkg / "package.json").write_text(
            json.dumps({"name": name, "version": version, "main": "index.js"})
        )
        (pkg / "index.js").write_text('module.exports = () => "local stand-in";\n')
    manifest = json.loads((app_dir / "package.json").read_text())
    manifest["dependencies"].update(packages)
    (app_dir / "package.json").write_text(json.dumps(manifest))


def _app(server: Server, tmp_path: Path, packages: dict[str, str]) -> ConvexCli:
    app_dir = copy_app("node_packages_app", tmp_path / "work")
    _with_local_packages(app_dir, packages)
    return ConvexCli(server, app_dir)


def _config_hashes(server: Server) -> dict[str, object]:
    response = httpx.post(
        f"{server.url}/api/get_config_hashes",
        json={"version": "1.48.0", "adminKey": server.admin_key},
        headers={"Authorization": f"Convex {server.admin_key}"},
        timeout=30,
    )
    response.raise_for_status()
    result: dict[str, object] = response.json()
    return result


def test_external_package_installed_cached_and_reused(tmp_path: Path) -> None:
    server = start_server(tmp_path / "deployment")
    try:
        cli = _app(server, tmp_path, {"is-number": "7.0.0"})
        cli.deploy()
        client = ConvexHttpClient(server.url)
        expected = {
            "imported": [True, False, True],
            "required": [True, False, True],
            "version": "7.0.0",
            "base": "y.txt",
        }
        assert client.action("external:check", {"values": ["5", "abc", "0x1F"]}) == expected
        assert _config_hashes(server)["nodeDependencies"] == [
            {"name": "is-number", "version": "7.0.0"}
        ]
        cache = server.data_dir / "node_packages"
        installed = [p for p in cache.iterdir() if not p.name.startswith(".")]
        assert len(installed) == 1
        inode = installed[0].stat().st_ino

        # A redeploy of changed code with the same dependency set reuses the install.
        module = cli.app_dir / "convex" / "external.ts"
        module.write_text(module.read_text() + "\n// changed\n")
        cli.deploy()
        assert client.action("external:check", {"values": ["7"]})["required"] == [True]
        assert server.log().count(INSTALL_LOG) == 1
        assert [p.stat().st_ino for p in cache.iterdir() if not p.name.startswith(".")] == [inode]
    finally:
        server.stop()

    # A restarted process serves the deployed code from the same cache.
    server = start_server(tmp_path / "deployment")
    try:
        client = ConvexHttpClient(server.url)
        assert client.action("external:check", {"values": ["abc"]})["imported"] == [False]
        assert server.log().count(INSTALL_LOG) == 1
    finally:
        server.stop()


def test_uninstallable_package_fails_the_deploy_naming_it(
    dataplane_server: Server, tmp_path: Path
) -> None:
    cli = _app(dataplane_server, tmp_path, {"is-number": "7.0.0", MISSING: "1.0.0"})
    module = cli.app_dir / "convex" / "external.ts"
    module.write_text(
        module.read_text() + f'\nconst missing = require("{MISSING}");\n'
        "export const useMissing = action({ args: {}, handler: async () => String(missing) });\n"
    )
    result = cli.deploy(check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    failure = next(line for line in output.splitlines() if "Could not install" in line)
    assert f"the external package {MISSING}@1.0.0 from the npm registry" in failure
    assert "is-number" not in failure  # the package npm could install is not blamed
    # Nothing was deployed, and nothing is claimed to be.
    assert _config_hashes(dataplane_server)["nodeDependencies"] == []
