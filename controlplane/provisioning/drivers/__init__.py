"""Provisioning drivers behind one interface; `get_driver()` returns the configured one."""

from __future__ import annotations

import threading

from .base import DriverError, ProvisioningDriver

__all__ = ["DriverError", "ProvisioningDriver", "get_driver", "set_driver"]

_lock = threading.Lock()
_driver: ProvisioningDriver | None = None


def _build() -> ProvisioningDriver:
    from pathlib import Path

    from django.conf import settings

    kind = settings.STRATA_DRIVER
    if kind == "local":
        from .local import LocalDriver

        return LocalDriver(
            Path(settings.STRATA_DEPLOYMENTS_DIR),
            host=settings.STRATA_DP_HOST,
            postgres_admin_url=settings.STRATA_DP_POSTGRES_URL,
            mysql_admin_url=settings.STRATA_DP_MYSQL_URL,
            stop_timeout=settings.STRATA_DP_STOP_TIMEOUT,
            port_range=tuple(settings.STRATA_DP_PORT_RANGE),
        )
    if kind == "kubernetes":
        from .k8s_objects import EgressService, NetworkLayout
        from .kubernetes import KubernetesDriver

        network = NetworkLayout(
            controlplane_namespace=settings.STRATA_K8S_CONTROLPLANE_NAMESPACE,
            ingress_namespace=settings.STRATA_K8S_INGRESS_NAMESPACE,
            services=tuple(EgressService.parse(s) for s in settings.STRATA_K8S_EGRESS_SERVICES),
            networks=tuple(settings.STRATA_K8S_EGRESS_NETWORKS),
            public_internet=settings.STRATA_K8S_EGRESS_INTERNET,
        )
        return KubernetesDriver(
            namespace=settings.STRATA_K8S_NAMESPACE,
            image=settings.STRATA_K8S_IMAGE,
            base_domain=settings.BASE_DOMAIN,
            postgres_admin_url=settings.STRATA_DP_POSTGRES_URL,
            mysql_admin_url=settings.STRATA_DP_MYSQL_URL,
            env_secret=settings.STRATA_K8S_DATAPLANE_ENV_SECRET,
            replicas=settings.STRATA_K8S_REPLICAS,
            network=network,
            ingress_class=settings.STRATA_K8S_INGRESS_CLASS,
        )
    raise DriverError(f"Unknown STRATA_DRIVER {kind!r}: expected 'local' or 'kubernetes'")


def get_driver() -> ProvisioningDriver:
    """The process-wide driver chosen by settings.STRATA_DRIVER, built on first use."""
    global _driver
    with _lock:
        if _driver is None:
            _driver = _build()
        return _driver


def set_driver(driver: ProvisioningDriver | None) -> ProvisioningDriver | None:
    """Install a driver explicitly (runplatform, tests); returns the previous one."""
    global _driver
    with _lock:
        previous, _driver = _driver, driver
        return previous
