"""A stand-in control plane for crash tests: the local driver (its supervisor thread and
all) in a process of its own, which a test can SIGKILL.

`python -m tests.reliability.control_plane <root> <spec JSON> [<postgres or mysql admin URL>]`
provisions (or re-adopts) the deployment, prints its state as one JSON line and supervises
it until killed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from contract.spec import DeploymentSpec, ResourceLimits
from controlplane.provisioning.drivers.local import LocalDriver


def driver_for(root: Path, admin_url: str) -> LocalDriver:
    """A local driver whose deployments' databases live on the server of `admin_url`."""
    if admin_url.startswith("mysql:"):
        return LocalDriver(root, mysql_admin_url=admin_url)
    return LocalDriver(root, postgres_admin_url=admin_url)


def main(argv: list[str]) -> None:
    root, raw = Path(argv[0]), json.loads(argv[1])
    raw["limits"] = ResourceLimits(**raw.get("limits", {}))
    driver = driver_for(root, argv[2] if len(argv) > 2 else "")
    state = driver.provision(DeploymentSpec(**raw))
    print(json.dumps({"pid": state.pid, "url": state.url, "restarts": state.restarts}))
    sys.stdout.flush()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main(sys.argv[1:])
