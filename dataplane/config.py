"""One deployment's process configuration, read from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DeploymentConfig:
    """Everything a data-plane process needs to know about the deployment it serves."""

    name: str
    data_dir: Path
    database_url: str
    instance_secret: str
    public_url: str
    redis_url: str = ""
    # committer (default: own the store or fail), auto (committer, else a read replica that
    # takes over when the committer dies) or replica (start as one); the latter need Postgres.
    role: str = "committer"
    internal_url: str = ""  # where replicas reach this process when it is the committer

    @classmethod
    def from_env(cls) -> DeploymentConfig:
        data_dir = Path(os.environ.get("STRATA_DP_DATA_DIR", "var/deployments/local")).resolve()
        name = os.environ.get("STRATA_DP_NAME", "local-deployment")
        database_url = (
            os.environ.get("STRATA_DP_DATABASE_URL") or f"sqlite:///{data_dir / 'db.sqlite3'}"
        )
        port = os.environ.get("STRATA_DP_PORT", "3210")
        return cls(
            name=name,
            data_dir=data_dir,
            database_url=database_url,
            instance_secret=os.environ.get("STRATA_DP_INSTANCE_SECRET", ""),
            public_url=os.environ.get("STRATA_DP_PUBLIC_URL", f"http://127.0.0.1:{port}"),
            redis_url=os.environ.get("STRATA_DP_REDIS_URL", ""),
            role=os.environ.get("STRATA_DP_ROLE", "committer"),
            internal_url=os.environ.get("STRATA_DP_INTERNAL_URL", f"http://127.0.0.1:{port}"),
        )
