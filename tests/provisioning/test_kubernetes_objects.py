"""Every object the kubernetes driver and the Terraform module render, validated against the
Kubernetes schemas (kubernetes-validate, strict, the three newest versions it ships), and the
tenant fences checked on them: no ReadWriteOnce volume shared by replicas, a NetworkPolicy that
keeps the control plane and other tenants out of reach, no service-account token, restricted
pod security."""

from __future__ import annotations

import copy
import ipaddress
from dataclasses import dataclass, field
from typing import Any

import pytest
from kubernetes_validate import utils as kv
from packaging.version import Version

from contract.spec import DeploymentSpec, ResourceLimits
from controlplane.provisioning.drivers.k8s_objects import (
    DRIVER_RULES,
    TEMPLATE_PATH,
    TEMPLATE_VARS,
    EgressService,
    NetworkLayout,
    platform_template,
    render_template,
)
from controlplane.provisioning.drivers.kubernetes import KubernetesDriver, render_manifests

Manifest = dict[str, Any]
VERSIONS = sorted({kv.major_minor(v) for v in kv.all_versions()}, key=Version)[-3:]
NAMESPACE = "strata"
LAYOUT = NetworkLayout(
    controlplane_namespace="strata-system",
    ingress_namespace="ingress-nginx",
    services=(
        EgressService("strata-data", "deployments-postgres", 5432),
        EgressService("strata-data", "deployments-redis", 6379),
        EgressService("strata-data", "minio", 9000),
    ),
)
MODULE_VALUES: dict[str, Any] = {
    "namespace": "strata-system",
    "deployments_namespace": NAMESPACE,
    "image": "registry.example.com/strata:1.0",
    "base_domain": "strata.example.com",
    "ingress_class": "nginx",
    "web_replicas": 2,
    "worker_replicas": 1,
    "ingress_tls": [{"hosts": ["strata.example.com"], "secretName": "strata-tls"}],
}


def deployment_spec(storage: str) -> DeploymentSpec:
    return DeploymentSpec(
        name=f"calm-{storage}-7",
        instance_secret="s" * 43,
        port=3210,
        storage=storage,  # type: ignore[arg-type]
        limits=ResourceLimits(memory_mb=768),
        usage_report_url="https://strata.example.com/v1/usage/report",
    )


def driver_objects(storage: str, replicas: int) -> list[Manifest]:
    return render_manifests(
        deployment_spec(storage),
        namespace=NAMESPACE,
        image="registry.example.com/strata:1.0",
        base_domain="strata.example.com",
        database_url={
            "postgres": "postgresql://u:p@deployments-postgres.strata-data/x",
            "mysql": "mysql://u:p@deployments-mysql.strata-data/x",
        }.get(storage, ""),
        replicas=replicas,
        env_secret="strata-dataplane-env",
        network=LAYOUT,
        ingress_class="nginx",
    )


CASES = {
    "sqlite": driver_objects("sqlite", 1),
    "postgres": driver_objects("postgres", 1),
    "postgres-replicas3": driver_objects("postgres", 3),
    "mysql-replicas3": driver_objects("mysql", 3),
    "module": render_template(TEMPLATE_PATH.read_text(), MODULE_VALUES),
}


def of_kind(objects: list[Manifest], kind: str) -> list[Manifest]:
    return [o for o in objects if o["kind"] == kind]


def one(objects: list[Manifest], kind: str) -> Manifest:
    (obj,) = of_kind(objects, kind)
    return obj


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", list(CASES))
def test_every_object_passes_strict_schema_validation(case: str, version: str) -> None:
    assert len(VERSIONS) == 3 and Version(VERSIONS[0]) >= Version("1.33")
    for obj in CASES[case]:
        try:
            kv.validate(obj, version, strict=True)
        except kv.ValidationError as exc:  # pragma: no cover - the message is the point
            raise AssertionError(f"{obj['kind']} {obj['metadata']['name']}: {exc}") from exc


def test_the_validator_rejects_what_kubernetes_would() -> None:
    deployment = copy.deepcopy(one(CASES["postgres"], "Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContex"] = {}
    with pytest.raises(kv.ValidationError):
        kv.validate(deployment, VERSIONS[-1], strict=True)
    policy = copy.deepcopy(one(CASES["postgres"], "NetworkPolicy"))
    policy["spec"]["egress"][0]["ports"][0]["port"] = {"number": 53}
    with pytest.raises(kv.ValidationError):
        kv.validate(policy, VERSIONS[-1], strict=True)


# ----- volumes, replicas, rollout ---------------------------------------------------------


def test_sqlite_stays_one_pod_on_its_own_volume() -> None:
    objects = driver_objects("sqlite", 3)  # asking for more does not double the writer
    deployment = one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    pvc = one(objects, "PersistentVolumeClaim")
    assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
    claims = [
        v["persistentVolumeClaim"]["claimName"]
        for v in deployment["spec"]["template"]["spec"]["volumes"]
        if "persistentVolumeClaim" in v
    ]
    assert claims == [pvc["metadata"]["name"]]
    env = {e["name"]: e.get("value") for e in _container(deployment)["env"]}
    assert "STRATA_DP_ROLE" not in env  # the default: committer, or refuse to start
    pdb = one(objects, "PodDisruptionBudget")
    assert pdb["spec"] == {
        "selector": deployment["spec"]["selector"],
        "maxUnavailable": 1,  # a single pod cannot survive a drain; it must not block one
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }


@pytest.mark.parametrize("case", list(CASES))
def test_no_read_write_once_volume_is_shared_by_replicas(case: str) -> None:
    objects = CASES[case]
    rwo = {
        p["metadata"]["name"]
        for p in of_kind(objects, "PersistentVolumeClaim")
        if "ReadWriteOnce" in p["spec"]["accessModes"]
    }
    for deployment in of_kind(objects, "Deployment"):
        volumes = deployment["spec"]["template"]["spec"].get("volumes", [])
        claims = {
            v["persistentVolumeClaim"]["claimName"] for v in volumes if "persistentVolumeClaim" in v
        }
        if deployment["spec"]["replicas"] != 1:
            assert not claims & rwo, deployment["metadata"]["name"]
            assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"


def test_postgres_replicas_elect_a_committer_and_roll_one_at_a_time() -> None:
    objects = CASES["postgres-replicas3"]
    deployment = one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    assert not of_kind(objects, "PersistentVolumeClaim")
    pod = deployment["spec"]["template"]["spec"]
    assert {"name": "data", "emptyDir": {"sizeLimit": "5Gi"}} in pod["volumes"]
    env = {e["name"]: e for e in _container(deployment)["env"]}
    assert env["STRATA_DP_ROLE"]["value"] == "auto"
    assert env["POD_IP"]["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    assert env["STRATA_DP_INTERNAL_URL"]["value"] == "http://$(POD_IP):3210"
    # $(POD_IP) only expands when POD_IP is defined earlier in the list.
    names = [e["name"] for e in _container(deployment)["env"]]
    assert names.index("POD_IP") < names.index("STRATA_DP_INTERNAL_URL")
    assert one(objects, "PodDisruptionBudget")["spec"]["minAvailable"] == 1
    assert pod["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"


def test_mysql_replicas_elect_a_committer_like_postgres_ones() -> None:
    objects = CASES["mysql-replicas3"]
    deployment = one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    assert not of_kind(objects, "PersistentVolumeClaim")
    env = {e["name"]: e for e in _container(deployment)["env"]}
    assert env["STRATA_DP_ROLE"]["value"] == "auto"
    secret = one(objects, "Secret")
    assert "STRATA_DP_DATABASE_URL" in secret["data"]


def test_resources_come_from_the_plan() -> None:
    container = _container(one(CASES["postgres"], "Deployment"))
    assert container["resources"] == {
        "requests": {"cpu": "100m", "memory": "768Mi"},
        "limits": {"memory": "768Mi"},
    }
    unlimited = render_manifests(
        DeploymentSpec(name="free-1", instance_secret="s", port=3210),
        namespace=NAMESPACE,
        image="img",
        base_domain="example.com",
    )
    assert "limits" not in _container(one(unlimited, "Deployment"))["resources"]


def test_deployment_ingress_uses_the_class_and_keeps_websockets_open() -> None:
    ingress = one(CASES["postgres"], "Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "3600"
    default = render_manifests(
        deployment_spec("sqlite"), namespace=NAMESPACE, image="img", base_domain="example.com"
    )
    assert "ingressClassName" not in one(default, "Ingress")["spec"]


def test_driver_scales_postgres_deployments_to_its_setting() -> None:
    driver = KubernetesDriver(
        namespace=NAMESPACE,
        image="img",
        base_domain="example.com",
        postgres_admin_url="postgresql://admin@pg/postgres",
        replicas=3,
        network=LAYOUT,
    )
    pg = driver.manifests(deployment_spec("postgres"))
    assert one(pg, "Deployment")["spec"]["replicas"] == 3
    sqlite = driver.manifests(deployment_spec("sqlite"))
    assert one(sqlite, "Deployment")["spec"]["replicas"] == 1


# ----- pod security -----------------------------------------------------------------------


def _container(deployment: Manifest) -> dict[str, Any]:
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def _pods(case: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (d["metadata"]["name"], d["spec"]["template"]["spec"])
        for d in of_kind(CASES[case], "Deployment")
    ]


@pytest.mark.parametrize("case", list(CASES))
def test_pods_run_under_the_restricted_profile(case: str) -> None:
    for name, pod in _pods(case):
        sc = pod["securityContext"]
        assert sc["runAsNonRoot"] is True and sc["runAsUser"] != 0, name
        assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert not pod.get("hostNetwork") and not pod.get("hostPID"), name
        mounts_needed = {"/tmp"}
        for container in [*pod["containers"], *pod.get("initContainers", [])]:
            csc = container["securityContext"]
            assert csc["allowPrivilegeEscalation"] is False, name
            assert csc["capabilities"] == {"drop": ["ALL"]}, name
            assert csc["readOnlyRootFilesystem"] is True, name
            mounted = {m["mountPath"] for m in container["volumeMounts"]}
            assert mounts_needed <= mounted, name
        empty_dirs = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
        assert "tmp" in empty_dirs, name


@pytest.mark.parametrize("case", ["sqlite", "postgres", "postgres-replicas3"])
def test_data_plane_pods_get_no_service_account_token(case: str) -> None:
    for name, pod in _pods(case):
        assert pod["automountServiceAccountToken"] is False, name
        assert "serviceAccountName" not in pod, name
        assert pod["enableServiceLinks"] is False, name


def test_only_the_driver_runners_get_a_token() -> None:
    tokens = {name: pod["automountServiceAccountToken"] for name, pod in _pods("module")}
    assert tokens == {"strata-web": True, "strata-worker": True, "strata-beat": False}


def test_namespaces_enforce_the_restricted_pod_security_standard() -> None:
    for ns in of_kind(CASES["module"], "Namespace"):
        labels = ns["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        assert labels["pod-security.kubernetes.io/enforce-version"] == "latest"
    names = {ns["metadata"]["name"] for ns in of_kind(CASES["module"], "Namespace")}
    assert names == {"strata-system", NAMESPACE}


# ----- network policy ---------------------------------------------------------------------


@dataclass
class Peer:
    """A pod (namespace + labels + address) or an outside address, on one port."""

    ip: str
    port: int
    protocol: str = "TCP"
    namespace: str | None = None
    labels: dict[str, str] = field(default_factory=dict)


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        value = labels.get(expr["key"])
        if expr["operator"] == "In" and value not in expr["values"]:
            return False
        if expr["operator"] == "NotIn" and value in expr["values"]:
            return False
        if expr["operator"] == "Exists" and value is None:
            return False
    return True


def _peer_matches(rule_peer: dict[str, Any], peer: Peer, own_namespace: str) -> bool:
    if "ipBlock" in rule_peer:
        block = rule_peer["ipBlock"]
        addr = ipaddress.ip_address(peer.ip)
        nets = [ipaddress.ip_network(c) for c in block.get("except", [])]
        cidr = ipaddress.ip_network(block["cidr"])
        return addr.version == cidr.version and addr in cidr and not any(addr in n for n in nets)
    if peer.namespace is None:
        return False  # selectors only ever match pods
    ns_labels = {"kubernetes.io/metadata.name": peer.namespace}
    if "namespaceSelector" in rule_peer:
        if not _selects(rule_peer["namespaceSelector"], ns_labels):
            return False
    elif peer.namespace != own_namespace:
        return False
    return "podSelector" not in rule_peer or _selects(rule_peer["podSelector"], peer.labels)


def _allows(policy: Manifest, direction: str, peer: Peer) -> bool:
    """NetworkPolicy semantics for one policy: some rule admits the peer on its port."""
    key = "to" if direction == "egress" else "from"
    for rule in policy["spec"].get(direction, []):
        ports = rule.get("ports")
        if ports and not any(
            p.get("port") == peer.port and p.get("protocol", "TCP") == peer.protocol for p in ports
        ):
            continue
        peers = rule.get(key)
        if not peers or any(_peer_matches(p, peer, policy["metadata"]["namespace"]) for p in peers):
            return True
    return False


CONTROL_PLANE_WEB = Peer(
    "10.42.0.10", 8000, namespace="strata-system", labels={"app.kubernetes.io/name": "strata-web"}
)
CONTROL_PLANE_DB = Peer(
    "10.42.0.11",
    5432,
    namespace="strata-data",
    labels={"app.kubernetes.io/name": "postgres", "app.kubernetes.io/instance": "postgres"},
)
OWN_DB = Peer(
    "10.42.0.12",
    5432,
    namespace="strata-data",
    labels={
        "app.kubernetes.io/name": "postgres",
        "app.kubernetes.io/instance": "deployments-postgres",
    },
)
OTHER_TENANT = Peer(
    "10.42.1.5",
    3210,
    namespace=NAMESPACE,
    labels={"app.kubernetes.io/name": "strata-dataplane", "strata.dev/deployment": "other-9"},
)


@pytest.mark.parametrize("case", ["sqlite", "postgres", "postgres-replicas3"])
def test_network_policy_fences_the_deployment(case: str) -> None:
    objects = CASES[case]
    policy = one(objects, "NetworkPolicy")
    deployment = one(objects, "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert _selects(policy["spec"]["podSelector"], pod_labels)
    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    sibling = Peer("10.42.2.7", 3210, namespace=NAMESPACE, labels=pod_labels)

    # Egress: never the control plane, its database, other tenants or cloud metadata.
    for denied in (
        CONTROL_PLANE_WEB,
        CONTROL_PLANE_DB,
        OTHER_TENANT,
        Peer("169.254.169.254", 80),
        Peer("10.0.0.1", 443),  # the API server's service address
        Peer("192.168.1.20", 5432),
        Peer("fd00::5", 443),
        Peer("10.42.3.3", 10254, namespace="ingress-nginx"),  # the controller's own API
    ):
        assert not _allows(policy, "egress", denied), denied
    for allowed in (
        OWN_DB,
        Peer(
            "10.42.0.13",
            6379,
            namespace="strata-data",
            labels={"app.kubernetes.io/instance": "deployments-redis"},
        ),
        Peer("10.96.0.10", 53, "UDP", namespace="kube-system", labels={"k8s-app": "kube-dns"}),
        Peer("93.184.216.34", 443),  # fetch() from actions
        Peer("2606:2800:220:1::1", 443),
        sibling,  # a replica forwards writes to the committer
        # Usage reports to the control plane's public URL, through the ingress controller.
        Peer("10.42.3.3", 443, namespace="ingress-nginx"),
    ):
        assert _allows(policy, "egress", allowed), allowed

    # Ingress: the ingress controller, the gateway and the deployment's own pods.
    ingress = Peer("10.42.3.3", 3210, namespace="ingress-nginx")
    gateway = Peer("10.42.0.10", 3210, namespace="strata-system", labels=CONTROL_PLANE_WEB.labels)
    for allowed in (ingress, gateway, sibling):
        assert _allows(policy, "ingress", allowed), allowed
    other_tenant = Peer("10.42.1.5", 3210, namespace=NAMESPACE, labels=OTHER_TENANT.labels)
    for denied in (
        other_tenant,
        Peer("10.42.0.11", 3210, namespace="strata-data", labels=CONTROL_PLANE_DB.labels),
        Peer("93.184.216.34", 3210),
    ):
        assert not _allows(policy, "ingress", denied), denied


def test_public_internet_can_be_turned_off() -> None:
    closed = render_manifests(
        deployment_spec("postgres"),
        namespace=NAMESPACE,
        image="img",
        base_domain="example.com",
        database_url="postgresql://x/y",
        network=NetworkLayout(public_internet=False, networks=("10.20.0.5/32",)),
    )
    policy = one(closed, "NetworkPolicy")
    assert not _allows(policy, "egress", Peer("93.184.216.34", 443))
    assert _allows(policy, "egress", Peer("10.20.0.5", 5432))  # e.g. a managed database


def test_egress_services_parse_and_reject_garbage() -> None:
    assert EgressService.parse(" strata-data/deployments-postgres:5432 ") == EgressService(
        "strata-data", "deployments-postgres", 5432
    )
    for bad in ("strata-data/pg", "Strata/pg:5432", "ns/pg:0", "ns/pg:70000", "pg:5432"):
        with pytest.raises(ValueError):
            EgressService.parse(bad)


# ----- one source for the driver and the module -------------------------------------------


def test_module_template_is_generated_from_the_renderer() -> None:
    assert TEMPLATE_PATH.read_text() == platform_template(), (
        "run: .venv/bin/python -m controlplane.provisioning.drivers.k8s_objects"
    )
    module_main = (TEMPLATE_PATH.parent / "main.tf").read_text()
    assert 'templatefile("${path.module}/platform.json.tftpl"' in module_main
    for var in TEMPLATE_VARS:
        assert f"{var} " in module_main or f"{var}=" in module_main, var


PLURAL = {
    "Secret": ("", "secrets"),
    "ConfigMap": ("", "configmaps"),
    "PersistentVolumeClaim": ("", "persistentvolumeclaims"),
    "NetworkPolicy": ("networking.k8s.io", "networkpolicies"),
    "Deployment": ("apps", "deployments"),
    "PodDisruptionBudget": ("policy", "poddisruptionbudgets"),
    "Service": ("", "services"),
    "Ingress": ("networking.k8s.io", "ingresses"),
}


def test_the_module_role_lets_the_driver_manage_everything_it_renders() -> None:
    role = next(o for o in CASES["module"] if o["kind"] == "Role")
    assert role["rules"] == DRIVER_RULES
    assert role["metadata"]["namespace"] == NAMESPACE
    kinds = {o["kind"] for case in ("sqlite", "postgres-replicas3") for o in CASES[case]}
    for kind in kinds:
        group, plural = PLURAL[kind]
        assert any(
            group in r["apiGroups"]
            and plural in r["resources"]
            and {"create", "patch", "delete", "get"} <= set(r["verbs"])
            for r in DRIVER_RULES
        ), kind
