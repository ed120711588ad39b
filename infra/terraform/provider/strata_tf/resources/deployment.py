"""strata_deployment: a deployment of a project; every input forces a new deployment."""

from __future__ import annotations

from typing import Any

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

from .base import ApiBacked, guarded, known

DEPLOYMENT_TYPES = ("dev", "prod", "preview")
STORAGES = ("sqlite", "postgres", "mysql")


def deployment_state(d: dict[str, Any]) -> State:
    return {
        "id": d["name"],
        "name": d["name"],
        "project_id": str(d["projectId"]),
        "type": d["deploymentType"],
        "reference": d.get("reference") or "",
        "storage": d["storage"],
        "status": d["status"],
        "url": d["deploymentUrl"],
        "host_url": d.get("hostUrl") or "",
    }


class DeploymentResource(ApiBacked, Resource):
    @classmethod
    def get_name(cls) -> str:
        return "deployment"

    @classmethod
    def get_schema(cls) -> schema.Schema:
        return schema.Schema(
            description="A Strata deployment (its data is purged after the grace period).",
            attributes=[
                schema.Attribute("id", types.String(), computed=True),
                schema.Attribute("name", types.String(), computed=True),
                schema.Attribute(
                    "project_id", types.String(), required=True, requires_replace=True
                ),
                schema.Attribute(
                    "type",
                    types.String(),
                    required=True,
                    requires_replace=True,
                    description="dev, prod or preview.",
                ),
                schema.Attribute(
                    "reference",
                    types.String(),
                    optional=True,
                    computed=True,
                    requires_replace=True,
                    default="",
                ),
                schema.Attribute(
                    "storage",
                    types.String(),
                    optional=True,
                    computed=True,
                    requires_replace=True,
                    default="sqlite",
                    description="sqlite (default), postgres or mysql.",
                ),
                schema.Attribute("status", types.String(), computed=True),
                schema.Attribute("url", types.String(), computed=True),
                schema.Attribute("host_url", types.String(), computed=True),
            ],
        )

    def validate(self, diags: Any, type_name: str, config: dict[str, Any]) -> None:
        super().validate(diags, type_name, config)
        if config.get("type") not in (None, *DEPLOYMENT_TYPES):
            diags.add_error("Invalid type", f"type must be one of {', '.join(DEPLOYMENT_TYPES)}")
        if config.get("storage") not in (None, *STORAGES):
            diags.add_error("Invalid storage", f"storage must be one of {', '.join(STORAGES)}")

    def _read(self, name: str) -> State | None:
        d = self.api.get_or_none(f"deployments/{name}")
        if d is None or d["status"] == "deleted":
            return None
        return deployment_state(d)

    def create(self, ctx: CreateContext, planned: State) -> State | None:
        def run() -> State:
            body = {"type": planned["type"], "storage": known(planned.get("storage")) or "sqlite"}
            reference = known(planned.get("reference"))
            if reference:
                body["reference"] = reference
            d = self.api.post(
                f"projects/{planned['project_id']}/create_deployment", body, create=True
            )
            return deployment_state(d)

        return guarded(ctx.diagnostics, "Creating the deployment", run)

    def read(self, ctx: ReadContext, current: State) -> State | None:
        return guarded(ctx.diagnostics, "Reading the deployment", lambda: self._read(current["id"]))

    def update(self, ctx: UpdateContext, current: State, planned: State) -> State | None:
        return guarded(ctx.diagnostics, "Reading the deployment", lambda: self._read(current["id"]))

    def delete(self, ctx: DeleteContext, current: State) -> None:
        guarded(
            ctx.diagnostics,
            "Deleting the deployment",
            lambda: self.api.post(f"deployments/{current['id']}/delete"),
        )

    def import_(self, ctx: ImportContext, id: str) -> State | None:
        state = guarded(ctx.diagnostics, "Importing the deployment", lambda: self._read(id))
        if state is None and not ctx.diagnostics.has_errors():
            ctx.diagnostics.add_error("Deployment not found", f"No live deployment named {id!r}")
        return state
