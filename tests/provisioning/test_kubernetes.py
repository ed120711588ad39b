"""The Kubernetes driver's manifests, checked against the official client's models."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import ApiClient

from contract.keys import new_instance_secret
from contract.revocation import FILE_NAME, read_revoked_keys
from contract.spec import DeploymentSpec, ResourceLimits
from controlplane.provisioning.drivers import DriverError
from controlplane.provisioning.drivers.kubernetes import (
    REVOCATION_DIR,
    KubernetesDriver,
    render_manifests,
    revocation_configmap,
)


class _Response:
    """What ApiClient.deserialize reads (kubernetes==36 as pinned): a body in `.data`."""

    def __init__(self, body: object) -> None:
        self.data = json.dumps(body)


MODELS = {
    "Secret": "V1Secret",
    "ConfigMap": "V1ConfigMap",
    "PersistentVolumeClaim": "V1PersistentVolumeClaim",
    "NetworkPolicy": "V1NetworkPolicy",
    "Deployment": "V1Deployment",
    "PodDisruptionBudget": "V1PodDisruptionBudget",
    "Service": "V1Service",
    "Ingress": "V1Ingress",
}


def spec() -> DeploymentSpec:
    return DeploymentSpec(
        name="happy-otter-123",
        instance_secret=new_instance_secret(),
        port=3210,
        storage="postgres",
        limits=ResourceLimits(memory_mb=512),
        usage_report_url="https://cp.example.com/v1/usage/report",
    )


def test_manifests_are_valid_kubernetes_objects() -> None:
    s = replace(spec(), storage="sqlite")
    manifests = render_manifests(
        s,
        namespace="strata",
        image="strata/dataplane:1",
        base_domain="example.com",
        env_secret="strata-dataplane-env",
    )
    assert [m["kind"] for m in manifests] == list(MODELS)
    client = ApiClient()
    for manifest in manifests:
        obj = client.deserialize(_Response(manifest), MODELS[manifest["kind"]])
        assert obj.metadata.namespace == "strata"
        assert obj.metadata.labels["strata.dev/deployment"] == "happy-otter-123"
        # Round-trips through the typed model unchanged: no misspelt fields.
        assert client.sanitize_for_serialization(obj) == manifest


def test_deployment_wiring() -> None:
    s = spec()
    by_kind = {
        m["kind"]: m
        for m in render_manifests(
            s, namespace="strata", image="img", base_domain="example.com", database_url="pg://x"
        )
    }
    secret = by_kind["Secret"]["data"]
    assert base64.b64decode(secret["STRATA_DP_INSTANCE_SECRET"]).decode() == s.instance_secret
    assert base64.b64decode(secret["STRATA_DP_DATABASE_URL"]).decode() == "pg://x"
    pod = by_kind["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["STRATA_DP_NAME"] == "happy-otter-123"
    assert env["STRATA_DP_PUBLIC_URL"] == "https://happy-otter-123.example.com"
    assert env["STRATA_DP_USAGE_URL"] == s.usage_report_url
    assert s.instance_secret not in json.dumps(container)  # only via the Secret
    assert container["resources"]["limits"] == {"memory": "512Mi"}
    assert container["resources"]["requests"]["memory"] == "512Mi"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    # Postgres: a new pod is ready before an old one goes, so one always serves.
    assert by_kind["Deployment"]["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
    }
    rule = by_kind["Ingress"]["spec"]["rules"][0]
    assert rule["host"] == "happy-otter-123.example.com"
    assert (
        by_kind["Service"]["spec"]["selector"]
        == by_kind["Deployment"]["spec"]["selector"]["matchLabels"]
    )
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert REVOCATION_DIR in mounts


def test_revocation_configmap_is_readable_by_the_data_plane(tmp_path: Path) -> None:
    s = spec()
    configmap = revocation_configmap(s, "strata", ["k2", "k1"])
    # What the kubelet would project into the pod's revocation directory:
    (tmp_path / FILE_NAME).write_text(configmap["data"][FILE_NAME])
    assert read_revoked_keys(tmp_path, s.instance_secret) == {"k1", "k2"}


def _pod_env_from(manifests: list[dict[str, object]]) -> object:
    deployment: Any = next(m for m in manifests if m["kind"] == "Deployment")
    return deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]


def test_operator_env_secret_is_added_to_pods_before_the_deployments_own() -> None:
    s = spec()
    plain = render_manifests(s, namespace="strata", image="img", base_domain="example.com")
    assert _pod_env_from(plain) == [{"secretRef": {"name": "happy-otter-123-secret"}}]
    shared = render_manifests(
        s, namespace="strata", image="img", base_domain="example.com", env_secret="dp-env.s3"
    )
    # Later envFrom sources win on a shared key: the deployment's own identity comes last.
    assert _pod_env_from(shared) == [
        {"secretRef": {"name": "dp-env.s3"}},
        {"secretRef": {"name": "happy-otter-123-secret"}},
    ]
    kinds = [m["kind"] for m in shared]
    assert kinds == [m["kind"] for m in plain]  # the driver does not create that Secret
    for bad in ("Has_Upper", "-dash-first", "x" * 254, "a..b"):
        with pytest.raises(DriverError, match="STRATA_K8S_DATAPLANE_ENV_SECRET"):
            render_manifests(
                s, namespace="strata", image="img", base_domain="example.com", env_secret=bad
            )


def test_driver_reads_the_env_secret_setting(settings: Any) -> None:
    from controlplane.provisioning.drivers import _build

    settings.STRATA_DRIVER = "kubernetes"
    settings.STRATA_K8S_DATAPLANE_ENV_SECRET = "strata-dataplane-env"
    driver = _build()  # builds its API client lazily: no cluster needed to render
    assert isinstance(driver, KubernetesDriver)
    s = DeploymentSpec(name="calm-heron-7", instance_secret="s", port=3210, limits=ResourceLimits())
    assert _pod_env_from(driver.manifests(s)) == [
        {"secretRef": {"name": "strata-dataplane-env"}},
        {"secretRef": {"name": "calm-heron-7-secret"}},
    ]
    settings.STRATA_K8S_DATAPLANE_ENV_SECRET = ""
    plain = _build()
    assert isinstance(plain, KubernetesDriver)
    assert _pod_env_from(plain.manifests(s)) == [{"secretRef": {"name": "calm-heron-7-secret"}}]
