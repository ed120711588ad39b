"""Run the whole platform on one host: control plane, gateway and supervised data planes.

Embedded defaults: SQLite, local files, no Redis; Celery tasks run in-process (eager), so the
local driver's supervisor lives in this process and restarts deployments that exit.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from controlplane.backups.loop import start_backup_loop
from controlplane.provisioning.drivers import get_driver
from controlplane.provisioning.gateway import GATEWAY_WEBSOCKET_ARGS
from controlplane.provisioning.reconcile import restart_live_deployments, start_purge_loop
from controlplane.provisioning.suspend import get_suspender


class Command(BaseCommand):
    help = "Run the control plane (API + gateway) and supervise every deployment's process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.STRATA_GATEWAY_PORT)

    def handle(self, *args: Any, **options: Any) -> None:
        from daphne.cli import CommandLineInterface

        _serve_urls_on(options["port"])
        driver = get_driver()
        purge = start_purge_loop() if settings.CELERY_TASK_ALWAYS_EAGER else None
        backups = (
            start_backup_loop(settings.STRATA_BACKUP_CHECK_SECONDS)
            if settings.CELERY_TASK_ALWAYS_EAGER
            else None
        )
        suspender = get_suspender()  # scale to zero, when STRATA_SUSPEND_AFTER_S is set
        if suspender is not None:
            suspender.start()
        threading.Thread(target=restart_live_deployments, name="reconcile", daemon=True).start()
        url = f"http://{options['host']}:{options['port']}"
        self.stdout.write(
            f"Strata control plane: {url}  (API under {url}/v1, schema /v1/openapi.json)"
        )
        self.stdout.write(
            f"Deployments: per port, or http://<name>.{settings.BASE_DOMAIN}:{options['port']}"
        )
        self.stdout.write(
            f"Console: {url}/  (sign up there; the verification email is printed here)"
        )
        self.stdout.flush()
        try:
            bind = ["-b", options["host"], "-p", str(options["port"])]
            CommandLineInterface().run(
                [*bind, *GATEWAY_WEBSOCKET_ARGS, "controlplane.asgi:application"]
            )
        finally:
            if purge is not None:
                purge.set()
            if backups is not None:
                backups.set()
            if suspender is not None:
                suspender.stop()
            driver.shutdown()


def _serve_urls_on(port: int) -> None:
    """`--port` moves every URL the platform hands out (hostUrl, emails, usage reports) to
    the port it really serves, unless STRATA_CONTROL_PLANE_URL names another place."""
    derived = f"http://127.0.0.1:{settings.STRATA_GATEWAY_PORT}"
    if settings.STRATA_CONTROL_PLANE_URL.rstrip("/") == derived:
        settings.STRATA_CONTROL_PLANE_URL = f"http://127.0.0.1:{port}"
    settings.STRATA_GATEWAY_PORT = port
