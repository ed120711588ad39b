"""strata_team_member: a person's role in a team, invited by email until they accept.

Created as an invitation unless the person is already a member (then their role is adopted
and set). `status` is "invited" or "member"; removing the resource cancels the invitation or
removes the member.
"""

from __future__ import annotations

from typing import Any

from tf import schema, types
from tf.iface import (
    CreateContext,
    DeleteContext,
    ImportContext,
    PlanContext,
    ReadContext,
    Resource,
    State,
    UpdateContext,
)
from tf.types import Unknown

from .base import ApiBacked, guarded, split_id

ROLES = ("owner", "admin", "developer", "viewer")


class TeamMemberResource(ApiBacked, Resource):
    @classmethod
    def get_name(cls) -> str:
        return "team_member"

    @classmethod
    def get_schema(cls) -> schema.Schema:
        return schema.Schema(
            description="A team member (or a pending invitation) with one role.",
            attributes=[
                schema.Attribute("id", types.String(), computed=True),
                schema.Attribute("team_id", types.String(), required=True, requires_replace=True),
                schema.Attribute("email", types.String(), required=True, requires_replace=True),
                schema.Attribute(
                    "role", types.String(), required=True, description=", ".join(ROLES)
                ),
                schema.Attribute("status", types.String(), computed=True),
                schema.Attribute("member_id", types.String(), computed=True),
                schema.Attribute("invite_id", types.String(), computed=True),
            ],
        )

    def validate(self, diags: Any, type_name: str, config: dict[str, Any]) -> None:
        super().validate(diags, type_name, config)
        if config.get("role") not in (None, *ROLES):
            diags.add_error("Invalid role", f"role must be one of {', '.join(ROLES)}")

    def plan(self, ctx: PlanContext, current: State | None, planned: State) -> State:
        """A role change on a pending invitation re-issues it, so its id becomes unknown."""
        if current is not None and "role" in ctx.changed_fields:
            planned["invite_id"] = Unknown
        return planned

    def _lookup(self, team_id: str, email: str) -> tuple[str, dict[str, Any]] | None:
        wanted = email.strip().lower()
        for member in self.api.list_all(f"teams/{team_id}/list_members"):
            if member["email"].lower() == wanted:
                return "member", member
        for invite in self.api.list_all(f"teams/{team_id}/list_pending_invites"):
            if invite["email"].lower() == wanted:
                return "invited", invite
        return None

    def _read(self, team_id: str, email: str) -> State | None:
        found = self._lookup(team_id, email)
        if found is None:
            return None
        status, row = found
        return {
            "id": f"{team_id}/{email}",
            "team_id": team_id,
            "email": email,
            "role": row["role"],
            "status": status,
            "member_id": str(row["id"]) if status == "member" else None,
            "invite_id": str(row["id"]) if status == "invited" else None,
        }

    def _apply(self, team_id: str, email: str, role: str) -> State | None:
        found = self._lookup(team_id, email)
        if found is None:
            self.api.post(
                f"teams/{team_id}/invite_team_member", {"email": email, "role": role}, create=True
            )
        elif found[0] == "member" and found[1]["role"] != role:
            self.api.post(
                f"teams/{team_id}/update_team_member_role",
                {"memberId": found[1]["id"], "role": role},
            )
        elif found[0] == "invited" and found[1]["role"] != role:
            self.api.post(
                f"teams/{team_id}/cancel_team_member_invite", {"inviteId": found[1]["id"]}
            )
            self.api.post(
                f"teams/{team_id}/invite_team_member", {"email": email, "role": role}, create=True
            )
        return self._read(team_id, email)

    def create(self, ctx: CreateContext, planned: State) -> State | None:
        return guarded(
            ctx.diagnostics,
            "Adding the team member",
            lambda: self._apply(planned["team_id"], planned["email"], planned["role"]),
        )

    def read(self, ctx: ReadContext, current: State) -> State | None:
        return guarded(
            ctx.diagnostics,
            "Reading the team member",
            lambda: self._read(current["team_id"], current["email"]),
        )

    def update(self, ctx: UpdateContext, current: State, planned: State) -> State | None:
        return guarded(
            ctx.diagnostics,
            "Changing the team member's role",
            lambda: self._apply(planned["team_id"], planned["email"], planned["role"]),
        )

    def delete(self, ctx: DeleteContext, current: State) -> None:
        def run() -> None:
            found = self._lookup(current["team_id"], current["email"])
            if found is None:
                return
            status, row = found
            if status == "member":
                self.api.post(
                    f"teams/{current['team_id']}/remove_team_member", {"memberId": row["id"]}
                )
            else:
                self.api.post(
                    f"teams/{current['team_id']}/cancel_team_member_invite",
                    {"inviteId": row["id"]},
                )

        guarded(ctx.diagnostics, "Removing the team member", run)

    def import_(self, ctx: ImportContext, id: str) -> State | None:
        parts = split_id(ctx.diagnostics, id, "strata_team_member (team_id/email)")
        if parts is None:
            return None
        state = guarded(ctx.diagnostics, "Importing the team member", lambda: self._read(*parts))
        if state is None and not ctx.diagnostics.has_errors():
            ctx.diagnostics.add_error("Team member not found", f"No member or invitation {id!r}")
        return state
