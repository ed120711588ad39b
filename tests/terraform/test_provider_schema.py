"""Provider schema vs. docs and examples: `terraform validate` with the real provider, offline."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import PROVIDER_SRC, REPO, TERRAFORM_SHIM, provider_cli_env

sys.path.insert(0, str(PROVIDER_SRC))
from strata_tf.data_sources import DATA_SOURCES
from strata_tf.resources import RESOURCES

DOCS = PROVIDER_SRC / "docs"
EXAMPLES = REPO / "infra" / "terraform" / "examples"


@pytest.mark.parametrize("kind", [*RESOURCES, *DATA_SOURCES], ids=lambda k: k.get_name())
def test_every_attribute_is_documented(kind: Any) -> None:
    folder = "resources" if kind in RESOURCES else "data-sources"
    doc = (DOCS / folder / f"{kind.get_name()}.md").read_text()
    for attribute in kind.get_schema().attributes:
        assert re.search(rf"`{attribute.name}`", doc), f"{attribute.name} not documented"
    assert f"({folder}/{kind.get_name()}.md)" in (DOCS / "index.md").read_text()


@pytest.mark.parametrize("example", ["provider-basic", "provider-import"])
def test_examples_validate_against_the_provider(tmp_path: Path, example: str) -> None:
    module = tmp_path / example
    shutil.copytree(EXAMPLES / example, module)
    result = subprocess.run(
        [sys.executable, str(TERRAFORM_SHIM), "validate", "-no-color"],
        cwd=module,
        env=provider_cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "The configuration is valid" in result.stdout


def test_validate_catches_schema_errors(tmp_path: Path) -> None:
    module = tmp_path / "bad"
    module.mkdir()
    (module / "main.tf").write_text(
        "terraform {\n"
        '  required_providers { strata = { source = "strata.local/strata/strata" } }\n'
        "}\n"
        'resource "strata_deployment" "d" {\n'
        '  project_id = "1"\n'
        '  type = "dev"\n'
        '  colour = "blue"\n'
        "}\n"
    )
    result = subprocess.run(
        [sys.executable, str(TERRAFORM_SHIM), "validate", "-no-color"],
        cwd=module,
        env=provider_cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert 'An argument named "colour" is not expected here' in result.stderr
