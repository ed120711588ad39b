"""The push's nodeDependencies: validated before npm sees them, cached by set, clear failures."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from dataplane.config import ConfigError, DeploymentConfig
from dataplane.deploy.errors import DeployError
from dataplane.deploy.node_packages import (
    NodeDependency,
    NodePackages,
    dependency_hash,
    parse_dependencies,
)


def test_dependencies_are_parsed_sorted_and_deduplicated() -> None:
    deps = parse_dependencies(
        [
            {"name": "react", "version": "18.3.1"},
            {"name": "@types/node", "version": "18.19.0-beta.1"},
            {"name": "react", "version": "18.3.1"},
        ]
    )
    assert deps == (
        NodeDependency("@types/node", "18.19.0-beta.1"),
        NodeDependency("react", "18.3.1"),
    )
    assert parse_dependencies(None) == ()
    assert parse_dependencies([]) == ()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"name": "react"}, "must be a list"),
        ([{"name": "../evil", "version": "1.0.0"}], "Invalid external package name '../evil'"),
        ([{"name": "-rf", "version": "1.0.0"}], "Invalid external package name '-rf'"),
        ([{"name": "x", "version": "file:/etc"}], "Invalid version 'file:/etc' of external"),
        ([{"name": "x", "version": "--global"}], "Invalid version '--global'"),
        ([{"name": "x"}], "Invalid version None"),
        (
            [{"name": "x", "version": "1.0.0"}, {"name": "x", "version": "2.0.0"}],
            "listed with two versions",
        ),
    ],
)
def test_bad_dependencies_are_refused_before_npm_runs(raw: object, message: str) -> None:
    with pytest.raises(DeployError, match=message.replace("(", r"\(").replace(".", r"\.")):
        parse_dependencies(raw)


def test_the_cache_key_ignores_order_but_not_versions() -> None:
    a = NodeDependency("a", "1.0.0")
    b = NodeDependency("b", "2.0.0")
    assert dependency_hash((a, b)) == dependency_hash((b, a))
    assert dependency_hash((a, b)) != dependency_hash((a, NodeDependency("b", "2.0.1")))


def test_no_dependencies_need_no_install(tmp_path: Path) -> None:
    packages = NodePackages(tmp_path / "cache", npm_binary=str(tmp_path / "missing-npm"))
    assert packages.ensure(()) is None
    assert not (tmp_path / "cache").exists()


def test_a_missing_npm_is_a_deploy_error_and_leaves_no_partial_install(tmp_path: Path) -> None:
    packages = NodePackages(tmp_path / "cache", npm_binary=str(tmp_path / "missing-npm"))
    with pytest.raises(DeployError, match="Could not run npm") as failure:
        packages.ensure((NodeDependency("is-number", "7.0.0"),))
    assert failure.value.code == "InvalidExternalModules"
    assert list((tmp_path / "cache").iterdir()) == []


def test_installs_left_by_a_crash_are_cleared_but_not_running_ones(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    (root / ".install-crashed").mkdir(parents=True)
    (root / ".install-running").mkdir()
    old = time.time() - 3 * 60
    os.utime(root / ".install-crashed", (old, old))
    NodePackages(root, timeout_s=60.0)
    assert sorted(p.name for p in root.iterdir()) == [".install-running"]


def test_npm_settings_are_read_from_the_environment(tmp_path: Path) -> None:
    base = {"STRATA_DP_DATA_DIR": str(tmp_path / "dp")}
    config = DeploymentConfig.from_env(
        {**base, "STRATA_DP_NPM_BINARY": "/opt/npm", "STRATA_DP_NPM_INSTALL_SECONDS": "90"}
    )
    assert (config.npm_binary, config.npm_install_seconds) == ("/opt/npm", 90.0)
    assert config.node_packages_dir == (tmp_path / "dp" / "node_packages").resolve()
    defaults = DeploymentConfig.from_env(base)
    assert (defaults.npm_binary, defaults.npm_install_seconds) == ("npm", 600.0)
    with pytest.raises(ConfigError, match="STRATA_DP_NPM_INSTALL_SECONDS"):
        DeploymentConfig.from_env({**base, "STRATA_DP_NPM_INSTALL_SECONDS": "soon"})
