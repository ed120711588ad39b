"""Backups of deployments: take, list, read, download, delete, restore, and the schedule."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.backups import actions as backups
from controlplane.backups.models import Backup, BackupSchedule, BackupStatus, Restore
from controlplane.backups.store import BackupMissing, get_store
from controlplane.deployments.models import Deployment, DeploymentType
from controlplane.errors import Conflict, NotFound, PermissionDenied
from controlplane.teams.models import Role, role_at_least

from . import serializers as s
from . import serializers_backups as b
from .docs import ERRORS, op
from .idempotency import idempotent
from .pagination import page_serializer, paginate
from .scoping import TeamScopedView
from .views_auth import _body

TEAM = "deployment__project__team"


async def _async_chunks(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Under ASGI (Daphne) Django buffers a synchronous iterator whole before sending it; an
    asynchronous one is sent chunk by chunk, so a large backup streams in flat memory."""
    try:
        while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
            yield chunk
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:  # a client that went away: release the file or S3 body now
            close()


class BackupView(TeamScopedView):
    """Base: backups are looked up through the caller's teams like every other object."""

    def backup(self, backup_id: int, min_role: str = Role.VIEWER) -> Backup:
        found = (
            self.scoped(Backup.objects.select_related("deployment__project"), TEAM)
            .filter(pk=backup_id)
            .first()
        )
        if found is None:
            raise NotFound(f"Backup {backup_id} not found")
        self._check(found.deployment.project.team_id, min_role, f"Backup {backup_id}")
        return found

    def require_prod_admin_for(self, deployment: Deployment, what: str) -> None:
        """Production data is read, replaced or thrown away by admins only."""
        role = self.roles().get(deployment.project.team_id, Role.VIEWER)
        if deployment.type == DeploymentType.PROD and not role_at_least(role, Role.ADMIN):
            raise PermissionDenied(f"{what} of a production deployment needs the admin role")


class CreateBackupView(BackupView):
    @op(request=s.Empty, response=b.BackupOut, status=201, tags=["backups"])
    @idempotent
    def post(self, request: Request, name: str) -> Response:
        backup = backups.create_backup(self.actor, self.deployment(name, Role.DEVELOPER))
        backup.refresh_from_db()
        return Response(b.BackupOut(backup).data, status=201)


class ListBackupsView(BackupView):
    @op(response=page_serializer(b.BackupOut, "BackupPage"), tags=["backups"])
    def get(self, request: Request, name: str) -> Response:
        deployment = self.deployment(name, include_deleted=True)
        rows = Backup.objects.select_related("deployment").filter(deployment=deployment)
        return Response(paginate(request, rows, b.BackupOut))


class GetBackupView(BackupView):
    @op(response=b.BackupOut, tags=["backups"])
    def get(self, request: Request, backup_id: int) -> Response:
        return Response(b.BackupOut(self.backup(backup_id)).data)


class DeleteBackupView(BackupView):
    @op(request=s.Empty, response=s.Empty, tags=["backups"])
    def post(self, request: Request, backup_id: int) -> Response:
        backup = self.backup(backup_id, Role.DEVELOPER)
        self.require_prod_admin_for(backup.deployment, "Deleting a backup")
        backups.delete_backup(self.actor, backup)
        return Response({})


class DownloadBackupView(BackupView):
    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, "the snapshot ZIP"),
            **{(code, "application/json"): error for code, error in ERRORS.items()},
        },
        tags=["backups"],
    )
    def get(self, request: Request, backup_id: int) -> StreamingHttpResponse:
        backup = self.backup(backup_id, Role.DEVELOPER)
        self.require_prod_admin_for(backup.deployment, "Downloading a backup")
        if backup.status != BackupStatus.COMPLETED:
            raise Conflict(f"Backup {backup.pk} is {backup.status}", code="BackupNotCompleted")
        try:
            chunks = get_store().open(backup.storage_key)
        except BackupMissing as exc:
            raise NotFound(f"The file of backup {backup.pk} is missing") from exc
        streamed = _async_chunks(chunks) if isinstance(request._request, ASGIRequest) else chunks
        response = StreamingHttpResponse(streamed, content_type="application/zip")
        if backup.size is not None:
            response["Content-Length"] = str(backup.size)
        filename = f"{backup.deployment.name}-backup-{backup.pk}.zip"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class RestoreBackupView(BackupView):
    @op(request=b.RestoreIn, response=b.RestoreOut, tags=["backups"])
    @idempotent
    def post(self, request: Request, name: str) -> Response:
        target = self.deployment(name, Role.DEVELOPER)
        backup = self.backup(_body(b.RestoreIn, request)["backupId"], Role.DEVELOPER)
        self.require_prod_admin_for(target, "Restoring into")
        self.require_prod_admin_for(backup.deployment, "Restoring a backup")
        restore = backups.restore_backup(self.actor, backup, target)
        restore.refresh_from_db()
        return Response(b.RestoreOut(restore).data)


class GetRestoreView(BackupView):
    @op(response=b.RestoreOut, tags=["backups"])
    def get(self, request: Request, restore_id: int) -> Response:
        rows = self.scoped(Restore.objects.select_related("target"), "target__project__team")
        restore = rows.filter(pk=restore_id).first()
        if restore is None:
            raise NotFound(f"Restore {restore_id} not found")
        return Response(b.RestoreOut(restore).data)


class BackupScheduleView(BackupView):
    @op(response=b.BackupScheduleOut, tags=["backups"])
    def get(self, request: Request, name: str) -> Response:
        deployment = self.deployment(name)
        schedule = BackupSchedule.objects.filter(deployment=deployment).first()
        if schedule is None:
            raise NotFound(f"Deployment {name!r} has no backup schedule", code="NoBackupSchedule")
        return Response(b.BackupScheduleOut(schedule).data)

    @op(request=b.BackupScheduleIn, response=b.BackupScheduleOut, tags=["backups"])
    def put(self, request: Request, name: str) -> Response:
        deployment = self.deployment(name, Role.DEVELOPER)
        self.require_prod_admin_for(deployment, "Scheduling backups")
        body = _body(b.BackupScheduleIn, request)
        schedule = backups.set_schedule(
            self.actor,
            deployment,
            interval_hours=body.get("intervalHours"),
            cron=body["cron"],
            retain=body["retain"],
        )
        return Response(b.BackupScheduleOut(schedule).data)

    @op(response=s.Empty, tags=["backups"])
    def delete(self, request: Request, name: str) -> Response:
        deployment = self.deployment(name, Role.DEVELOPER)
        self.require_prod_admin_for(deployment, "Unscheduling backups")
        backups.delete_schedule(self.actor, deployment)
        return Response({})
