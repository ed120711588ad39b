"""Real terraform plan/apply/plan/update/import/destroy against a live control plane."""

from __future__ import annotations

from .conftest import ControlPlane, Terraform

HEADER = """
terraform {
  required_providers {
    strata = { source = "strata.local/strata/strata" }
  }
}
variable "team_id" { type = string }
provider "strata" {}
"""

MODULE = (
    HEADER
    + """
data "strata_team" "t" { id = var.team_id }

resource "strata_project" "app" {
  team_id = data.strata_team.t.id
  name    = "%(project_name)s"
}

resource "strata_deployment" "dev" {
  project_id = strata_project.app.id
  type       = "dev"
  reference  = "ci"
}

resource "strata_environment_variable" "api" {
  deployment_name = strata_deployment.dev.name
  name            = "API_URL"
  value           = "%(api_url)s"
}

resource "strata_deploy_key" "ci" {
  deployment_name = strata_deployment.dev.name
  name            = "ci"
}

resource "strata_team_member" "alice" {
  team_id = var.team_id
  email   = "alice@strata.test"
  role    = "%(role)s"
}

data "strata_deployment" "dev" { name = strata_deployment.dev.name }

output "deployment_url" { value = data.strata_deployment.dev.url }
output "team_slug" { value = data.strata_team.t.slug }
"""
)


def _module(
    api_url: str = "https://api.one.test", role: str = "developer", project_name: str = "Web App"
) -> str:
    return MODULE % {"api_url": api_url, "role": role, "project_name": project_name}


def test_full_lifecycle(terraform: Terraform, control_plane: ControlPlane) -> None:
    terraform.write(_module())
    rc, out = terraform.plan_exit()
    assert rc == 2, out
    assert "5 to add, 0 to change, 0 to destroy" in out

    terraform.apply()
    state = terraform.state()
    project = state["strata_project.app"]
    deployment = state["strata_deployment.dev"]
    key = state["strata_deploy_key.ci"]
    member = state["strata_team_member.alice"]
    assert project["team_id"] == str(control_plane.team_id)

    # What terraform says exists really exists in the control plane.
    r = control_plane.get(f"projects/{project['id']}")
    assert r.status_code == 200 and r.json()["name"] == "Web App"
    r = control_plane.get(f"deployments/{deployment['name']}")
    assert r.status_code == 200
    assert r.json()["projectId"] == int(project["id"])
    assert r.json()["reference"] == "ci"
    env = control_plane.get(f"deployments/{deployment['name']}/list_environment_variables")
    assert {"name": "API_URL", "value": "https://api.one.test"} in env.json()["items"]
    keys = control_plane.get(f"deployments/{deployment['name']}/list_deploy_keys").json()
    assert [k["id"] for k in keys["items"]] == [key["key_id"]]
    assert key["key"].startswith(f"{deployment['name']}|")  # the secret, shown once
    invites = control_plane.get(f"teams/{control_plane.team_id}/list_pending_invites").json()
    assert [(i["email"], i["role"]) for i in invites["items"]] == [
        ("alice@strata.test", "developer")
    ]
    assert member["status"] == "invited"

    rc, out = terraform.plan_exit()
    assert rc == 0, out  # a second plan after apply shows no changes

    # In-place updates: the env var value, the member's role and the project's name.
    terraform.write(_module(api_url="https://api.two.test", role="admin", project_name="Web Two"))
    rc, out = terraform.plan_exit()
    assert rc == 2 and "0 to add, 3 to change, 0 to destroy" in out, out
    terraform.apply()
    renamed = terraform.state()["strata_project.app"]
    assert renamed["id"] == project["id"] and renamed["slug"] == project["slug"]
    assert renamed["name"] == "Web Two"
    r = control_plane.get(f"projects/{project['id']}")
    assert r.json()["name"] == "Web Two" and r.json()["slug"] == project["slug"]
    r = control_plane.get(f"deployments/{deployment['name']}")
    assert r.json()["projectId"] == int(project["id"])  # the deployment was not replaced
    env = control_plane.get(f"deployments/{deployment['name']}/list_environment_variables")
    assert {"name": "API_URL", "value": "https://api.two.test"} in env.json()["items"]
    invites = control_plane.get(f"teams/{control_plane.team_id}/list_pending_invites").json()
    assert [(i["email"], i["role"]) for i in invites["items"]] == [("alice@strata.test", "admin")]
    assert terraform.plan_exit()[0] == 0

    # Drift: a variable removed behind terraform's back is planned back in.
    control_plane.post(
        f"deployments/{deployment['name']}/update_environment_variables",
        {"changes": [{"name": "API_URL", "value": None}]},
    )
    rc, out = terraform.plan_exit()
    assert rc == 2 and "strata_environment_variable.api will be created" in out, out
    terraform.apply()
    assert terraform.plan_exit()[0] == 0

    terraform.destroy()
    assert terraform.state() == {}
    r = control_plane.get(f"projects/{project['id']}")
    assert r.status_code == 404
    r = control_plane.get(f"deployments/{deployment['name']}")
    assert r.json()["status"] == "deleted"
    invites = control_plane.get(f"teams/{control_plane.team_id}/list_pending_invites").json()
    assert invites["items"] == []
