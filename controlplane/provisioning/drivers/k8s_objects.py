"""Kubernetes objects shared by the `kubernetes` driver and the Terraform module `strata`.

One source for both: the driver renders each deployment's objects with `deployment_objects`
(see kubernetes.py), and `platform_objects` renders the platform's own (namespaces labelled for
Pod Security admission, the control plane's workloads and the Role the driver needs). The
module consumes the latter as `infra/terraform/modules/strata/platform.json.tftpl`, written by
`python -m controlplane.provisioning.drivers.k8s_objects` from `platform_template()`; a test
keeps the committed file equal to it.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Manifest = dict[str, Any]

RUN_AS = 10001  # the image's `strata` user and group (infra/image/install.sh)
ENTRYPOINT = "/usr/local/bin/strata"
DATAPLANE_PORT = 3210
WEB_PORT = 8000
# Private, link-local and shared address space: pod and service networks, node addresses and
# cloud metadata endpoints live here, so "the public internet" for actions excludes them.
PRIVATE_V4 = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10")
PRIVATE_V6 = ("fc00::/7", "fe80::/10")
NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"
NAMESPACE_LABEL = "kubernetes.io/metadata.name"
GATEWAY_COMPONENTS = ("strata-web", "strata-worker")

TEMPLATE_PATH = (
    Path(__file__).resolve().parents[3]
    / "infra"
    / "terraform"
    / "modules"
    / "strata"
    / "platform.json.tftpl"
)

_SERVICE = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?)/([a-z0-9]([-a-z0-9.]*[a-z0-9])?):(\d+)$")


@dataclass(frozen=True)
class EgressService:
    """An in-cluster service data-plane pods may reach: pods labelled
    app.kubernetes.io/instance=<instance> in <namespace>, on <port>."""

    namespace: str
    instance: str
    port: int

    @classmethod
    def parse(cls, text: str) -> EgressService:
        """`namespace/instance:port`, e.g. `strata-data/deployments-postgres:5432`."""
        m = _SERVICE.match(text.strip())
        if not m or not 1 <= int(m.group(5)) <= 65535:
            raise ValueError(
                f"{text.strip()!r} is not namespace/instance:port "
                "(e.g. strata-data/deployments-postgres:5432)"
            )
        return cls(m.group(1), m.group(3), int(m.group(5)))


@dataclass(frozen=True)
class NetworkLayout:
    """Where the platform's pieces live, for each deployment's NetworkPolicy."""

    controlplane_namespace: str = "strata-system"
    ingress_namespace: str = "ingress-nginx"
    services: tuple[EgressService, ...] = ()  # its database server, Redis, an in-cluster S3
    networks: tuple[str, ...] = ()  # CIDRs of out-of-cluster services in private ranges
    public_internet: bool = True  # fetch() from actions
    dns_namespace: str = "kube-system"


@dataclass(frozen=True)
class PodSecurity:
    """The restricted Pod Security profile every Strata pod runs under."""

    run_as: int = RUN_AS
    extra: dict[str, Any] = field(default_factory=dict)

    def pod(self) -> dict[str, Any]:
        return {
            "runAsNonRoot": True,
            "runAsUser": self.run_as,
            "runAsGroup": self.run_as,
            "fsGroup": self.run_as,
            "seccompProfile": {"type": "RuntimeDefault"},
            **self.extra,
        }

    @staticmethod
    def container() -> dict[str, Any]:
        return {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        }


def pod_security_labels(level: str) -> dict[str, str]:
    """Namespace labels that make Pod Security admission enforce `level`."""
    labels = {}
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = level
        labels[f"pod-security.kubernetes.io/{mode}-version"] = "latest"
    return labels


def writable_dirs() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(volumeMounts, volumes) of the scratch space a read-only root filesystem needs."""
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]
    volumes = [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}]
    return mounts, volumes


def _ns(name: str) -> dict[str, Any]:
    return {"matchLabels": {NAMESPACE_LABEL: name}}


def network_policy(
    name: str, namespace: str, labels: dict[str, str], layout: NetworkLayout
) -> Manifest:
    """Ingress only from the ingress controller, the control plane's gateway and the
    deployment's own pods; egress only to DNS, the deployment's own pods, the ingress controller
    (the public front door), the listed services and networks and (optionally) public
    addresses: never the control plane's pods or database, nor other tenants' pods."""
    own = {"podSelector": {"matchLabels": labels}}
    http = [{"protocol": "TCP", "port": DATAPLANE_PORT}]
    gateway = {
        "namespaceSelector": _ns(layout.controlplane_namespace),
        "podSelector": {
            "matchExpressions": [
                {"key": NAME_LABEL, "operator": "In", "values": list(GATEWAY_COMPONENTS)}
            ]
        },
    }
    egress: list[dict[str, Any]] = [
        {
            "to": [{"namespaceSelector": _ns(layout.dns_namespace)}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        },
        {"to": [own], "ports": http},  # a replica forwards writes to its committer
        # The platform's public front door, as seen from inside: usage reports go to the
        # control plane's public URL and HTTP actions may call public deployment URLs, which
        # kube-proxy may route straight to the ingress controller's pods.
        {
            "to": [{"namespaceSelector": _ns(layout.ingress_namespace)}],
            "ports": [{"protocol": "TCP", "port": 80}, {"protocol": "TCP", "port": 443}],
        },
    ]
    for svc in layout.services:
        egress.append(
            {
                "to": [
                    {
                        "namespaceSelector": _ns(svc.namespace),
                        "podSelector": {"matchLabels": {INSTANCE_LABEL: svc.instance}},
                    }
                ],
                "ports": [{"protocol": "TCP", "port": svc.port}],
            }
        )
    if layout.networks:
        egress.append({"to": [{"ipBlock": {"cidr": cidr}} for cidr in layout.networks]})
    if layout.public_internet:
        egress.append(
            {
                "to": [
                    {"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_V4)}},
                    {"ipBlock": {"cidr": "::/0", "except": list(PRIVATE_V6)}},
                ]
            }
        )
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "podSelector": {"matchLabels": labels},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {
                    "from": [{"namespaceSelector": _ns(layout.ingress_namespace)}, gateway, own],
                    "ports": http,
                }
            ],
            "egress": egress,
        },
    }


# ----- the platform (what the Terraform module `strata` creates) --------------------------


@dataclass(frozen=True)
class PlatformParams:
    """The module's inputs that shape objects; strings are placed verbatim."""

    namespace: str
    deployments_namespace: str
    image: str
    base_domain: str
    ingress_class: str
    web_replicas: Any  # int, or a Terraform placeholder when rendering the template
    worker_replicas: Any
    ingress_tls: Any  # list of {hosts, secretName}
    env_secret: str = "strata-controlplane-env"
    service_account: str = "strata-controlplane"


DRIVER_RULES: list[dict[str, Any]] = [
    {
        "apiGroups": [""],
        "resources": ["secrets", "configmaps", "services", "persistentvolumeclaims"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]},
    {
        "apiGroups": ["apps"],
        "resources": ["deployments", "deployments/scale"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {
        "apiGroups": ["networking.k8s.io"],
        "resources": ["ingresses", "networkpolicies"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {
        "apiGroups": ["policy"],
        "resources": ["poddisruptionbudgets"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
]

PLATFORM_LABELS = {
    "app.kubernetes.io/part-of": "strata",
    "app.kubernetes.io/managed-by": "terraform",
}


def _component(p: PlatformParams, key: str, replicas: Any, args: list[str]) -> Manifest:
    labels = {**PLATFORM_LABELS, NAME_LABEL: f"strata-{key}"}
    mounts, volumes = writable_dirs()
    container: dict[str, Any] = {
        "name": key,
        "image": p.image,
        "command": [ENTRYPOINT, *args],
        "envFrom": [{"secretRef": {"name": p.env_secret}}],
        "env": [{"name": "HOME", "value": "/tmp"}],
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
        "securityContext": PodSecurity.container(),
        "volumeMounts": mounts,
    }
    init: list[dict[str, Any]] = []
    if key == "web":
        container["ports"] = [{"containerPort": WEB_PORT, "name": "http"}]
        container["readinessProbe"] = {
            "httpGet": {
                "path": "/healthz",
                "port": WEB_PORT,
                "httpHeaders": [{"name": "Host", "value": p.base_domain}],
            },
            "periodSeconds": 5,
        }
        init = [
            {
                **{k: v for k, v in container.items() if k not in ("ports", "readinessProbe")},
                "name": "migrate",
                "command": [ENTRYPOINT, "migrate"],
            }
        ]
    spec: dict[str, Any] = {
        "serviceAccountName": p.service_account,
        "automountServiceAccountToken": key != "beat",  # web and worker run the driver
        "securityContext": PodSecurity().pod(),
        "containers": [container],
        "volumes": volumes,
    }
    if init:
        spec["initContainers"] = init
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"strata-{key}", "namespace": p.namespace, "labels": labels},
        "spec": {
            "replicas": replicas,
            # Exactly one beat, or periodic tasks run twice.
            "strategy": {"type": "Recreate"} if key == "beat" else {"type": "RollingUpdate"},
            "selector": {"matchLabels": {NAME_LABEL: f"strata-{key}"}},
            "template": {
                # The module adds a strata.dev/config-hash annotation (pods roll on new settings).
                "metadata": {"labels": labels},
                "spec": spec,
            },
        },
    }


def platform_objects(p: PlatformParams) -> list[Manifest]:
    """The control plane's objects, in apply order (its Secrets are created by the module)."""
    meta = {"namespace": p.namespace, "labels": PLATFORM_LABELS}
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": p.namespace,
                "labels": {**PLATFORM_LABELS, **pod_security_labels("restricted")},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": p.deployments_namespace,
                "labels": {**PLATFORM_LABELS, **pod_security_labels("restricted")},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": p.service_account, **meta},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {
                "name": "strata-driver",
                "namespace": p.deployments_namespace,
                "labels": PLATFORM_LABELS,
            },
            "rules": DRIVER_RULES,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {
                "name": "strata-driver",
                "namespace": p.deployments_namespace,
                "labels": PLATFORM_LABELS,
            },
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "strata-driver",
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": p.service_account, "namespace": p.namespace}
            ],
        },
        _component(p, "web", p.web_replicas, ["web"]),
        _component(p, "worker", p.worker_replicas, ["worker"]),
        _component(p, "beat", 1, ["beat"]),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "strata-web", **meta},
            "spec": {
                "selector": {NAME_LABEL: "strata-web"},
                "ports": [{"name": "http", "port": 80, "targetPort": WEB_PORT}],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {
                "name": "strata-web",
                **meta,
                "annotations": {
                    # Sync clients hold WebSockets open; don't cut them at the default 60 s.
                    "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
                    "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
                },
            },
            "spec": {
                "ingressClassName": p.ingress_class,
                "tls": p.ingress_tls,
                "rules": [
                    {
                        "host": p.base_domain,
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {
                                        "service": {"name": "strata-web", "port": {"number": 80}}
                                    },
                                }
                            ]
                        },
                    }
                ],
            },
        },
    ]


# ----- the Terraform template -------------------------------------------------------------

TEMPLATE_VARS = (
    "namespace",
    "deployments_namespace",
    "image",
    "base_domain",
    "ingress_class",
    "web_replicas",
    "worker_replicas",
    "ingress_tls",
)
_PLACEHOLDER = "@@tf:{}@@"


def platform_template() -> str:
    """`platform_objects` as a Terraform template: each module input is `${jsonencode(x)}`,
    so strings, numbers and lists keep their JSON types after `templatefile`."""
    params = PlatformParams(**{v: _PLACEHOLDER.format(v) for v in TEMPLATE_VARS})
    text = json.dumps(platform_objects(params), indent=2) + "\n"
    for var in TEMPLATE_VARS:
        text = text.replace(json.dumps(_PLACEHOLDER.format(var)), f"${{jsonencode({var})}}")
    if "@@tf:" in text:
        raise ValueError("a template variable is embedded in a longer string")
    return text


def render_template(text: str, values: dict[str, Any]) -> list[Manifest]:
    """What Terraform's `jsondecode(templatefile(...))` makes of the template (tests)."""

    def sub(m: re.Match[str]) -> str:
        return json.dumps(values[m.group(1)])

    objects: list[Manifest] = json.loads(re.sub(r"\$\{jsonencode\((\w+)\)\}", sub, text))
    return objects


def main(argv: list[str]) -> int:
    """Write (or with --check, compare) the module's template."""
    text = platform_template()
    if argv[1:] == ["--check"]:
        if TEMPLATE_PATH.read_text() != text:
            print(f"{TEMPLATE_PATH} is stale: run python -m {__spec__.name}", file=sys.stderr)
            return 1
        return 0
    TEMPLATE_PATH.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
