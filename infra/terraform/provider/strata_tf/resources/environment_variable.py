"""strata_environment_variable: one environment variable of a deployment."""

from __future__ import annotations

from tf import schema, types
from tf.iface import (
    CreateContext,
    DeleteContext,
    ImportContext,
    ReadContext,
    Resource,
    State,
    UpdateContext,
)

from ..api import ApiError
from .base import ApiBacked, find, guarded, split_id


class EnvironmentVariableResource(ApiBacked, Resource):
    @classmethod
    def get_name(cls) -> str:
        return "environment_variable"

    @classmethod
    def get_schema(cls) -> schema.Schema:
        return schema.Schema(
            description="An environment variable visible to a deployment's functions.",
            attributes=[
                schema.Attribute("id", types.String(), computed=True),
                schema.Attribute(
                    "deployment_name", types.String(), required=True, requires_replace=True
                ),
                schema.Attribute("name", types.String(), required=True, requires_replace=True),
                schema.Attribute("value", types.String(), required=True, sensitive=True),
            ],
        )

    def _read(self, deployment: str, name: str) -> State | None:
        items = self.api.list_all(f"deployments/{deployment}/list_environment_variables")
        found = find(items, name=name)
        if found is None:
            return None
        return {
            "id": f"{deployment}/{name}",
            "deployment_name": deployment,
            "name": name,
            "value": found["value"],
        }

    def _set(self, deployment: str, name: str, value: str | None) -> None:
        self.api.post(
            f"deployments/{deployment}/update_environment_variables",
            {"changes": [{"name": name, "value": value}]},
        )

    def create(self, ctx: CreateContext, planned: State) -> State | None:
        deployment, name = planned["deployment_name"], planned["name"]

        def run() -> State | None:
            if self._read(deployment, name) is not None:
                raise ApiError(
                    409,
                    "AlreadySet",
                    f"{name} is already set on {deployment}; import it with "
                    f"`terraform import <address> {deployment}/{name}`",
                )
            self._set(deployment, name, planned["value"])
            return self._read(deployment, name)

        return guarded(ctx.diagnostics, "Setting the environment variable", run)

    def read(self, ctx: ReadContext, current: State) -> State | None:
        return guarded(
            ctx.diagnostics,
            "Reading the environment variable",
            lambda: self._read(current["deployment_name"], current["name"]),
        )

    def update(self, ctx: UpdateContext, current: State, planned: State) -> State | None:
        def run() -> State | None:
            self._set(planned["deployment_name"], planned["name"], planned["value"])
            return self._read(planned["deployment_name"], planned["name"])

        return guarded(ctx.diagnostics, "Updating the environment variable", run)

    def delete(self, ctx: DeleteContext, current: State) -> None:
        guarded(
            ctx.diagnostics,
            "Removing the environment variable",
            lambda: self._set(current["deployment_name"], current["name"], None),
        )

    def import_(self, ctx: ImportContext, id: str) -> State | None:
        parts = split_id(ctx.diagnostics, id, "strata_environment_variable (deployment/NAME)")
        if parts is None:
            return None
        state = guarded(
            ctx.diagnostics, "Importing the environment variable", lambda: self._read(*parts)
        )
        if state is None and not ctx.diagnostics.has_errors():
            ctx.diagnostics.add_error("Environment variable not found", f"{id!r} is not set")
        return state
