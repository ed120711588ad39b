"""strata_deploy_key: a deploy key of a deployment; the secret is only known at creation."""

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

from .base import ApiBacked, find, guarded, known, split_id


class DeployKeyResource(ApiBacked, Resource):
    @classmethod
    def get_name(cls) -> str:
        return "deploy_key"

    @classmethod
    def get_schema(cls) -> schema.Schema:
        return schema.Schema(
            description="A deploy key for CI (`CONVEX_DEPLOY_KEY`); keys cannot be edited, "
            "so any change makes a new key and revokes the old one.",
            attributes=[
                schema.Attribute("id", types.String(), computed=True),
                schema.Attribute("key_id", types.String(), computed=True),
                schema.Attribute(
                    "deployment_name", types.String(), required=True, requires_replace=True
                ),
                schema.Attribute("name", types.String(), required=True, requires_replace=True),
                schema.Attribute(
                    "allowed_actions",
                    types.List(types.String()),
                    optional=True,
                    computed=True,
                    requires_replace=True,
                    description="Actions the key may perform (default: all).",
                ),
                schema.Attribute(
                    "key",
                    types.String(),
                    computed=True,
                    sensitive=True,
                    description="The secret; null for imported keys.",
                ),
                schema.Attribute("deployment_url", types.String(), computed=True),
            ],
        )

    def _read(self, deployment: str, key_id: str, secret: Any, url: Any) -> State | None:
        found = find(self.api.list_all(f"deployments/{deployment}/list_deploy_keys"), id=key_id)
        if found is None:
            return None
        if url is None:
            d = self.api.get_or_none(f"deployments/{deployment}")
            url = d["deploymentUrl"] if d else None
        return {
            "id": f"{deployment}/{key_id}",
            "key_id": key_id,
            "deployment_name": deployment,
            "name": found["name"],
            "allowed_actions": list(found["allowedActions"]),
            "key": secret,
            "deployment_url": url,
        }

    def create(self, ctx: CreateContext, planned: State) -> State | None:
        def run() -> State:
            body: dict[str, Any] = {"name": planned["name"]}
            actions = known(planned.get("allowed_actions"))
            if actions:
                body["allowedActions"] = list(actions)
            out = self.api.post(
                f"deployments/{planned['deployment_name']}/create_deploy_key", body, create=True
            )
            return {
                "id": f"{planned['deployment_name']}/{out['id']}",
                "key_id": out["id"],
                "deployment_name": planned["deployment_name"],
                "name": out["name"],
                "allowed_actions": list(out["allowedActions"]),
                "key": out["deployKey"],
                "deployment_url": out["deploymentUrl"],
            }

        return guarded(ctx.diagnostics, "Creating the deploy key", run)

    def read(self, ctx: ReadContext, current: State) -> State | None:
        return guarded(
            ctx.diagnostics,
            "Reading the deploy key",
            lambda: self._read(
                current["deployment_name"],
                current["key_id"],
                current.get("key"),
                current.get("deployment_url"),
            ),
        )

    def update(self, ctx: UpdateContext, current: State, planned: State) -> State | None:
        return self.read(ctx, current)

    def delete(self, ctx: DeleteContext, current: State) -> None:
        guarded(
            ctx.diagnostics,
            "Revoking the deploy key",
            lambda: self.api.post(
                f"deployments/{current['deployment_name']}/delete_deploy_key",
                {"id": current["key_id"]},
            ),
        )

    def import_(self, ctx: ImportContext, id: str) -> State | None:
        parts = split_id(ctx.diagnostics, id, "strata_deploy_key (deployment/key_id)")
        if parts is None:
            return None
        state = guarded(
            ctx.diagnostics, "Importing the deploy key", lambda: self._read(*parts, None, None)
        )
        if state is None and not ctx.diagnostics.has_errors():
            ctx.diagnostics.add_error("Deploy key not found", f"No active deploy key {id!r}")
        return state
