"""Kubernetes driver: per Strata deployment a Secret, a ConfigMap (revoked keys), a PVC (SQLite
only), a NetworkPolicy, a Deployment, a PodDisruptionBudget, a Service and an Ingress.

`render_manifests` is pure (tested on its output, schemas included); `KubernetesDriver` applies
the result with server-side apply through the official client, so every call is idempotent.
The pod security profile and the NetworkPolicy come from k8s_objects, which also renders the
Terraform module's objects.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from typing import Any

import orjson

from contract.revocation import FILE_NAME as REVOCATION_FILE
from contract.revocation import _signature
from contract.spec import DeploymentSpec, DeploymentState, ResourceLimits
from controlplane.provisioning import mysql as mysql_databases
from controlplane.provisioning.postgres import create_database, database_url_for, drop_database

from .base import DriverError, ProvisioningDriver
from .k8s_objects import (
    DATAPLANE_PORT,
    ENTRYPOINT,
    NetworkLayout,
    PodSecurity,
    network_policy,
    writable_dirs,
)

CONTAINER_PORT = DATAPLANE_PORT
# Sync clients hold WebSockets open; ingress-nginx would cut them at 60 s.
INGRESS_ANNOTATIONS = {
    "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
    "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
}
DATA_DIR = "/data"
REVOCATION_DIR = "/var/run/strata"
FIELD_MANAGER = "strata-controlplane"
# Storage kinds whose database several processes share (one committer, read replicas).
SHARED_DATABASES = ("postgres", "mysql")

Manifest = dict[str, Any]
# A Secret's name is a DNS-1123 subdomain.
_SECRET_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": "strata-dataplane", "strata.dev/deployment": name}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def revocation_configmap(spec: DeploymentSpec, namespace: str, key_ids: Iterable[str]) -> Manifest:
    ids = sorted(set(key_ids))
    body = orjson.dumps({"revoked": ids, "sig": _signature(spec.instance_secret, ids)}).decode()
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"{spec.name}-revoked",
            "namespace": namespace,
            "labels": _labels(spec.name),
        },
        "data": {REVOCATION_FILE: body},
    }


def _env_from(name: str, env_secret: str) -> list[dict[str, Any]]:
    """Operator-wide variables first, so the deployment's own Secret wins on a shared key."""
    if env_secret and (len(env_secret) > 253 or not _SECRET_NAME.match(env_secret)):
        raise DriverError(
            f"STRATA_K8S_DATAPLANE_ENV_SECRET {env_secret!r} is not a valid Secret name "
            "(lowercase letters, digits, '-' and '.', at most 253 characters)"
        )
    shared = [{"secretRef": {"name": env_secret}}] if env_secret else []
    return [*shared, {"secretRef": {"name": f"{name}-secret"}}]


def _resources(limits: ResourceLimits) -> dict[str, Any]:
    """Requests and limits from the deployment's plan: its memory is reserved and capped."""
    resources: dict[str, Any] = {"requests": {"cpu": "100m", "memory": "256Mi"}}
    if limits.memory_mb:
        memory = f"{limits.memory_mb}Mi"
        resources["requests"]["memory"] = memory
        resources["limits"] = {"memory": memory}
    return resources


def render_manifests(
    spec: DeploymentSpec,
    *,
    namespace: str,
    image: str,
    base_domain: str,
    database_url: str = "",
    storage_size: str = "5Gi",
    replicas: int = 1,
    env_secret: str = "",
    network: NetworkLayout | None = None,
    ingress_class: str = "",
) -> list[Manifest]:
    """Every object one deployment needs, in apply order.

    SQLite deployments run one pod on their ReadWriteOnce volume (replaced, never doubled).
    Postgres and MySQL deployments run `replicas` pods without a shared volume: each starts with
    STRATA_DP_ROLE=auto, one wins the committer election in the database and the others serve
    reads and forward writes to it (commits fan out through STRATA_DP_REDIS_URL, which the
    operator puts in `env_secret`); updates roll one pod at a time so one keeps serving.
    `env_secret` names an operator-managed Secret (e.g. S3 credentials, STRATA_DP_* knobs)
    whose keys become environment variables of every data-plane pod.
    """
    name, labels = spec.name, _labels(spec.name)
    meta = {"name": name, "namespace": namespace, "labels": labels}
    shared_db = spec.storage in SHARED_DATABASES  # served by several processes
    if replicas < 1:
        raise DriverError(f"{name}: replicas must be at least 1, got {replicas}")
    replicas = replicas if shared_db else 1
    secret_data = {"STRATA_DP_INSTANCE_SECRET": _b64(spec.instance_secret)}
    if database_url:
        secret_data["STRATA_DP_DATABASE_URL"] = _b64(database_url)
    env: list[dict[str, Any]] = [
        {"name": "STRATA_DP_NAME", "value": name},
        {"name": "STRATA_DP_DATA_DIR", "value": DATA_DIR},
        {"name": "STRATA_DP_PORT", "value": str(CONTAINER_PORT)},
        {"name": "STRATA_DP_PUBLIC_URL", "value": f"https://{name}.{base_domain}"},
        {"name": "STRATA_DP_REVOCATION_DIR", "value": REVOCATION_DIR},
        {"name": "HOME", "value": "/tmp"},
    ]
    if shared_db:
        env += [
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "STRATA_DP_ROLE", "value": "auto"},
            {"name": "STRATA_DP_INTERNAL_URL", "value": f"http://$(POD_IP):{CONTAINER_PORT}"},
        ]
    if spec.usage_report_url:
        env.append({"name": "STRATA_DP_USAGE_URL", "value": spec.usage_report_url})
    scratch_mounts, scratch_volumes = writable_dirs()
    container = {
        "name": "dataplane",
        "image": image,
        "command": [ENTRYPOINT, "dataplane"],
        "ports": [{"containerPort": CONTAINER_PORT, "name": "http"}],
        "env": env,
        "envFrom": _env_from(name, env_secret),
        "resources": _resources(spec.limits),
        "securityContext": PodSecurity.container(),
        # Ready = the database answers and, on a replica, it follows the committer.
        "readinessProbe": {
            "httpGet": {"path": "/readyz", "port": CONTAINER_PORT},
            "periodSeconds": 5,
            "failureThreshold": 2,
        },
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": CONTAINER_PORT},
            "periodSeconds": 10,
            "failureThreshold": 6,
        },
        "startupProbe": {
            "httpGet": {"path": "/healthz", "port": CONTAINER_PORT},
            "periodSeconds": 2,
            "failureThreshold": 90,
        },
        "volumeMounts": [
            {"name": "data", "mountPath": DATA_DIR},
            {"name": "revoked", "mountPath": REVOCATION_DIR, "readOnly": True},
            *scratch_mounts,
        ],
    }
    data_volume: dict[str, Any] = (
        # Vector indexes, exports and uploads in flight: per pod (files belong in S3).
        {"name": "data", "emptyDir": {"sizeLimit": storage_size}}
        if shared_db
        else {"name": "data", "persistentVolumeClaim": {"claimName": f"{name}-data"}}
    )
    pod: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": 30,
        "securityContext": PodSecurity().pod(),
        "containers": [container],
        "volumes": [
            data_volume,
            {"name": "revoked", "configMap": {"name": f"{name}-revoked"}},
            *scratch_volumes,
        ],
    }
    if shared_db:
        pod["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": labels},
            }
        ]
    strategy: dict[str, Any] = (
        {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
        if shared_db
        else {"type": "Recreate"}  # one writer per SQLite file
    )
    manifests: list[Manifest] = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {**meta, "name": f"{name}-secret"},
            "type": "Opaque",
            "data": secret_data,
        },
        revocation_configmap(spec, namespace, []),
    ]
    if not shared_db:
        manifests.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {**meta, "name": f"{name}-data"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": storage_size}},
                },
            }
        )
    manifests += [
        network_policy(name, namespace, labels, network or NetworkLayout()),
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta,
            "spec": {
                "replicas": replicas,
                "strategy": strategy,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": pod},
            },
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": meta,
            "spec": {
                "selector": {"matchLabels": labels},
                # One pod of a replicated deployment stays up through drains; a single SQLite
                # pod cannot, and must not block them.
                **({"minAvailable": 1} if replicas > 1 else {"maxUnavailable": 1}),
                "unhealthyPodEvictionPolicy": "AlwaysAllow",
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta,
            "spec": {
                "selector": labels,
                "ports": [{"name": "http", "port": 80, "targetPort": CONTAINER_PORT}],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {**meta, "annotations": INGRESS_ANNOTATIONS},
            "spec": {
                **({"ingressClassName": ingress_class} if ingress_class else {}),
                "rules": [
                    {
                        "host": f"{name}.{base_domain}",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": name, "port": {"number": 80}}},
                                }
                            ]
                        },
                    }
                ],
            },
        },
    ]
    return manifests


class KubernetesDriver(ProvisioningDriver):
    """Applies rendered manifests; pause scales to zero, destroy deletes everything."""

    def __init__(
        self,
        *,
        namespace: str,
        image: str,
        base_domain: str,
        postgres_admin_url: str = "",
        mysql_admin_url: str = "",
        env_secret: str = "",
        replicas: int = 1,
        network: NetworkLayout | None = None,
        ingress_class: str = "",
    ) -> None:
        self.namespace, self.image, self.base_domain = namespace, image, base_domain
        self.postgres_admin_url = postgres_admin_url
        self.mysql_admin_url = mysql_admin_url
        self.env_secret = env_secret
        self.replicas = replicas  # pods per Postgres/MySQL deployment; SQLite ones run one
        self.network = network or NetworkLayout()
        self.ingress_class = ingress_class
        self._client: Any = None

    def _dynamic(self) -> Any:
        if self._client is None:
            from kubernetes import config, dynamic
            from kubernetes.client import api_client

            try:
                config.load_incluster_config()
            except config.ConfigException:
                config.load_kube_config()
            self._client = dynamic.DynamicClient(api_client.ApiClient())
        return self._client

    def _apply(self, manifest: Manifest) -> None:
        resource = self._dynamic().resources.get(
            api_version=manifest["apiVersion"], kind=manifest["kind"]
        )
        resource.server_side_apply(
            body=manifest,
            namespace=self.namespace,
            field_manager=FIELD_MANAGER,
            force_conflicts=True,
        )

    def _database_url(self, spec: DeploymentSpec) -> str:
        if spec.storage == "mysql":
            if not self.mysql_admin_url:
                raise DriverError(f"{spec.name} wants MySQL storage but no server is configured")
            return mysql_databases.database_url_for(self.mysql_admin_url, spec.name)
        if spec.storage != "postgres":
            return ""
        if not self.postgres_admin_url:
            raise DriverError(f"{spec.name} wants Postgres storage but no server is configured")
        return database_url_for(self.postgres_admin_url, spec.name)

    def replicas_for(self, spec: DeploymentSpec) -> int:
        return self.replicas if spec.storage in SHARED_DATABASES else 1

    def manifests(self, spec: DeploymentSpec, replicas: int | None = None) -> list[Manifest]:
        return render_manifests(
            spec,
            namespace=self.namespace,
            image=self.image,
            base_domain=self.base_domain,
            database_url=self._database_url(spec),
            replicas=self.replicas_for(spec) if replicas is None else replicas,
            env_secret=self.env_secret,
            network=self.network,
            ingress_class=self.ingress_class,
        )

    def provision(self, spec: DeploymentSpec) -> DeploymentState:
        if spec.storage == "postgres":
            create_database(self.postgres_admin_url, spec.name)
        if spec.storage == "mysql":
            mysql_databases.create_database(self.mysql_admin_url, spec.name)
        for manifest in self.manifests(spec):
            self._apply(manifest)
        return self.state(spec.name)

    def start(self, spec: DeploymentSpec, *, wait: float = 0.0) -> DeploymentState:
        """Scale back up; the pods' readiness is Kubernetes' business (`wait` is unused)."""
        self._scale(spec.name, self.replicas_for(spec))
        return self.state(spec.name)

    def stop(self, name: str) -> None:
        self._scale(name, 0)

    def _scale(self, name: str, replicas: int) -> None:
        deployments = self._dynamic().resources.get(api_version="apps/v1", kind="Deployment")
        deployments.patch(
            name=name,
            namespace=self.namespace,
            body={"spec": {"replicas": replicas}},
            content_type="application/merge-patch+json",
        )

    def destroy(self, spec: DeploymentSpec) -> None:
        for manifest in reversed(self.manifests(spec)):
            resource = self._dynamic().resources.get(
                api_version=manifest["apiVersion"], kind=manifest["kind"]
            )
            resource.delete(name=manifest["metadata"]["name"], namespace=self.namespace)
        if spec.storage == "postgres" and self.postgres_admin_url:
            drop_database(self.postgres_admin_url, spec.name)
        if spec.storage == "mysql" and self.mysql_admin_url:
            mysql_databases.drop_database(self.mysql_admin_url, spec.name)

    def state(self, name: str) -> DeploymentState:
        deployments = self._dynamic().resources.get(api_version="apps/v1", kind="Deployment")
        obj = deployments.get(name=name, namespace=self.namespace)
        ready = int((obj.status or {}).get("readyReplicas") or 0)
        return DeploymentState(
            name=name,
            running=ready > 0,
            healthy=ready > 0,
            url=f"https://{name}.{self.base_domain}",
        )

    def publish_revoked_keys(self, spec: DeploymentSpec, key_ids: Iterable[str]) -> None:
        self._apply(revocation_configmap(spec, self.namespace, key_ids))

    def allocate_port(self, used: set[int]) -> int | None:
        return None

    def upstream(self, name: str) -> str | None:
        return f"http://{name}.{self.namespace}.svc.cluster.local"
