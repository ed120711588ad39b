"""A new user signs up in the console, verifies the email, creates a team, a project and its
dev deployment, and gets a deploy key; the server-side state matches what the browser shows."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from contract.keys import verify_key

from .conftest import ControlPlane, run_browser

pytestmark = pytest.mark.slow


def test_sign_up_to_running_deployment(control_plane: ControlPlane, tmp_path: Path) -> None:
    result = run_browser("signup", control_plane, tmp_path)
    dep = result["deployment"]
    auth = {"Authorization": f"Bearer {result['token']}"}

    # What the console showed is what the API says about the deployment.
    api = httpx.get(f"{control_plane.url}/v1/deployments/{dep['name']}", headers=auth, timeout=10)
    assert api.status_code == 200, api.text
    assert api.json()["deploymentUrl"] == dep["url"]
    assert api.json()["status"] == dep["status"] == "running"

    # The deployment the console created is a real, live data-plane process...
    assert httpx.get(f"{dep['url']}/instance_name", timeout=10).text == dep["name"]
    # ...and the deploy key the console handed out is an admin key for exactly that one.
    verified = verify_key(dep["key"], dep["name"], _instance_secret(control_plane, dep["name"]))
    assert verified is not None

    # Changes made in the console reached the control plane.
    env = httpx.get(
        f"{control_plane.url}/v1/deployments/{dep['name']}/list_environment_variables",
        headers=auth,
        timeout=10,
    ).json()["items"]
    assert env == [{"name": "GREETING", "value": "hello world"}]
    assert result["resumed"] in ("provisioning", "running")
    assert result["plan"] == "free" and result["usageItems"] == 4
    assert "Function calls, month to date" in result["usageChartCaption"]
    assert "so far of" in result["usageChartCaption"]  # against the free plan's limit
    invites = httpx.get(
        f"{control_plane.url}/v1/teams/{teams_id(control_plane, auth)}/list_pending_invites",
        headers=auth,
        timeout=10,
    ).json()["items"]
    assert [(i["email"], i["role"]) for i in invites] == [("colleague@example.test", "viewer")]
    revoked = {"Authorization": f"Bearer {result['revokedToken']}"}
    assert (
        httpx.get(f"{control_plane.url}/v1/teams", headers=revoked, timeout=10).status_code == 401
    )

    teams = httpx.get(f"{control_plane.url}/v1/teams", headers=auth, timeout=10).json()["items"]
    deleted = result["deleted"]  # a prod deployment made with an empty reference, then deleted
    assert deleted["status"] == "deleted" and deleted["name"] != dep["name"]
    assert (deleted["couldNotLoad"], deleted["forms"], deleted["tabs"]) == (0, 0, 0)
    assert {"deployment.create", "deployment.pause", "deployment.delete"} <= set(
        result["auditActions"]
    )
    assert all(a.startswith("deployment.") for a in result["auditActions"])
    # The step the server reported while the console waited (polled twice a second; starting
    # a data-plane process takes seconds).
    step = dep["provisioningStep"]
    assert "creating sqlite storage and starting the process" in step, step
    local = result["email"].split("@")[0]
    assert sorted(t["name"] for t in teams) == ["Acme", f"{local}'s team"]  # + the default one

    # Another user sees none of it: the deployment is a 404 for them, not a 403.
    other = _api_user(control_plane, "someone-else@example.test")
    r = httpx.get(f"{control_plane.url}/v1/deployments/{dep['name']}", headers=other, timeout=10)
    assert r.status_code == 404, r.text
    theirs = httpx.get(f"{control_plane.url}/v1/teams", headers=other, timeout=10).json()["items"]
    assert [t["name"] for t in theirs] == ["someone-else's team"]


def teams_id(cp: ControlPlane, auth: dict[str, str]) -> int:
    teams = httpx.get(f"{cp.url}/v1/teams", headers=auth, timeout=10).json()["items"]
    return int(teams[0]["id"])


def _api_user(cp: ControlPlane, email: str) -> dict[str, str]:
    """Sign up, verify (token from the console email backend) and log in through /v1."""
    password = "another-long-password-7"
    r = httpx.post(f"{cp.url}/v1/auth/sign_up", json={"email": email, "password": password})
    assert r.status_code == 201, r.text
    block = [b for b in re.split(r"^-{10,}$", cp.log(), flags=re.M) if f"To: {email}" in b][-1]
    token = re.search(r"use this token to verify your email address:\s*\n\s*\n(\S+)", block)
    assert token is not None, block
    r = httpx.post(f"{cp.url}/v1/auth/verify_email", json={"token": token.group(1)})
    assert r.status_code == 200, r.text
    r = httpx.post(f"{cp.url}/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['accessToken']}"}


def _instance_secret(cp: ControlPlane, name: str) -> str:
    import sqlite3

    with sqlite3.connect(cp.data_dir / "cp" / "controlplane.sqlite3") as db:
        row = db.execute(
            "SELECT instance_secret FROM strata_deployments_deployment WHERE name = ?", (name,)
        ).fetchone()
    assert row is not None
    return str(row[0])
