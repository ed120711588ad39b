"""Data sources: look up a team by id and a deployment by name."""

from __future__ import annotations

from typing import Any

from tf import schema, types
from tf.iface import DataSource, ReadDataContext, State

from .resources.base import ApiBacked, guarded
from .resources.deployment import deployment_state


class TeamDataSource(ApiBacked, DataSource):
    @classmethod
    def get_name(cls) -> str:
        return "team"

    @classmethod
    def get_schema(cls) -> schema.Schema:
        return schema.Schema(
            attributes=[
                schema.Attribute("id", types.String(), required=True),
                schema.Attribute("name", types.String(), computed=True),
                schema.Attribute("slug", types.String(), computed=True),
                schema.Attribute("plan", types.String(), computed=True),
            ]
        )

    def read(self, ctx: ReadDataContext, config: dict[str, Any]) -> State | None:
        team = guarded(
            ctx.diagnostics,
            "Reading the team",
            lambda: self.api.get_or_none(f"teams/{config['id']}"),
        )
        if team is None:
            if not ctx.diagnostics.has_errors():
                ctx.diagnostics.add_error("Team not found", f"No team with id {config['id']!r}")
            return None
        return {
            "id": str(team["id"]),
            "name": team["name"],
            "slug": team["slug"],
            "plan": team["plan"],
        }


class DeploymentDataSource(ApiBacked, DataSource):
    @classmethod
    def get_name(cls) -> str:
        return "deployment"

    @classmethod
    def get_schema(cls) -> schema.Schema:
        return schema.Schema(
            attributes=[
                schema.Attribute("name", types.String(), required=True),
                schema.Attribute("id", types.String(), computed=True),
                schema.Attribute("project_id", types.String(), computed=True),
                schema.Attribute("type", types.String(), computed=True),
                schema.Attribute("reference", types.String(), computed=True),
                schema.Attribute("storage", types.String(), computed=True),
                schema.Attribute("status", types.String(), computed=True),
                schema.Attribute("url", types.String(), computed=True),
                schema.Attribute("host_url", types.String(), computed=True),
            ]
        )

    def read(self, ctx: ReadDataContext, config: dict[str, Any]) -> State | None:
        name = config["name"]
        d = guarded(
            ctx.diagnostics,
            "Reading the deployment",
            lambda: self.api.get_or_none(f"deployments/{name}"),
        )
        if d is None:
            if not ctx.diagnostics.has_errors():
                ctx.diagnostics.add_error("Deployment not found", f"No deployment named {name!r}")
            return None
        return deployment_state(d)


DATA_SOURCES = (TeamDataSource, DeploymentDataSource)
