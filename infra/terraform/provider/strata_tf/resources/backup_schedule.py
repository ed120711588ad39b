"""strata_backup_schedule: a deployment's scheduled backups and how many of them are kept."""

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

from ..api import ApiError
from .base import ApiBacked, guarded


class BackupScheduleResource(ApiBacked, Resource):
    @classmethod
    def get_name(cls) -> str:
        return "backup_schedule"

    @classmethod
    def get_schema(cls) -> schema.Schema:
        return schema.Schema(
            description="Scheduled backups of a deployment, with the number kept.",
            attributes=[
                schema.Attribute("id", types.String(), computed=True),
                schema.Attribute(
                    "deployment_name", types.String(), required=True, requires_replace=True
                ),
                schema.Attribute("interval_hours", types.Number(), optional=True),
                schema.Attribute("cron", types.String(), optional=True),
                schema.Attribute("retain", types.Number(), required=True),
                schema.Attribute("next_due_at", types.String(), computed=True),
            ],
        )

    def validate(self, diags: Any, type_name: str, config: dict[str, Any]) -> None:
        super().validate(diags, type_name, config)
        interval, cron = config.get("interval_hours"), config.get("cron")
        if interval is Unknown or cron is Unknown:
            return
        if (interval is None) == (cron is None):
            diags.add_error("Invalid backup schedule", "Set exactly one of interval_hours and cron")

    def plan(self, ctx: PlanContext, current: State | None, planned: State) -> State:
        """A new interval or cron moves the next backup, so its time is unknown until applied."""
        if current is not None and {"interval_hours", "cron"} & set(ctx.changed_fields):
            planned["next_due_at"] = Unknown
        return planned

    def _path(self, deployment: str) -> str:
        return f"deployments/{deployment}/backup_schedule"

    @staticmethod
    def _state(found: dict[str, Any]) -> State:
        return {
            "id": found["deploymentName"],
            "deployment_name": found["deploymentName"],
            "interval_hours": found["intervalHours"],
            "cron": found["cron"] or None,
            "retain": found["retain"],
            "next_due_at": found["nextDueAt"],
        }

    def _read(self, deployment: str) -> State | None:
        found = self.api.get_or_none(self._path(deployment))
        return None if found is None else self._state(found)

    def _put(self, planned: State) -> State:
        interval = planned.get("interval_hours")
        body = {
            "intervalHours": None if interval is None else int(interval),
            "cron": planned.get("cron") or "",
            "retain": int(planned["retain"]),
        }
        return self._state(self.api.put(self._path(planned["deployment_name"]), body))

    def create(self, ctx: CreateContext, planned: State) -> State | None:
        deployment = planned["deployment_name"]

        def run() -> State:
            if self._read(deployment) is not None:
                raise ApiError(
                    409,
                    "AlreadyScheduled",
                    f"{deployment} already has a backup schedule; import it with "
                    f"`terraform import <address> {deployment}`",
                )
            return self._put(planned)

        return guarded(ctx.diagnostics, "Scheduling backups", run)

    def read(self, ctx: ReadContext, current: State) -> State | None:
        return guarded(
            ctx.diagnostics,
            "Reading the backup schedule",
            lambda: self._read(current["deployment_name"]),
        )

    def update(self, ctx: UpdateContext, current: State, planned: State) -> State | None:
        return guarded(ctx.diagnostics, "Updating the backup schedule", lambda: self._put(planned))

    def delete(self, ctx: DeleteContext, current: State) -> None:
        def run() -> None:
            try:
                self.api.delete(self._path(current["deployment_name"]))
            except ApiError as exc:
                if exc.status != 404:  # the deployment is gone, and its schedule with it
                    raise

        guarded(ctx.diagnostics, "Removing the backup schedule", run)

    def import_(self, ctx: ImportContext, id: str) -> State | None:
        state = guarded(ctx.diagnostics, "Importing the backup schedule", lambda: self._read(id))
        if state is None and not ctx.diagnostics.has_errors():
            ctx.diagnostics.add_error("Backup schedule not found", f"{id!r} has no backup schedule")
        return state
