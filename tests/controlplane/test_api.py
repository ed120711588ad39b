"""The /v1 management API on the real database (SQLite by default, Postgres via DATABASE_URL)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core import mail
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from contract.keys import verify_key
from controlplane.audit.models import AuditEvent
from controlplane.deployments.models import Deployment

from .conftest import PASSWORD, Caller, linked_token

pytestmark = pytest.mark.django_db
NAME_RE = re.compile(r"^[a-z]+-[a-z]+-\d{3}$")


def create_project(caller: Caller, team_id: int, name: str = "app", **extra: Any) -> Any:
    body = {"projectName": name, "deploymentType": "prod", **extra}
    r = caller.post(f"teams/{team_id}/create_project", body)
    assert r.status_code == 201, r.content
    return r.json()


# ---- accounts ------------------------------------------------------------------------------


def test_sign_up_stores_argon2_and_requires_verification() -> None:
    client = APIClient()
    weak = client.post(
        "/v1/auth/sign_up", {"email": "a@x.test", "password": "short"}, format="json"
    )
    assert weak.status_code == 400
    assert weak.json()["code"] == "WeakPassword"
    assert "too short" in weak.json()["message"]

    r = client.post("/v1/auth/sign_up", {"email": "A@X.test", "password": PASSWORD}, format="json")
    assert r.status_code == 201
    assert User.objects.get(email="a@x.test").password.startswith("argon2")
    assert r.json() == {"email": "a@x.test"}

    login = client.post(
        "/v1/auth/login", {"email": "a@x.test", "password": PASSWORD}, format="json"
    )
    assert login.status_code == 400 and login.json()["code"] == "EmailNotVerified"
    bad = client.post("/v1/auth/verify_email", {"token": "1:forged:sig"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "InvalidToken"

    # The email's link carries the token; a new account has a team of its own.
    link = re.search(r"^(\S+)/#/verify\?token=(\S+)$", mail.outbox[-1].body, re.M)
    assert link is not None and link.group(1) == settings.STRATA_CONTROL_PLANE_URL.rstrip("/")
    token = linked_token(mail.outbox[-1].body, "/verify")
    assert client.post("/v1/auth/verify_email", {"token": token}, format="json").status_code == 200
    login = client.post(
        "/v1/auth/login", {"email": "a@x.test", "password": PASSWORD}, format="json"
    )
    caller = Caller(client=APIClient(), token=login.json()["accessToken"])
    teams = caller.get("teams").json()["items"]
    assert [t["name"] for t in teams] == ["a's team"], teams


def test_password_reset_flow(make_user: Any) -> None:
    make_user("reset@x.test")
    client = APIClient()
    mail.outbox.clear()
    r = client.post("/v1/auth/request_password_reset", {"email": "reset@x.test"}, format="json")
    assert r.status_code == 202 and len(mail.outbox) == 1
    unknown = client.post("/v1/auth/request_password_reset", {"email": "no@x.test"}, format="json")
    assert unknown.status_code == 202 and len(mail.outbox) == 1  # no account enumeration
    token = linked_token(mail.outbox[0].body, "/reset")
    new = "an-entirely-new-passphrase"
    body = {"token": token, "password": new}
    assert client.post("/v1/auth/reset_password", body, format="json").status_code == 200
    reused = client.post("/v1/auth/reset_password", body, format="json")
    assert reused.status_code == 400 and reused.json()["code"] == "InvalidToken"
    old = client.post(
        "/v1/auth/login", {"email": "reset@x.test", "password": PASSWORD}, format="json"
    )
    assert old.status_code == 401
    ok = client.post("/v1/auth/login", {"email": "reset@x.test", "password": new}, format="json")
    assert ok.status_code == 201


def test_missing_or_bad_token_is_401() -> None:
    client = APIClient()
    assert client.get("/v1/token_details").status_code == 401
    r = client.get("/v1/token_details", HTTP_AUTHORIZATION="Bearer strata_pat_nope_nope")
    assert r.status_code == 401 and r.json()["code"] == "InvalidToken"
    r = client.get("/v1/token_details", HTTP_AUTHORIZATION="Basic abc")
    assert r.status_code == 401


# ---- projects and deployments --------------------------------------------------------------


def test_create_project_with_default_deployment(team_owner: tuple[Caller, int]) -> None:
    caller, team_id = team_owner
    created = create_project(caller, team_id)
    assert NAME_RE.match(created["deploymentName"])
    assert created["deploymentUrl"].startswith("http://127.0.0.1:")
    deployment = caller.get(f"deployments/{created['deploymentName']}").json()
    assert deployment["status"] == "provisioning"
    assert deployment["deploymentType"] == "prod"
    assert deployment["hostUrl"].startswith(f"http://{created['deploymentName']}.localhost")
    listed = caller.get(f"projects/{created['projectId']}/list_deployments").json()
    assert [d["name"] for d in listed["items"]] == [created["deploymentName"]]

    # A second default prod deployment is refused; one with a reference is fine.
    r = caller.post(f"projects/{created['projectId']}/create_deployment", {"type": "prod"})
    assert r.status_code == 409 and r.json()["code"] == "DeploymentExists"
    r = caller.post(f"projects/{created['projectId']}/create_deployment", {"type": "preview"})
    assert r.status_code == 400 and "reference" in r.json()["message"]
    r = caller.post(
        f"projects/{created['projectId']}/create_deployment",
        {"type": "preview", "reference": "feature/login"},
    )
    assert r.status_code == 201 and r.json()["reference"] == "feature/login"

    actions = set(AuditEvent.objects.filter(team_id=team_id).values_list("action", flat=True))
    assert {"team.create", "project.create", "deployment.create"} <= actions


def test_validation_errors_name_the_field(team_owner: tuple[Caller, int]) -> None:
    caller, team_id = team_owner
    r = caller.post(f"teams/{team_id}/create_project", {"deploymentType": "staging"})
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "InvalidRequest"
    assert "projectName" in body["message"] and "deploymentType" in body["message"]
    project = create_project(caller, team_id)
    name = project["deploymentName"]
    r = caller.post(f"deployments/{name}/create_deploy_key", {"name": "k", "allowedActions": ["x"]})
    assert r.status_code == 400 and "allowedActions" in r.json()["message"]
    r = caller.post(
        f"deployments/{name}/update_environment_variables",
        {"changes": [{"name": "1BAD", "value": "v"}]},
    )
    assert r.status_code == 400 and r.json()["code"] == "InvalidEnvVarName"


def test_two_teams_are_isolated(make_user: Any, local_driver: Any) -> None:
    alice, bob = make_user("alice@a.test"), make_user("bob@b.test")
    team_a = alice.post("teams/create_team", {"name": "A"}).json()["id"]
    team_b = bob.post("teams/create_team", {"name": "B"}).json()["id"]
    a_project = create_project(alice, team_a, "secret-app")
    a_deployment = a_project["deploymentName"]
    create_project(bob, team_b, "bob-app")

    # Bob sees none of Alice's objects, and cannot act on them: 404, not 403.
    for path in (
        f"teams/{team_a}",
        f"teams/{team_a}/list_members",
        f"teams/{team_a}/projects",
        f"teams/{team_a}/list_deployments",
        f"projects/{a_project['projectId']}",
        f"deployments/{a_deployment}",
        f"deployments/{a_deployment}/list_deploy_keys",
        f"deployments/{a_deployment}/list_environment_variables",
        f"deployments/{a_deployment}/usage",
    ):
        assert bob.get(path).status_code == 404, path
    for path, body in (
        (f"deployments/{a_deployment}/create_deploy_key", {"name": "steal"}),
        (f"deployments/{a_deployment}/delete", {}),
        (f"deployments/{a_deployment}/pause", {}),
        (f"projects/{a_project['projectId']}/create_deployment", {"type": "dev"}),
        (f"teams/{team_a}/invite_team_member", {"email": "bob@b.test", "role": "admin"}),
    ):
        assert bob.post(path, body).status_code == 404, path
    teams = [t["id"] for t in bob.get("teams").json()["items"]]
    assert team_b in teams and team_a not in teams
    names = [d["name"] for d in bob.get(f"teams/{team_b}/list_deployments").json()["items"]]
    assert a_deployment not in names

    # A team token of team A is confined to team A too.
    r = alice.post(f"teams/{team_a}/create_access_token", {"name": "ci", "role": "admin"})
    ci = Caller(client=APIClient(), token=r.json()["accessToken"])
    assert ci.get(f"teams/{team_a}/list_deployments").status_code == 200
    assert ci.get(f"teams/{team_b}/list_deployments").status_code == 404
    assert ci.get("token_details").json() == {
        "type": "team",
        "tokenId": r.json()["tokenId"],
        "name": "ci",
        "userId": None,
        "teamId": team_a,
        "role": "admin",
    }
    assert ci.post("teams/create_team", {"name": "x"}).status_code == 403

    # A deploy key minted for A's deployment is refused by B's.
    key = alice.post(f"deployments/{a_deployment}/create_deploy_key", {"name": "k"}).json()
    b_dep = Deployment.objects.get(project__team_id=team_b)
    assert verify_key(key["deployKey"], b_dep.name, b_dep.instance_secret) is None
    a_dep = Deployment.objects.get(name=a_deployment)
    assert verify_key(key["deployKey"], a_dep.name, a_dep.instance_secret) is not None


def test_roles_and_invitations(team_owner: tuple[Caller, int], make_user: Any) -> None:
    owner, team_id = team_owner
    viewer = make_user("viewer@alpha.test")
    mail.outbox.clear()
    r = owner.post(
        f"teams/{team_id}/invite_team_member", {"email": "viewer@alpha.test", "role": "viewer"}
    )
    assert r.status_code == 201
    invite_id = r.json()["id"]
    token = linked_token(mail.outbox[-1].body, "/invites/accept")
    pending = owner.get(f"teams/{team_id}/list_pending_invites").json()["items"]
    assert [p["id"] for p in pending] == [invite_id]
    assert viewer.get(f"teams/{team_id}").status_code == 404  # not a member yet
    outsider = make_user("outsider@x.test")
    r = outsider.post("invites/accept", {"token": token})
    assert r.status_code == 403  # sent to another address
    assert viewer.post("invites/accept", {"token": token}).status_code == 200
    assert viewer.post("invites/accept", {"token": token}).status_code == 400

    # A viewer reads but cannot write.
    assert viewer.get(f"teams/{team_id}/projects").status_code == 200
    r = viewer.post(f"teams/{team_id}/create_project", {"projectName": "nope"})
    assert r.status_code == 403 and "developer" in r.json()["message"]
    assert viewer.get(f"teams/{team_id}/list_audit_log_events").status_code == 403

    members = owner.get(f"teams/{team_id}/list_members").json()["items"]
    viewer_id = next(m["id"] for m in members if m["email"] == "viewer@alpha.test")
    owner_id = next(m["id"] for m in members if m["role"] == "owner")
    r = owner.post(
        f"teams/{team_id}/update_team_member_role", {"memberId": viewer_id, "role": "developer"}
    )
    assert r.status_code == 200 and r.json()["role"] == "developer"
    assert viewer.post(f"teams/{team_id}/create_project", {"projectName": "ok"}).status_code == 201
    r = owner.post(
        f"teams/{team_id}/update_team_member_role", {"memberId": owner_id, "role": "admin"}
    )
    assert r.status_code == 400 and r.json()["code"] == "LastOwner"
    assert (
        owner.post(f"teams/{team_id}/remove_team_member", {"memberId": viewer_id}).status_code
        == 200
    )
    assert viewer.get(f"teams/{team_id}").status_code == 404
    events = owner.get(f"teams/{team_id}/list_audit_log_events", limit=100).json()["items"]
    assert {"team.invite", "team.join", "team.update_role", "team.remove_member"} <= {
        e["action"] for e in events
    }


def test_deploy_keys_shown_once_scoped_and_revocable(
    team_owner: tuple[Caller, int], django_capture_on_commit_callbacks: Any
) -> None:
    caller, team_id = team_owner
    name = create_project(caller, team_id)["deploymentName"]
    r = caller.post(
        f"deployments/{name}/create_deploy_key",
        {"name": "ci", "allowedActions": ["deployment:deploy"]},
    )
    assert r.status_code == 201
    created = r.json()
    assert created["deployKey"].startswith(f"{name}|")
    deployment = Deployment.objects.get(name=name)
    claims = verify_key(created["deployKey"], name, deployment.instance_secret)
    assert claims is not None and claims.allows("deployment:deploy")
    assert claims.allows("deploy")  # the data plane's name for the same scope
    assert not claims.allows("deployment:env:write") and not claims.allows("env")
    listed = caller.get(f"deployments/{name}/list_deploy_keys").json()["items"]
    assert listed[0]["id"] == created["id"] and "deployKey" not in listed[0]
    assert deployment.keys.get().key_hash not in created["deployKey"]

    with django_capture_on_commit_callbacks(execute=True):
        r = caller.post(f"deployments/{name}/delete_deploy_key", {"id": created["id"]})
    assert r.status_code == 200
    assert caller.get(f"deployments/{name}/list_deploy_keys").json()["items"] == []
    from contract.revocation import RevokedKeys
    from controlplane.provisioning.drivers import get_driver

    data_dir = get_driver().data_dir(name)  # type: ignore[attr-defined]
    assert RevokedKeys(data_dir, deployment.instance_secret).is_revoked(created["id"])
    r = caller.post(f"deployments/{name}/delete_deploy_key", {"id": created["id"]})
    assert r.status_code == 404


def test_environment_variables(team_owner: tuple[Caller, int]) -> None:
    caller, team_id = team_owner
    name = create_project(caller, team_id)["deploymentName"]
    changes = [{"name": "API_URL", "value": "https://x"}, {"name": "SECRET", "value": "s3"}]
    assert (
        caller.post(
            f"deployments/{name}/update_environment_variables", {"changes": changes}
        ).status_code
        == 200
    )
    items = caller.get(f"deployments/{name}/list_environment_variables").json()["items"]
    assert {(i["name"], i["value"]) for i in items} == {("API_URL", "https://x"), ("SECRET", "s3")}
    caller.post(
        f"deployments/{name}/update_environment_variables",
        {"changes": [{"name": "SECRET", "value": None}]},
    )
    items = caller.get(f"deployments/{name}/list_environment_variables").json()["items"]
    assert [i["name"] for i in items] == ["API_URL"]
    event = AuditEvent.objects.filter(action="deployment.update_env").first()
    assert event is not None and "s3" not in str(event.metadata)


def test_pagination(team_owner: tuple[Caller, int]) -> None:
    caller, team_id = team_owner
    for i in range(3):
        caller.post(f"teams/{team_id}/create_project", {"projectName": f"p{i}"})
    first = caller.get(f"teams/{team_id}/projects", limit=2).json()
    assert [p["name"] for p in first["items"]] == ["p2", "p1"]
    assert first["nextCursor"] is not None
    rest = caller.get(f"teams/{team_id}/projects", limit=2, cursor=first["nextCursor"]).json()
    assert [p["name"] for p in rest["items"]] == ["p0"] and rest["nextCursor"] is None
    assert caller.get(f"teams/{team_id}/projects", limit=0).status_code == 400


def test_idempotent_create(team_owner: tuple[Caller, int]) -> None:
    caller, team_id = team_owner
    body = {"projectName": "once", "deploymentType": "dev"}
    first = caller.post(f"teams/{team_id}/create_project", body, **{"Idempotency-Key": "k-1"})
    second = caller.post(f"teams/{team_id}/create_project", body, **{"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Deployment.objects.filter(project__team_id=team_id).count() == 1
    other = caller.post(
        f"teams/{team_id}/create_project", {"projectName": "other"}, **{"Idempotency-Key": "k-1"}
    )
    assert other.status_code == 400 and other.json()["code"] == "IdempotencyKeyReused"


def test_rate_limit(team_owner: tuple[Caller, int]) -> None:
    caller, _ = team_owner
    cache.clear()  # forget the requests team_owner made with this token
    with override_settings(STRATA_API_RATE_LIMIT=3):
        codes = [caller.get("token_details").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]


def test_personal_tokens(team_owner: tuple[Caller, int]) -> None:
    caller, _ = team_owner
    r = caller.post("create_personal_access_token", {"name": "laptop", "expiresInDays": 30})
    assert r.status_code == 201
    laptop = Caller(client=APIClient(), token=r.json()["accessToken"])
    assert laptop.get("token_details").json()["type"] == "personal"
    names = {t["name"] for t in caller.get("list_personal_access_tokens").json()["items"]}
    assert names == {"login", "laptop"}
    assert (
        caller.post("delete_personal_access_token", {"tokenId": r.json()["tokenId"]}).status_code
        == 200
    )
    assert laptop.get("token_details").status_code == 401


def test_delete_pause_and_scoped_view_guard(team_owner: tuple[Caller, int]) -> None:
    caller, team_id = team_owner
    project = create_project(caller, team_id)
    name = project["deploymentName"]
    assert caller.post(f"deployments/{name}/pause").json()["status"] == "paused"
    assert caller.post(f"deployments/{name}/unpause").json()["status"] == "provisioning"
    deleted = caller.post(f"deployments/{name}/delete").json()
    assert deleted["status"] == "deleted"
    assert caller.post(f"deployments/{name}/pause").status_code == 404
    assert caller.post(f"projects/{project['projectId']}/delete").status_code == 200
    assert caller.get(f"projects/{project['projectId']}").status_code == 404

    from controlplane.api.scoping import TeamScopedView

    with pytest.raises(TypeError, match="get_queryset"):
        type("Leaky", (TeamScopedView,), {"get_queryset": lambda self: None})


def test_database_vendor() -> None:
    """Proves which database the suite ran on (test_postgres re-runs this file on Postgres)."""
    import os

    from django.db import connection

    assert connection.vendor == os.environ.get("STRATA_EXPECT_DB_VENDOR", "sqlite")


def test_an_empty_reference_is_no_reference(team_owner: tuple[Caller, int]) -> None:
    """The console sends `reference: ""` when its optional field is left empty."""
    caller, team_id = team_owner
    created = create_project(caller, team_id)
    project = created["projectId"]
    r = caller.post(f"projects/{project}/create_deployment", {"type": "dev", "reference": ""})
    assert r.status_code == 201, r.content
    assert r.json()["deploymentType"] == "dev" and r.json()["reference"] == ""
    r = caller.post(f"projects/{project}/create_deployment", {"type": "preview", "reference": ""})
    assert r.status_code == 400 and "reference" in r.json()["message"]


def test_a_wrong_password_is_401_and_unknown_routes_share_the_error_shape(make_user: Any) -> None:
    make_user("who@x.test")
    client = APIClient()
    wrong = client.post(
        "/v1/auth/login", {"email": "who@x.test", "password": "not-it-at-all"}, format="json"
    )
    assert wrong.status_code == 401
    assert wrong.json() == {"code": "InvalidCredentials", "message": "Wrong email or password"}
    for path in ("/v1/no_such_thing", "/v1/teams/1/no_such_action"):
        missing = client.get(path)
        assert missing.status_code == 404
        assert set(missing.json()) == {"code", "message"} and missing.json()["code"] == "NotFound"


def test_mysql_storage_needs_the_operator_server(
    team_owner: tuple[Caller, int], settings: Any
) -> None:
    settings.STRATA_DP_MYSQL_URL = ""
    caller, team_id = team_owner
    project = create_project(caller, team_id)["projectId"]
    r = caller.post(
        f"projects/{project}/create_deployment",
        {"type": "preview", "reference": "db", "storage": "mysql"},
    )
    assert r.status_code == 400
    assert "STRATA_DP_MYSQL_URL" in r.json()["message"]
    r = caller.post(
        f"projects/{project}/create_deployment",
        {"type": "preview", "reference": "db", "storage": "oracle"},
    )
    assert r.status_code == 400 and "storage" in r.json()["message"]


def test_audit_log_filters(team_owner: tuple[Caller, int], make_user: Any) -> None:
    caller, team_id = team_owner
    create_project(caller, team_id)
    caller.post(f"teams/{team_id}/invite_team_member", {"email": "new@x.test", "role": "viewer"})

    def actions(**params: str) -> list[str]:
        r = caller.get(f"teams/{team_id}/list_audit_log_events", **params)
        assert r.status_code == 200, r.content
        return [e["action"] for e in r.json()["items"]]

    everything = actions()
    assert {"team.create", "project.create", "deployment.create", "team.invite"} <= set(everything)
    assert set(actions(action="deployment.")) == {"deployment.create"}  # a prefix
    assert actions(action="team.invite") == ["team.invite"]  # an exact action
    assert actions(action="team.") and all(a.startswith("team.") for a in actions(action="team."))
    assert set(actions(actor=caller.email.upper())) == set(everything)
    assert actions(actor="nobody@x.test") == []
    assert actions(since="2999-01-01T00:00:00Z") == []
    assert set(actions(until="2999-01-01T00:00:00Z")) == set(everything)
    first = caller.get(f"teams/{team_id}/list_audit_log_events").json()["items"][0]
    assert first["actorEmail"] == caller.email
    bad = caller.get(f"teams/{team_id}/list_audit_log_events", since="yesterday")
    assert bad.status_code == 400 and "since" in bad.json()["message"]
