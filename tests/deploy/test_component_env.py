"""Env vars of component instances: bindings checked at push, values resolved per activation."""

from __future__ import annotations

import json

import pytest

from dataplane.deploy import component_env
from dataplane.deploy.errors import DeployError

PLATFORM = {"CONVEX_CLOUD_URL": "http://cloud", "CONVEX_SITE_URL": "http://site"}
OPTIONAL = {"type": "value", "value": '{"type":"string"}', "optional": True}
REQUIRED = {"type": "value", "value": '{"type":"string"}'}


def test_declared_reads_the_definition_metadata() -> None:
    meta = {"envVars": [["LEVEL", OPTIONAL], ["KEY", REQUIRED]]}
    assert component_env.declared(meta) == {
        "LEVEL": component_env.Declared(True, '{"type":"string"}'),
        "KEY": component_env.Declared(False, '{"type":"string"}'),
    }
    assert component_env.declared({}) == {}


def test_bindings_are_checked_against_both_sides() -> None:
    literals = [{"type": "literal", "value": level} for level in ("DEBUG", "INFO")]
    levels = json.dumps({"type": "union", "value": literals})
    wanted = {
        "LEVEL": component_env.Declared(True, levels),
        "KEY": component_env.Declared(False, '{"type":"string"}'),
    }
    child = {
        "name": "pool",
        "env": [
            ["LEVEL", {"type": "value", "value": "DEBUG"}],
            ["KEY", {"type": "envVar", "name": "API_KEY"}],
        ],
    }
    assert component_env.bindings("x", child, wanted, None) == {
        "LEVEL": {"type": "value", "value": "DEBUG"},
        "KEY": {"type": "envVar", "name": "API_KEY"},
    }
    bad_level = {"name": "pool", "env": [["LEVEL", {"type": "value", "value": "LOUD"}]]}
    with pytest.raises(DeployError, match="env var 'LEVEL' of component 'pool'"):
        component_env.bindings("x", bad_level, wanted, None)
    with pytest.raises(DeployError, match="needs env vars KEY"):
        component_env.bindings("x", {"name": "pool", "env": None}, wanted, None)
    with pytest.raises(DeployError, match="declares no env var 'OTHER'"):
        component_env.bindings(
            "x", {"name": "pool", "env": [["OTHER", {"type": "value", "value": "1"}]]}, {}, None
        )
    # a component passes on only variables it declares itself
    with pytest.raises(DeployError, match="'API_KEY' passed to component 'pool'"):
        component_env.bindings("x", child, wanted, {"LEVEL"})


def test_resolve_follows_references_down_the_tree() -> None:
    bound = {
        "a": {"K": {"type": "envVar", "name": "DEPLOY_K"}, "L": {"type": "value", "value": "1"}},
        "a/b": {"K2": {"type": "envVar", "name": "K"}, "M": {"type": "envVar", "name": "NOPE"}},
        "c": {},
    }
    env = component_env.resolve(bound, {"DEPLOY_K": "secret", "OTHER": "x"}, PLATFORM)
    assert env["a"] == {"K": "secret", "L": "1", **PLATFORM}
    assert env["a/b"] == {"K2": "secret", **PLATFORM}  # an unset reference stays unset
    assert env["c"] == PLATFORM  # nothing of the deployment's own variables
