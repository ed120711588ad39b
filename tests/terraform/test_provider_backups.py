"""strata_backup_schedule: plan, apply, no-op, update, drift, import and destroy for real."""

from __future__ import annotations

from .conftest import ControlPlane, Terraform
from .test_provider_lifecycle import HEADER

MODULE = (
    HEADER
    + """
resource "strata_project" "app" {
  team_id = var.team_id
  name    = "Backed Up"
}

resource "strata_deployment" "prod" {
  project_id = strata_project.app.id
  type       = "prod"
}

resource "strata_backup_schedule" "prod" {
  deployment_name = strata_deployment.prod.name
  %(when)s
  retain          = %(retain)d
}
"""
)


def test_backup_schedule_lifecycle(terraform: Terraform, control_plane: ControlPlane) -> None:
    terraform.write(MODULE % {"when": "interval_hours = 24", "retain": 7})
    rc, out = terraform.plan_exit()
    assert rc == 2 and "3 to add, 0 to change, 0 to destroy" in out, out
    terraform.apply()
    state = terraform.state()["strata_backup_schedule.prod"]
    name = state["deployment_name"]
    assert state["id"] == name
    r = control_plane.get(f"deployments/{name}/backup_schedule")
    assert r.status_code == 200, r.text
    assert (r.json()["intervalHours"], r.json()["retain"]) == (24, 7)
    assert r.json()["nextDueAt"] == state["next_due_at"]
    assert terraform.plan_exit()[0] == 0

    # In place: a new retention, then a new interval (whose next due time is recomputed).
    terraform.write(MODULE % {"when": "interval_hours = 24", "retain": 3})
    rc, out = terraform.plan_exit()
    assert rc == 2 and "0 to add, 1 to change, 0 to destroy" in out, out
    terraform.apply()
    assert control_plane.get(f"deployments/{name}/backup_schedule").json()["retain"] == 3
    terraform.write(MODULE % {"when": "interval_hours = 6", "retain": 3})
    terraform.apply()
    shown = control_plane.get(f"deployments/{name}/backup_schedule").json()
    assert shown["intervalHours"] == 6
    assert terraform.state()["strata_backup_schedule.prod"]["next_due_at"] == shown["nextDueAt"]
    assert terraform.plan_exit()[0] == 0

    # From an interval to a cron expression (UTC), in place.
    terraform.write(MODULE % {"when": 'cron = "15 4 * * *"', "retain": 3})
    rc, out = terraform.plan_exit()
    assert rc == 2 and "0 to add, 1 to change, 0 to destroy" in out, out
    terraform.apply()
    shown = control_plane.get(f"deployments/{name}/backup_schedule").json()
    assert (shown["intervalHours"], shown["cron"]) == (None, "15 4 * * *")
    assert "T04:15:00" in shown["nextDueAt"]
    assert terraform.plan_exit()[0] == 0

    # Exactly one of interval_hours and cron: both is a plan-time error naming them.
    terraform.write(MODULE % {"when": 'interval_hours = 2\n  cron = "0 * * * *"', "retain": 3})
    r = terraform.run("plan", "-no-color", "-input=false", check=False)
    assert r.returncode == 1 and "exactly one of interval_hours and cron" in r.stdout + r.stderr
    terraform.write(MODULE % {"when": 'cron = "15 4 * * *"', "retain": 3})

    # Drift: removed behind terraform's back, the schedule is planned back in.
    r = control_plane.http.delete(f"/v1/deployments/{name}/backup_schedule")
    assert r.status_code == 200, r.text
    rc, out = terraform.plan_exit()
    assert rc == 2 and "strata_backup_schedule.prod will be created" in out, out

    # Import adopts the existing schedule instead.
    r = control_plane.http.put(
        f"/v1/deployments/{name}/backup_schedule", json={"cron": "15 4 * * *", "retain": 3}
    )
    assert r.status_code == 200, r.text
    terraform.run("state", "rm", "strata_backup_schedule.prod")
    terraform.run("import", "-no-color", "strata_backup_schedule.prod", name)
    assert terraform.plan_exit()[0] == 0

    terraform.destroy()
    assert terraform.state() == {}
    assert control_plane.get(f"deployments/{name}/backup_schedule").status_code == 404
