"""strata_project: a project in a team."""

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

from .base import ApiBacked, guarded


class ProjectResource(ApiBacked, Resource):
    @classmethod
    def get_name(cls) -> str:
        return "project"

    @classmethod
    def get_schema(cls) -> schema.Schema:
        return schema.Schema(
            description="A Strata project; deleting it deletes its deployments.",
            attributes=[
                schema.Attribute("id", types.String(), computed=True, description="Project id."),
                schema.Attribute("team_id", types.String(), required=True, requires_replace=True),
                schema.Attribute("name", types.String(), required=True),
                schema.Attribute("slug", types.String(), computed=True),
            ],
        )

    def _state(self, project: dict[str, Any]) -> State:
        return {
            "id": str(project["id"]),
            "team_id": str(project["teamId"]),
            "name": project["name"],
            "slug": project["slug"],
        }

    def _read(self, project_id: str) -> State | None:
        project = self.api.get_or_none(f"projects/{project_id}")
        return None if project is None else self._state(project)

    def create(self, ctx: CreateContext, planned: State) -> State | None:
        def run() -> State | None:
            out = self.api.post(
                f"teams/{planned['team_id']}/create_project",
                {"projectName": planned["name"]},
                create=True,
            )
            return self._read(str(out["projectId"]))

        return guarded(ctx.diagnostics, "Creating the project", run)

    def read(self, ctx: ReadContext, current: State) -> State | None:
        return guarded(ctx.diagnostics, "Reading the project", lambda: self._read(current["id"]))

    def update(self, ctx: UpdateContext, current: State, planned: State) -> State | None:
        """Only `name` can change in place (team_id forces replacement): rename it."""

        def run() -> State | None:
            project = self.api.post(f"projects/{current['id']}/update", {"name": planned["name"]})
            return self._state(project)

        return guarded(ctx.diagnostics, "Renaming the project", run)

    def delete(self, ctx: DeleteContext, current: State) -> None:
        guarded(
            ctx.diagnostics,
            "Deleting the project",
            lambda: self.api.post(f"projects/{current['id']}/delete"),
        )

    def import_(self, ctx: ImportContext, id: str) -> State | None:
        state = guarded(ctx.diagnostics, "Importing the project", lambda: self._read(id))
        if state is None and not ctx.diagnostics.has_errors():
            ctx.diagnostics.add_error("Project not found", f"No project with id {id!r}")
        return state
