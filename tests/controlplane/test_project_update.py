"""POST /v1/projects/{id}/update: renames in place, validated, audited, team-scoped, documented."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail

from controlplane.audit.models import AuditEvent

from .conftest import Caller

pytestmark = pytest.mark.django_db


def make_project(caller: Caller, team_id: int, name: str = "Shop") -> dict[str, Any]:
    r = caller.post(f"teams/{team_id}/create_project", {"projectName": name})
    assert r.status_code == 201, r.content
    project: dict[str, Any] = caller.get(f"projects/{r.json()['projectId']}").json()
    return project


def test_rename_keeps_id_and_slug_and_is_audited(team_owner: tuple[Caller, int]) -> None:
    caller, team_id = team_owner
    project = make_project(caller, team_id)
    r = caller.post(f"projects/{project['id']}/update", {"name": "  Storefront  "})
    assert r.status_code == 200, r.content
    assert r.json() == {**project, "name": "Storefront"}  # same id, team, slug, createdAt
    assert caller.get(f"projects/{project['id']}").json()["name"] == "Storefront"
    listed = caller.get(f"teams/{team_id}/projects").json()["items"]
    assert [p["name"] for p in listed] == ["Storefront"]

    event = AuditEvent.objects.filter(team_id=team_id, action="project.update").get()
    assert event.metadata == {"name": "Storefront", "previous": "Shop"}
    # Renaming to the current name changes nothing and records nothing.
    r = caller.post(f"projects/{project['id']}/update", {"name": "Storefront"})
    assert r.status_code == 200
    assert AuditEvent.objects.filter(team_id=team_id, action="project.update").count() == 1


def test_bad_names_are_refused(team_owner: tuple[Caller, int]) -> None:
    caller, team_id = team_owner
    project = make_project(caller, team_id)
    r = caller.post(f"projects/{project['id']}/update", {"name": "   "})
    assert r.status_code == 400 and "name" in r.json()["message"]
    r = caller.post(f"projects/{project['id']}/update", {})
    assert r.status_code == 400 and r.json()["code"] == "InvalidRequest"
    assert "name" in r.json()["message"]
    r = caller.post(f"projects/{project['id']}/update", {"name": "x" * 101})
    assert r.status_code == 400 and "name" in r.json()["message"]
    assert caller.post("projects/999999/update", {"name": "Ghost"}).status_code == 404
    assert caller.get(f"projects/{project['id']}").json()["name"] == "Shop"


def test_only_team_developers_may_rename(team_owner: tuple[Caller, int], make_user: Any) -> None:
    owner, team_id = team_owner
    project = make_project(owner, team_id)
    stranger = make_user("stranger@beta.test")
    stranger_team = stranger.post("teams/create_team", {"name": "Beta"}).json()["id"]
    assert stranger_team != team_id
    r = stranger.post(f"projects/{project['id']}/update", {"name": "Mine now"})
    assert r.status_code == 404  # another team's project does not exist for them

    viewer = make_user("viewer@alpha.test")
    mail.outbox.clear()
    owner.post(
        f"teams/{team_id}/invite_team_member", {"email": "viewer@alpha.test", "role": "viewer"}
    )
    token = re.search(r"^(inv_\S+)$", mail.outbox[-1].body, re.M)
    assert token is not None
    assert viewer.post("invites/accept", {"token": token.group(1)}).status_code == 200
    r = viewer.post(f"projects/{project['id']}/update", {"name": "Viewer's"})
    assert r.status_code == 403 and "developer" in r.json()["message"]
    assert owner.get(f"projects/{project['id']}").json()["name"] == "Shop"


def test_update_is_in_the_openapi_schema(client: Any) -> None:
    raw = client.get("/v1/openapi.json").json()
    operation = raw["paths"]["/v1/projects/{project_id}/update"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("/UpdateProjectInRequest")
    assert raw["components"]["schemas"]["UpdateProjectInRequest"]["required"] == ["name"]
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ok.endswith("/ProjectOut")
