"""`python -m tests.dataplane.two_apps_server <root> <name:port> <name:port>`: one process,
one daphne server, several DeploymentApps, each on its own port (picked by the connection's
local port). Each deployment stores in SQLite under <root>/<name>; its instance secret is
`secret-<name>`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from dataplane.app import DeploymentApp
from dataplane.config import DeploymentConfig


def main(root: Path, specs: list[str]) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "dataplane.settings"
    from daphne.server import Server

    from dataplane.asgi import application_for

    apps: dict[int, Any] = {}
    owned: list[DeploymentApp] = []
    for spec in specs:
        name, _, port = spec.partition(":")
        config = DeploymentConfig(
            name=name,
            data_dir=root / name,
            database_url=f"sqlite:///{root / name / 'db.sqlite3'}",
            instance_secret=f"secret-{name}",
            public_url=f"http://127.0.0.1:{port}",
            port=int(port),
        )
        app = DeploymentApp(config).start()
        owned.append(app)
        apps[int(port)] = application_for(app)

    async def by_port(scope: Any, receive: Any, send: Any) -> None:
        await apps[scope["server"][1]](scope, receive, send)

    try:
        Server(
            application=by_port,
            endpoints=[f"tcp:port={port}:interface=127.0.0.1" for port in apps],
        ).run()
    finally:
        for app in owned:
            app.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
