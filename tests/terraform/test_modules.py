"""The Kubernetes modules and examples: `terraform fmt` clean, references resolve, documented.

`terraform validate` needs the hashicorp/kubernetes, random and aws providers, which cannot be
downloaded offline, so references are checked here from the parsed HCL instead.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import hcl2
import pytest

from .conftest import REPO, TERRAFORM_SHIM

ROOT = REPO / "infra" / "terraform"
MODULES = sorted(p for p in (ROOT / "modules").iterdir() if p.is_dir())
CONFIGS = [*MODULES, *sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir())]


def _parse(directory: Path) -> list[dict[str, Any]]:
    return [hcl2.load(f.open()) for f in sorted(directory.glob("*.tf"))]


def _names(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for doc in docs:
        for block in doc.get(kind, []):
            for name, body in block.items():
                out[name.strip('"')] = body
    return out


def _locals(docs: list[dict[str, Any]]) -> set[str]:
    return {
        k for doc in docs for block in doc.get("locals", []) for k in block if k != "__is_block__"
    }


def _text(docs: list[dict[str, Any]]) -> str:
    return json.dumps(docs)  # comments are gone once parsed


def test_fmt_is_clean(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(TERRAFORM_SHIM), "fmt", "-check", "-recursive", "-diff", str(ROOT)],
        capture_output=True,
        text=True,
        env={"CHECKPOINT_DISABLE": "1", "HOME": str(tmp_path), "TF_CLI_CONFIG_FILE": "/dev/null"},
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("directory", CONFIGS, ids=lambda p: p.name)
def test_references_resolve(directory: Path) -> None:
    docs = _parse(directory)
    text = _text(docs)
    variables, locals_ = set(_names(docs, "variable")), _locals(docs)
    used_vars = set(re.findall(r"\bvar\.(\w+)", text))
    assert used_vars <= variables, f"undeclared variables: {used_vars - variables}"
    used_locals = set(re.findall(r"\blocal\.(\w+)", text))
    assert used_locals <= locals_, f"undeclared locals: {used_locals - locals_}"
    unused = variables - used_vars
    assert not unused, f"variables never used: {unused}"

    calls = _names(docs, "module")
    for name, call in calls.items():
        source = (directory / call["source"].strip('"')).resolve()
        module_docs = _parse(source)
        inputs = _names(module_docs, "variable")
        given = {k for k in call if k not in ("source", "__is_block__")}
        assert given <= set(inputs), f"module {name}: unknown inputs {given - set(inputs)}"
        required = {k for k, v in inputs.items() if "default" not in v}
        assert required <= given, f"module {name}: missing inputs {required - given}"
        outputs = set(_names(module_docs, "output"))
        for used in re.findall(rf"\bmodule\.{name}\.(\w+)", text):
            assert used in outputs, f"module.{name}.{used} is not an output of {source.name}"


@pytest.mark.parametrize("directory", MODULES, ids=lambda p: p.name)
def test_modules_are_documented(directory: Path) -> None:
    docs = _parse(directory)
    readme = (directory / "README.md").read_text()
    for kind in ("variable", "output"):
        for name, body in _names(docs, kind).items():
            description = str(body.get("description", "")).strip('"')
            assert description, f"{kind} {name} has no description"
            assert f"`{name}`" in readme, f"{kind} {name} is missing from README.md"
    assert _names(docs, "resource"), "a module without resources"
