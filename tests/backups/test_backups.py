"""Backups through /v1 against real data planes: take, restore (same and another deployment),
tenant isolation, roles, retention and the schedule."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from controlplane.audit.models import AuditEvent
from controlplane.backups.actions import take_due_backups
from controlplane.backups.models import Backup
from controlplane.deployments.actions import purge_due
from controlplane.deployments.models import Deployment
from tests.controlplane.conftest import Caller

from .conftest import DataPlane

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

CreateProject = Callable[[str, str], tuple[str, str]]


def second_deployment(caller: Caller, name: str, capture: Any, reference: str = "copy") -> str:
    """Another deployment in the project of `name`, provisioned now."""
    project_id = caller.get(f"deployments/{name}").json()["projectId"]
    with capture(execute=True):
        r = caller.post(
            f"projects/{project_id}/create_deployment", {"type": "dev", "reference": reference}
        )
    assert r.status_code == 201, r.content
    created: str = r.json()["name"]
    return created


def backup_now(caller: Caller, name: str, capture: Any) -> dict[str, Any]:
    with capture(execute=True):
        r = caller.post(f"deployments/{name}/create_backup")
    assert r.status_code == 201, r.content
    backup: dict[str, Any] = caller.get(f"backups/{r.json()['id']}").json()
    assert backup["status"] == "completed", backup
    return backup


def restore(caller: Caller, target: str, backup_id: int, capture: Any) -> dict[str, Any]:
    with capture(execute=True):
        r = caller.post(f"deployments/{target}/restore_backup", {"backupId": backup_id})
    assert r.status_code == 200, r.content
    done: dict[str, Any] = caller.get(f"restores/{r.json()['id']}").json()
    assert done["status"] == "completed", done
    return done


def test_backup_restores_the_same_and_another_deployment(
    team_owner: tuple[Caller, int],
    create_project: CreateProject,
    django_capture_on_commit_callbacks: Any,
    _backup_dir: Path,
) -> None:
    caller, _ = team_owner
    capture = django_capture_on_commit_callbacks
    name, _url = create_project("shop", "dev")
    source = DataPlane(name)
    file_id = source.upload(b"invoice #1")
    ids = source.add("orders", {"item": "tea", "qty": 2}, {"item": "cake", "file": file_id})
    source.add("customers", {"name": "Ann"})
    before = {t: source.documents(t) for t in ("orders", "customers")}

    backup = backup_now(caller, name, capture)
    assert backup["kind"] == "manual" and backup["deploymentName"] == name
    stored = next(_backup_dir.rglob("*.zip"))
    assert backup["sizeBytes"] == stored.stat().st_size
    assert backup["sha256"] == hashlib.sha256(stored.read_bytes()).hexdigest()
    with zipfile.ZipFile(stored) as zf:
        assert "orders/documents.jsonl" in zf.namelist()
    listed = caller.get(f"deployments/{name}/list_backups").json()["items"]
    assert [b["id"] for b in listed] == [backup["id"]]

    # The download is the stored ZIP, byte for byte.
    download = caller.client.get(
        f"/v1/backups/{backup['id']}/download", HTTP_AUTHORIZATION=f"Bearer {caller.token}"
    )
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert b"".join(download.streaming_content) == stored.read_bytes()

    # Change everything: delete, add, a new table; the restore puts the backup's data back.
    source.delete("orders", ids[:1])
    source.add("orders", {"item": "coffee"})
    source.add("later", {"note": "made after the backup"})
    assert source.documents("orders") != before["orders"]
    done = restore(caller, name, backup["id"], capture)
    assert done["documentsWritten"] >= 4
    assert {t: source.documents(t) for t in ("orders", "customers")} == before
    assert source.documents("later") == []
    assert source.file(file_id).content == b"invoice #1"

    # Into a second deployment of the same team: identical documents, ids and files.
    other = second_deployment(caller, name, capture)
    copy = DataPlane(other)
    copy.add("orders", {"item": "only in the copy"})
    restore(caller, other, backup["id"], capture)
    assert {t: copy.documents(t) for t in ("orders", "customers")} == before
    assert copy.file(file_id).content == b"invoice #1"

    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"backup.create", "backup.restore"} <= actions

    with capture(execute=True):
        assert caller.post(f"backups/{backup['id']}/delete").status_code == 200
    assert not stored.exists()
    assert caller.get(f"backups/{backup['id']}").status_code == 404
    assert [p.name for p in _backup_dir.iterdir() if p.name.startswith(".tmp")] == []
    assert "backup.delete" in set(AuditEvent.objects.values_list("action", flat=True))


def test_other_teams_see_nothing_and_roles_are_enforced(
    team_owner: tuple[Caller, int],
    create_project: CreateProject,
    make_user: Callable[[str], Caller],
    django_capture_on_commit_callbacks: Any,
) -> None:
    owner, team_id = team_owner
    capture = django_capture_on_commit_callbacks
    name, _url = create_project("private", "dev")
    DataPlane(name).add("secrets", {"v": "only ours"})
    backup = backup_now(owner, name, capture)

    stranger = make_user("stranger@beta.test")
    their_team = stranger.post("teams/create_team", {"name": "Beta"}).json()["id"]
    with capture(execute=True):
        created = stranger.post(
            f"teams/{their_team}/create_project",
            {"projectName": "theirs", "deploymentType": "dev"},
        ).json()
    theirs = created["deploymentName"]
    bid = backup["id"]
    assert stranger.get(f"backups/{bid}").status_code == 404
    assert (
        stranger.client.get(
            f"/v1/backups/{bid}/download", HTTP_AUTHORIZATION=f"Bearer {stranger.token}"
        ).status_code
        == 404
    )
    assert stranger.post(f"backups/{bid}/delete").status_code == 404
    assert stranger.get(f"deployments/{name}/list_backups").status_code == 404
    assert stranger.post(f"deployments/{name}/create_backup").status_code == 404
    r = stranger.post(f"deployments/{theirs}/restore_backup", {"backupId": bid})
    assert r.status_code == 404
    assert DataPlane(theirs).documents("secrets") == []
    # Nor can the owner restore into the stranger's deployment.
    r = owner.post(f"deployments/{theirs}/restore_backup", {"backupId": bid})
    assert r.status_code == 404
    assert Backup.objects.filter(pk=bid).exists()

    # A viewer lists and reads, but neither takes, restores, downloads nor deletes.
    viewer = make_user("viewer@alpha.test")
    invite = owner.post(
        f"teams/{team_id}/invite_team_member", {"email": viewer.email, "role": "viewer"}
    )
    assert invite.status_code == 201, invite.content
    from django.core import mail

    from tests.controlplane.conftest import linked_token

    token = linked_token(mail.outbox[-1].body, "/invites/accept")
    assert viewer.post("invites/accept", {"token": token}).status_code == 200
    assert viewer.get(f"deployments/{name}/list_backups").json()["items"][0]["id"] == bid
    assert viewer.get(f"backups/{bid}").status_code == 200
    assert viewer.post(f"deployments/{name}/create_backup").status_code == 403
    assert viewer.post(f"deployments/{name}/restore_backup", {"backupId": bid}).status_code == 403
    assert (
        viewer.client.get(
            f"/v1/backups/{bid}/download", HTTP_AUTHORIZATION=f"Bearer {viewer.token}"
        ).status_code
        == 403
    )
    assert viewer.post(f"backups/{bid}/delete").status_code == 403


def test_a_damaged_backup_is_not_restored(
    team_owner: tuple[Caller, int],
    create_project: CreateProject,
    django_capture_on_commit_callbacks: Any,
    _backup_dir: Path,
) -> None:
    caller, _ = team_owner
    capture = django_capture_on_commit_callbacks
    name, _url = create_project("fragile", "dev")
    data = DataPlane(name)
    data.add("rows", {"n": 1})
    backup = backup_now(caller, name, capture)
    data.add("rows", {"n": 2})
    stored = next(_backup_dir.rglob("*.zip"))
    stored.write_bytes(stored.read_bytes().replace(b"rows", b"ROWS"))
    with capture(execute=True):
        r = caller.post(f"deployments/{name}/restore_backup", {"backupId": backup["id"]})
    done = caller.get(f"restores/{r.json()['id']}").json()
    assert done["status"] == "failed"
    assert "SHA-256" in done["error"]
    assert sorted(d["n"] for d in data.documents("rows")) == [1, 2]


def test_schedule_takes_due_backups_and_prunes_beyond_retention(
    team_owner: tuple[Caller, int],
    create_project: CreateProject,
    django_capture_on_commit_callbacks: Any,
) -> None:
    caller, _ = team_owner
    capture = django_capture_on_commit_callbacks
    name, _url = create_project("nightly", "dev")
    data = DataPlane(name)
    manual = backup_now(caller, name, capture)

    r = caller.client.put(
        f"/v1/deployments/{name}/backup_schedule",
        {"intervalHours": 6, "retain": 2},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {caller.token}",
    )
    assert r.status_code == 200, r.content
    due_at = timezone.now() + timedelta(hours=6)
    assert caller.get(f"deployments/{name}/backup_schedule").json()["retain"] == 2
    with capture(execute=True):
        assert take_due_backups() == []  # not due yet

    taken = []
    for hour in (6, 12, 18):
        data.add("ticks", {"hour": hour})
        with capture(execute=True):
            started = take_due_backups(now=due_at + timedelta(hours=hour - 6, minutes=1))
        assert len(started) == 1
        taken.append(started[0])
        # A second run at the same moment finds nothing due.
        with capture(execute=True):
            assert take_due_backups(now=due_at + timedelta(hours=hour - 6, minutes=1)) == []

    listed = caller.get(f"deployments/{name}/list_backups").json()["items"]
    scheduled = [b for b in listed if b["kind"] == "scheduled"]
    # The oldest scheduled backup was pruned; the manual one is not the schedule's to prune.
    assert [b["id"] for b in scheduled] == [taken[2], taken[1]]
    assert all(b["status"] == "completed" for b in scheduled)
    assert manual["id"] in [b["id"] for b in listed]
    assert not Backup.objects.filter(pk=taken[0]).exists()
    newest = Backup.objects.get(pk=taken[2])
    with zipfile.ZipFile(io.BytesIO(b"".join(_stored(newest)))) as zf:
        assert len(zf.read("ticks/documents.jsonl").splitlines()) == 3

    # A cron schedule (UTC) fires at its times, and each run moves it to the next one.
    def put(body: dict[str, Any]) -> Any:
        return caller.client.put(
            f"/v1/deployments/{name}/backup_schedule",
            body,
            format="json",
            HTTP_AUTHORIZATION=f"Bearer {caller.token}",
        )

    for bad in (
        {"retain": 2},
        {"intervalHours": 6, "cron": "0 3 * * *", "retain": 2},
        {"cron": "every night", "retain": 2},
        {"cron": "0 3 * * * *", "retain": 2},
        {"cron": "0 0 31 2 *", "retain": 2},  # February 31st never comes
    ):
        assert put(bad).status_code == 400, bad
    r = put({"cron": "30 3 * * *", "retain": 2})
    assert r.status_code == 200, r.content
    assert r.json()["intervalHours"] is None and r.json()["cron"] == "30 3 * * *"
    next_due = datetime.fromisoformat(r.json()["nextDueAt"])
    assert (next_due.hour, next_due.minute) == (3, 30)
    assert timezone.now() < next_due <= timezone.now() + timedelta(days=1)
    with capture(execute=True):
        assert len(take_due_backups(now=next_due)) == 1
    following = datetime.fromisoformat(
        caller.get(f"deployments/{name}/backup_schedule").json()["nextDueAt"]
    )
    assert following == next_due + timedelta(days=1)

    r = caller.client.delete(
        f"/v1/deployments/{name}/backup_schedule", HTTP_AUTHORIZATION=f"Bearer {caller.token}"
    )
    assert r.status_code == 200
    assert caller.get(f"deployments/{name}/backup_schedule").status_code == 404
    with capture(execute=True):
        assert take_due_backups(now=due_at + timedelta(days=30)) == []

    # A backup whose worker died stays pending only until the periodic job sees it is stale.
    stuck = Backup.objects.create(deployment=newest.deployment)
    take_due_backups(now=timezone.now())
    stuck.refresh_from_db()
    assert stuck.status == "pending"
    take_due_backups(now=timezone.now() + timedelta(hours=3))  # twice the 120 s limit is past
    stuck.refresh_from_db()
    assert (stuck.status, stuck.error) == ("failed", "Interrupted")


def _stored(backup: Backup) -> list[bytes]:
    from controlplane.backups.store import get_store

    return list(get_store().open(backup.storage_key))


def test_production_data_is_restored_downloaded_and_deleted_by_admins_only(
    team_owner: tuple[Caller, int],
    create_project: CreateProject,
    make_user: Callable[[str], Caller],
    django_capture_on_commit_callbacks: Any,
) -> None:
    owner, team_id = team_owner
    capture = django_capture_on_commit_callbacks
    prod, _url = create_project("live", "prod")
    dev = second_deployment(owner, prod, capture, reference="staging")
    DataPlane(prod).add("accounts", {"balance": 10})
    backup = backup_now(owner, prod, capture)["id"]

    developer = make_user("dev@alpha.test")
    invite = owner.post(
        f"teams/{team_id}/invite_team_member", {"email": developer.email, "role": "developer"}
    )
    assert invite.status_code == 201, invite.content
    from django.core import mail

    from tests.controlplane.conftest import linked_token

    token = linked_token(mail.outbox[-1].body, "/invites/accept")
    assert developer.post("invites/accept", {"token": token}).status_code == 200

    # A developer may take a production backup, but not read its data out or replace any.
    with capture(execute=True):
        assert developer.post(f"deployments/{prod}/create_backup").status_code == 201
    download = developer.client.get(
        f"/v1/backups/{backup}/download", HTTP_AUTHORIZATION=f"Bearer {developer.token}"
    )
    assert download.status_code == 403
    for target in (prod, dev):  # into production, or production data into a dev deployment
        r = developer.post(f"deployments/{target}/restore_backup", {"backupId": backup})
        assert r.status_code == 403, r.content
    assert developer.post(f"backups/{backup}/delete").status_code == 403
    r = developer.client.put(
        f"/v1/deployments/{prod}/backup_schedule",
        {"intervalHours": 1, "retain": 1},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {developer.token}",
    )
    assert r.status_code == 403
    assert DataPlane(dev).documents("accounts") == []

    # The owner (an admin) may.
    restore(owner, dev, backup, capture)
    assert [d["balance"] for d in DataPlane(dev).documents("accounts")] == [10]


def test_backups_go_when_a_deleted_deployment_is_purged(
    team_owner: tuple[Caller, int],
    create_project: CreateProject,
    django_capture_on_commit_callbacks: Any,
    _backup_dir: Path,
) -> None:
    caller, _ = team_owner
    capture = django_capture_on_commit_callbacks
    name, _url = create_project("doomed", "dev")
    DataPlane(name).add("rows", {"n": 1})
    backup = backup_now(caller, name, capture)
    other = second_deployment(caller, name, capture, reference="rescue")
    with capture(execute=True):
        assert caller.post(f"deployments/{name}/delete").status_code == 200
    # In the grace period the backup is listed and restores into another deployment.
    assert [b["id"] for b in caller.get(f"deployments/{name}/list_backups").json()["items"]] == [
        backup["id"]
    ]
    restore(caller, other, backup["id"], capture)
    assert [d["n"] for d in DataPlane(other).documents("rows")] == [1]
    with capture(execute=True):
        take_due_backups()
    assert Backup.objects.filter(pk=backup["id"]).exists()

    Deployment.objects.filter(name=name).update(purge_after=timezone.now())
    assert purge_due() == [name]
    with capture(execute=True):
        take_due_backups()
    assert not Backup.objects.filter(pk=backup["id"]).exists()
    assert list(_backup_dir.rglob("*.zip")) == []
    reasons = AuditEvent.objects.filter(action="backup.delete").values_list("metadata", flat=True)
    assert [m["reason"] for m in reasons] == ["deployment purged"]
