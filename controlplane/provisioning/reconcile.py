"""Bring supervised deployments back after a control-plane restart."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


def restart_live_deployments() -> list[str]:
    """Provision (idempotently) every deployment the database says should be running."""
    from controlplane.deployments.actions import spec_for
    from controlplane.deployments.models import Deployment, Status
    from controlplane.deployments.tasks import provision_deployment
    from controlplane.provisioning.drivers import DriverError, get_driver

    driver = get_driver()
    started = []
    for deployment in Deployment.objects.filter(status__in=[Status.RUNNING, Status.PROVISIONING]):
        if deployment.status == Status.PROVISIONING:
            provision_deployment(deployment.pk)
        else:
            try:
                driver.provision(spec_for(deployment))
            except DriverError as exc:
                log.error("could not restart %s: %s", deployment.name, exc)
                continue
        started.append(deployment.name)
    return started


def start_purge_loop(interval: float = 300.0) -> threading.Event:
    """Purge deleted deployments past their grace period every `interval` s (no Celery beat)."""
    from controlplane.deployments.actions import purge_due

    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            try:
                purge_due()
            except Exception:
                log.exception("purging deleted deployments failed")

    threading.Thread(target=loop, name="purge-deleted", daemon=True).start()
    return stop
