"""`terraform import` and `import {}` blocks adopt existing objects; bad input is a clear error."""

from __future__ import annotations

from .conftest import ControlPlane, Terraform
from .test_provider_lifecycle import HEADER


def _existing(control_plane: ControlPlane) -> tuple[str, str, str]:
    r = control_plane.post(
        f"teams/{control_plane.team_id}/create_project",
        {"projectName": "Imported", "deploymentType": "dev"},
    )
    assert r.status_code == 201, r.text
    project_id, name = str(r.json()["projectId"]), r.json()["deploymentName"]
    r = control_plane.post(
        f"deployments/{name}/update_environment_variables",
        {"changes": [{"name": "FEATURE", "value": "on"}]},
    )
    assert r.status_code == 200, r.text
    r = control_plane.post(f"deployments/{name}/create_deploy_key", {"name": "legacy"})
    assert r.status_code == 201, r.text
    return project_id, name, r.json()["id"]


def test_import_existing_objects(terraform: Terraform, control_plane: ControlPlane) -> None:
    project_id, name, key_id = _existing(control_plane)
    terraform.write(
        HEADER
        + f"""
resource "strata_project" "p" {{
  team_id = var.team_id
  name    = "Imported"
}}
resource "strata_deployment" "d" {{
  project_id = strata_project.p.id
  type       = "dev"
}}
resource "strata_environment_variable" "f" {{
  deployment_name = strata_deployment.d.name
  name            = "FEATURE"
  value           = "on"
}}
resource "strata_deploy_key" "k" {{
  deployment_name = strata_deployment.d.name
  name            = "legacy"
}}
import {{
  to = strata_deploy_key.k
  id = "{name}/{key_id}"
}}
"""
    )
    terraform.run("import", "-no-color", "strata_project.p", project_id)
    terraform.run("import", "-no-color", "strata_deployment.d", name)
    terraform.run("import", "-no-color", "strata_environment_variable.f", f"{name}/FEATURE")
    rc, out = terraform.plan_exit()
    assert rc == 2 and "1 to import, 0 to add, 0 to change, 0 to destroy" in out, out
    terraform.apply()
    state = terraform.state()
    assert state["strata_deployment.d"]["project_id"] == project_id
    assert state["strata_deploy_key.k"]["key_id"] == key_id
    assert state["strata_deploy_key.k"]["key"] is None  # the secret is not recoverable
    assert state["strata_environment_variable.f"]["value"] == "on"
    assert terraform.plan_exit()[0] == 0

    # Destroy removes exactly what was imported.
    terraform.destroy()
    assert control_plane.get(f"projects/{project_id}").status_code == 404


def test_errors_are_diagnostics(terraform: Terraform, control_plane: ControlPlane) -> None:
    terraform.write(
        HEADER
        + """
resource "strata_project" "p" {
  team_id = "999999"
  name    = "Nope"
}
resource "strata_team_member" "m" {
  team_id = var.team_id
  email   = "bob@strata.test"
  role    = "superuser"
}
"""
    )
    r = terraform.run("plan", "-no-color", check=False)
    assert r.returncode == 1
    assert "Invalid role" in r.stderr and "owner, admin, developer, viewer" in r.stderr

    terraform.write(
        HEADER
        + """
resource "strata_project" "p" {
  team_id = "999999"
  name    = "Nope"
}
"""
    )
    r = terraform.run("apply", "-auto-approve", "-no-color", check=False)
    assert r.returncode == 1
    assert "Creating the project failed" in r.stderr and "Team not found" in r.stderr
    assert "Plugin error" not in r.stderr

    r = terraform.run("import", "-no-color", "strata_project.p", "424242", check=False)
    assert r.returncode == 1 and "Project not found" in r.stderr

    bad_token = Terraform(terraform.workdir, {**terraform.env, "STRATA_TOKEN": "nope"})
    r = bad_token.run("import", "-no-color", "strata_project.p", "1", check=False)
    assert r.returncode == 1 and "401" in r.stderr


def test_existing_member_is_adopted(terraform: Terraform, control_plane: ControlPlane) -> None:
    members = control_plane.get(f"teams/{control_plane.team_id}/list_members").json()["items"]
    (owner,) = members
    terraform.write(
        HEADER
        + f"""
resource "strata_team_member" "me" {{
  team_id = var.team_id
  email   = "{owner["email"]}"
  role    = "owner"
}}
"""
    )
    terraform.run(
        "import", "-no-color", "strata_team_member.me", f"{control_plane.team_id}/{owner['email']}"
    )
    state = terraform.state()["strata_team_member.me"]
    assert state["status"] == "member"
    assert state["member_id"] == str(owner["id"])
    assert state["invite_id"] is None
    assert terraform.plan_exit()[0] == 0
    terraform.run("state", "rm", "strata_team_member.me")  # never remove the only owner
    assert terraform.state() == {}
