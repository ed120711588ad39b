"""Serve one standalone deployment: prints its URL and admin key, then runs its server."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from controlplane.provisioning.local_instance import LocalInstance

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,62}$")


class Command(BaseCommand):
    help = "Run a single self-hosted deployment (no control plane needed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default="local-deployment")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=3210)
        parser.add_argument("--data-dir", default="")
        parser.add_argument(
            "--database-url",
            default="",
            help="postgresql://... or mysql://user:pass@host:port/db (SQLite if empty)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"]
        if not NAME_RE.match(name):
            raise CommandError("--name must be lowercase letters, digits and dashes (2-63 chars)")
        data_dir = Path(options["data_dir"] or Path(settings.DATA_DIR) / "deployments" / name)
        instance = LocalInstance(name=name, data_dir=data_dir.resolve())
        env = {
            **os.environ,
            **instance.process_env(port=options["port"], database_url=options["database_url"]),
        }
        url = env["STRATA_DP_PUBLIC_URL"]
        self.stdout.write(f"Deployment URL: {url}")
        self.stdout.write(f"Admin key:      {instance.admin_key()}")
        self.stdout.write(
            f"Use it with the Convex CLI:\n  export CONVEX_SELF_HOSTED_URL={url}\n"
            f"  export CONVEX_SELF_HOSTED_ADMIN_KEY='{instance.admin_key()}'"
        )
        self.stdout.flush()
        argv = [
            sys.executable,
            "-m",
            "dataplane",
            "serve",
            "--host",
            options["host"],
            "--port",
            str(options["port"]),
        ]
        os.execve(sys.executable, argv, env)
