"""A deployment's on-disk identity for local processes: data directory and instance secret."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from contract.keys import mint_key, new_instance_secret


@dataclass(frozen=True)
class LocalInstance:
    name: str
    data_dir: Path

    @property
    def secret_path(self) -> Path:
        return self.data_dir / "instance_secret"

    def instance_secret(self) -> str:
        """The deployment's signing secret, created (mode 0600) on first use."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.secret_path.exists():
            fd = os.open(self.secret_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(new_instance_secret())
        return self.secret_path.read_text().strip()

    def write_instance_secret(self, secret: str) -> None:
        """Adopt a secret chosen by the control plane; refuses to change an existing one."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.secret_path.exists():
            if self.secret_path.read_text().strip() != secret:
                raise ValueError(f"deployment {self.name} already has a different instance secret")
            return
        fd = os.open(self.secret_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secret)

    def admin_key(self) -> str:
        return mint_key(self.name, self.instance_secret(), key_id="local-admin")

    def process_env(
        self, *, port: int, database_url: str = "", public_url: str = ""
    ) -> dict[str, str]:
        """Environment for `python -m dataplane serve` serving this instance."""
        env = {
            "STRATA_DP_NAME": self.name,
            "STRATA_DP_DATA_DIR": str(self.data_dir),
            "STRATA_DP_INSTANCE_SECRET": self.instance_secret(),
            "STRATA_DP_PORT": str(port),
            "STRATA_DP_PUBLIC_URL": public_url or f"http://127.0.0.1:{port}",
            "DJANGO_SETTINGS_MODULE": "dataplane.settings",
        }
        if database_url:
            env["STRATA_DP_DATABASE_URL"] = database_url
        return env
