"""Provisioning: which driver runs deployments, where their data lives, how they are reached."""

from django.core.exceptions import ImproperlyConfigured

from .env import DATA_DIR, egress_services, env, integer, networks, port_range

STRATA_DRIVER = env.str("STRATA_DRIVER", default="local")  # local | kubernetes
STRATA_DEPLOYMENTS_DIR = env.str("STRATA_DEPLOYMENTS_DIR", default=str(DATA_DIR / "deployments"))
STRATA_DP_HOST = env.str("STRATA_DP_HOST", default="127.0.0.1")
STRATA_DP_PORT_RANGE = port_range("STRATA_DP_PORT_RANGE", (3300, 3999))
# Admin URL of a Postgres server on which "postgres" deployments get their own database.
STRATA_DP_POSTGRES_URL = env.str("STRATA_DP_POSTGRES_URL", default="")
# Admin URL (mysql://user:pass@host:port/db) of a MySQL server on which "mysql" deployments get
# their own database; the user must be allowed to create and drop databases.
STRATA_DP_MYSQL_URL = env.str("STRATA_DP_MYSQL_URL", default="")
# Resident memory of a data plane and its children (the local supervisor restarts one over
# it; Kubernetes gets it as the pod's memory request and limit); 0 = unlimited. The local
# driver has a default; on Kubernetes every pod would reserve it, so there is none.
STRATA_DP_MEMORY_LIMIT_MB = env.int(
    "STRATA_DP_MEMORY_LIMIT_MB", default=2048 if STRATA_DRIVER == "local" else 0
)
STRATA_DP_MAX_OPEN_FILES = env.int("STRATA_DP_MAX_OPEN_FILES", default=4096)
STRATA_DP_STOP_TIMEOUT = env.float("STRATA_DP_STOP_TIMEOUT", default=10.0)
# Deleted deployments keep their data this long before it is purged.
STRATA_DELETE_GRACE_SECONDS = env.int("STRATA_DELETE_GRACE_SECONDS", default=7 * 24 * 3600)
# "port": deployment URLs are http://<host>:<port>; "host": http://<name>.<base domain>[:port].
STRATA_ROUTING = env.str("STRATA_ROUTING", default="port")
STRATA_GATEWAY_PORT = env.int("STRATA_GATEWAY_PORT", default=8000)
# Scale to zero: a deployment with no request, no open socket and no scheduled work due for
# this many seconds is suspended (its processes stop) and woken through the gateway by its next
# request, or when its next scheduled function is due; 0 = never.
STRATA_SUSPEND_AFTER_S = integer("STRATA_SUSPEND_AFTER_S", 0)
# How often idle deployments are looked for (and due ones woken).
STRATA_SUSPEND_CHECK_S = integer("STRATA_SUSPEND_CHECK_S", 5, minimum=1)
# How long the gateway holds a request for a suspended deployment while it starts; past it the
# answer is 503 with Retry-After (the deployment keeps starting).
STRATA_WAKE_TIMEOUT_S = integer("STRATA_WAKE_TIMEOUT_S", 30, minimum=1)
if STRATA_SUSPEND_AFTER_S and STRATA_DRIVER != "local":
    raise ImproperlyConfigured(
        "STRATA_SUSPEND_AFTER_S works with the local driver only: on Kubernetes traffic reaches "
        "deployments through their Ingress, which cannot wake a deployment scaled to zero"
    )
if STRATA_SUSPEND_AFTER_S and STRATA_ROUTING != "host":
    raise ImproperlyConfigured(
        "STRATA_SUSPEND_AFTER_S needs STRATA_ROUTING=host: only the gateway can wake a "
        "suspended deployment, and clients given a port URL would bypass it"
    )
# Where users and data planes reach the control plane (emails, usage reports, hostUrl).
STRATA_CONTROL_PLANE_URL = env.str(
    "STRATA_CONTROL_PLANE_URL", default=f"http://127.0.0.1:{STRATA_GATEWAY_PORT}"
)
STRATA_K8S_NAMESPACE = env.str("STRATA_K8S_NAMESPACE", default="strata")
STRATA_K8S_IMAGE = env.str("STRATA_K8S_IMAGE", default="strata/dataplane:latest")
# A Secret (in STRATA_K8S_NAMESPACE) whose keys every data-plane pod gets as env vars; "" = none.
STRATA_K8S_DATAPLANE_ENV_SECRET = env.str("STRATA_K8S_DATAPLANE_ENV_SECRET", default="")
# Pods per Postgres or MySQL deployment on Kubernetes (one committer, the rest read replicas
# that take over); SQLite deployments always run one pod.
STRATA_K8S_REPLICAS = integer("STRATA_K8S_REPLICAS", 2, minimum=1)
# Each deployment's NetworkPolicy admits its ingress controller's namespace and the control
# plane's gateway, and lets pods reach DNS, the listed in-cluster services
# (namespace/instance:port, matched on app.kubernetes.io/instance), the listed networks and,
# unless turned off, public addresses (never private ranges: the cluster's pods live there).
STRATA_K8S_CONTROLPLANE_NAMESPACE = env.str(
    "STRATA_K8S_CONTROLPLANE_NAMESPACE", default="strata-system"
)
# IngressClass of each deployment's Ingress ("" = the cluster's default class).
STRATA_K8S_INGRESS_CLASS = env.str("STRATA_K8S_INGRESS_CLASS", default="")
STRATA_K8S_INGRESS_NAMESPACE = env.str("STRATA_K8S_INGRESS_NAMESPACE", default="ingress-nginx")
STRATA_K8S_EGRESS_SERVICES = egress_services("STRATA_K8S_EGRESS_SERVICES")
STRATA_K8S_EGRESS_NETWORKS = networks("STRATA_K8S_EGRESS_NETWORKS")
STRATA_K8S_EGRESS_INTERNET = env.bool("STRATA_K8S_EGRESS_INTERNET", default=True)
