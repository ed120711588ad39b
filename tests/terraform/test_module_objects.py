"""The objects the `strata` module creates, as the real Terraform evaluates them.

The kubernetes provider cannot be downloaded here, so the module's locals run in a harness whose
resources are Terraform's built-in `terraform_data`: `terraform apply` evaluates templatefile,
jsondecode and the for_each maps exactly as the module does (with the secret key unknown at plan
time, as on a first apply), and every object comes back out of the state to be validated against
the Kubernetes schemas.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kubernetes_validate import utils as kv
from packaging.version import Version

from .conftest import REPO, TERRAFORM_SHIM

MODULE = REPO / "infra" / "terraform" / "modules" / "strata"
VERSIONS = sorted({kv.major_minor(v) for v in kv.all_versions()}, key=Version)[-3:]
HARNESS = """
resource "terraform_data" "secret_key" {
  input = "stands in for random_password"
}
resource "terraform_data" "namespace" {
  for_each = { for o in local.platform : o.metadata.name => o if o.kind == "Namespace" }
  input    = each.value
}
resource "terraform_data" "object" {
  for_each = local.objects
  input    = each.value
}
resource "terraform_data" "workload" {
  for_each = local.workloads
  input    = each.value
}
output "dataplane_env" {
  value     = local.dataplane_env
  sensitive = true
}
output "env" {
  value     = local.env
  sensitive = true
}
"""


def _locals_block(main_tf: str) -> str:
    start = main_tf.index("\nlocals {") + 1
    end = main_tf.index("\n}\n", start) + 3
    return main_tf[start:end]


def _terraform(workdir: Path, home: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(TERRAFORM_SHIM), *args],
        cwd=workdir,
        env={"CHECKPOINT_DISABLE": "1", "HOME": str(home), "TF_CLI_CONFIG_FILE": "/dev/null"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """State of the harness after `terraform apply` with a full set of inputs."""
    work = tmp_path_factory.mktemp("strata-module")
    home = tmp_path_factory.mktemp("home")
    shutil.copy(MODULE / "variables.tf", work)
    shutil.copy(MODULE / "platform.json.tftpl", work)
    locals_ = _locals_block((MODULE / "main.tf").read_text())
    assert "random_password.secret_key.result" in locals_
    locals_ = locals_.replace(
        "random_password.secret_key.result", "terraform_data.secret_key.output"
    )
    (work / "main.tf").write_text(locals_ + HARNESS)
    (work / "terraform.tfvars.json").write_text(
        json.dumps(
            {
                "image": "registry.example.com/strata:1.0",
                "base_domain": "strata.example.com",
                "tls_secret_name": "strata-tls",
                "database_url": "postgresql://strata:pw@postgres.strata-data.svc/strata",
                "deployments_postgres_url": "postgresql://postgres:pw@deployments-postgres.strata-data.svc/postgres",
                "deployments_mysql_url": "mysql://root:pw@deployments-mysql.strata-data.svc:3306/mysql",
                "redis_url": "redis://redis.strata-data.svc:6379/0",
                "deployments_redis_url": "redis://deployments-redis.strata-data.svc:6379/0",
                "deployment_replicas": 3,
                "deployments_egress_services": [
                    "strata-data/deployments-postgres:5432",
                    "strata-data/deployments-redis:6379",
                ],
                "deployments_egress_networks": ["10.20.0.0/24"],
                "s3": {"bucket": "files", "region": "eu-west-1"},
            }
        )
    )
    _terraform(work, home, "init", "-no-color", "-input=false")
    _terraform(work, home, "apply", "-auto-approve", "-no-color", "-input=false")
    shown = json.loads(_terraform(work, home, "show", "-json"))
    values = shown["values"]
    objects = {
        r["address"]: r["values"]["input"]
        for r in values["root_module"]["resources"]
        if r["address"] != "terraform_data.secret_key"
    }
    return {"objects": objects, "outputs": values["outputs"]}


def test_module_objects_pass_strict_schema_validation(applied: dict[str, Any]) -> None:
    objects = applied["objects"]
    kinds = sorted(o["kind"] for o in objects.values())
    assert kinds == sorted(
        ["Namespace"] * 2
        + ["ServiceAccount", "Role", "RoleBinding", "Service", "Ingress"]
        + ["Deployment"] * 3
    )
    assert len(VERSIONS) == 3
    for version in VERSIONS:
        for address, obj in objects.items():
            try:
                kv.validate(obj, version, strict=True)
            except kv.ValidationError as exc:
                raise AssertionError(f"{address} on {version}: {exc}") from exc


def test_module_wires_the_driver_and_rolls_pods_on_new_settings(applied: dict[str, Any]) -> None:
    objects = applied["objects"]
    env = applied["outputs"]["env"]["value"]
    assert env["STRATA_K8S_REPLICAS"] == "3"
    assert env["STRATA_DP_MYSQL_URL"].startswith("mysql://root:pw@deployments-mysql.")
    assert env["STRATA_K8S_EGRESS_SERVICES"] == (
        "strata-data/deployments-postgres:5432,strata-data/deployments-redis:6379"
    )
    assert env["STRATA_K8S_EGRESS_NETWORKS"] == "10.20.0.0/24"
    assert env["STRATA_K8S_CONTROLPLANE_NAMESPACE"] == "strata-system"
    assert env["STRATA_K8S_INGRESS_NAMESPACE"] == "ingress-nginx"
    assert env["STRATA_K8S_INGRESS_CLASS"] == "nginx"  # deployments' Ingresses, like its own
    dp_env = applied["outputs"]["dataplane_env"]["value"]
    assert dp_env["STRATA_DP_REDIS_URL"].startswith("redis://deployments-redis.")
    assert dp_env["STRATA_DP_BLOB_STORE"] == "s3://files/"
    web = objects['terraform_data.workload["strata-web"]']
    annotations = web["spec"]["template"]["metadata"]["annotations"]
    assert len(annotations["strata.dev/config-hash"]) == 64
    assert web["spec"]["replicas"] == 2 and isinstance(web["spec"]["replicas"], int)
    ingress = objects['terraform_data.object["Ingress/strata-system/strata-web"]']
    assert ingress["spec"]["tls"] == [{"hosts": ["strata.example.com"], "secretName": "strata-tls"}]
