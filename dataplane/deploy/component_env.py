"""Environment variables of component instances: declared by definitions, bound by parents.

A definition declares the variables its code reads (`defineComponent(name, {env: {X: v...}})`,
its metadata's `envVars`); whoever `use()`s it binds them (`app.use(c, {env: {X: ...}})`, the
child's `env`), each to a literal string or to one of the parent's own variables: the
deployment's for the app, the parent instance's resolved ones for a component. Bindings are
checked at push and stored; values are resolved on every activation, so changing a deployment
env var reaches the components bound to it. An instance's process.env is the platform vars
(CONVEX_CLOUD_URL, CONVEX_SITE_URL) plus its bound variables, nothing of the deployment's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..validators import ValidationError, check_value
from .errors import DeployError


@dataclass(frozen=True)
class Declared:
    """One env var a definition declares."""

    optional: bool
    validator: str | None  # the validator's JSON (`v.string()`, a union of literals...)


def declared(metadata: dict[str, Any]) -> dict[str, Declared]:
    """A definition's declared env vars by name."""
    out: dict[str, Declared] = {}
    for entry in metadata.get("envVars") or []:
        if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str):
            spec = entry[1] if isinstance(entry[1], dict) else {}
            value = spec.get("value")
            out[entry[0]] = Declared(
                bool(spec.get("optional")), value if isinstance(value, str) else None
            )
    return out


def bindings(
    where: str, child: dict[str, Any], wanted: dict[str, Declared], parent_vars: set[str] | None
) -> dict[str, dict[str, str]]:
    """The checked bindings of one `use()`: every name declared by the child's definition,
    every required one bound, literals matching their validator, references only to
    variables the parent has (`parent_vars`; None for the app, whose references name
    deployment env vars and are checked when set, not here)."""
    name = child.get("name")
    out: dict[str, dict[str, str]] = {}
    for entry in child.get("env") or []:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
            raise DeployError(f"{where}: invalid env of component {name!r}")
        var, binding = entry
        if var not in wanted:
            raise DeployError(f"{where}: component {name!r} declares no env var {var!r}")
        kind = binding.get("type") if isinstance(binding, dict) else None
        if kind == "value" and isinstance(binding.get("value"), str):
            try:
                check_value(wanted[var].validator, binding["value"])
            except (ValidationError, ValueError) as e:
                raise DeployError(f"{where}: env var {var!r} of component {name!r}: {e}") from None
            out[var] = {"type": "value", "value": binding["value"]}
        elif kind == "envVar" and isinstance(binding.get("name"), str):
            if parent_vars is not None and binding["name"] not in parent_vars:
                raise DeployError(
                    f"{where}: env var {binding['name']!r} passed to component {name!r} "
                    "is not declared by this component"
                )
            out[var] = {"type": "envVar", "name": binding["name"]}
        else:
            raise DeployError(f"{where}: invalid env binding {var!r} of component {name!r}")
    missing = sorted(v for v, d in wanted.items() if not d.optional and v not in out)
    if missing:
        raise DeployError(f"{where}: component {name!r} needs env vars {', '.join(missing)}")
    return out


def resolve(
    bound: dict[str, dict[str, Any]], deployment_env: dict[str, str], platform: dict[str, str]
) -> dict[str, dict[str, str]]:
    """Each instance's process.env, parents before children (a reference that names an
    unset variable leaves the child's variable unset)."""
    own: dict[str, dict[str, str]] = {}
    for instance in sorted(bound, key=lambda p: p.count("/")):
        parent = instance.rpartition("/")[0]
        source = deployment_env if not parent else own.get(parent, {})
        values: dict[str, str] = {}
        for var, binding in (bound[instance] or {}).items():
            if binding.get("type") == "value":
                values[var] = str(binding.get("value"))
            elif binding.get("name") in source:
                values[var] = source[str(binding["name"])]
        own[instance] = values
    return {instance: {**values, **platform} for instance, values in own.items()}
