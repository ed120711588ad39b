"""The one interface every provisioning driver implements."""

from __future__ import annotations

import abc
from collections.abc import Iterable

from contract.spec import DeploymentSpec, DeploymentState


class DriverError(Exception):
    """Provisioning failed; the message says what and for which deployment."""


class ProvisioningDriver(abc.ABC):
    """Runs deployments somewhere. Every method is idempotent."""

    @abc.abstractmethod
    def provision(self, spec: DeploymentSpec) -> DeploymentState:
        """Create storage and start the deployment (no-op for parts that already exist)."""

    @abc.abstractmethod
    def start(self, spec: DeploymentSpec, *, wait: float = 60.0) -> DeploymentState:
        """Run a provisioned deployment again (unpause, wake); wait up to `wait` seconds for
        it to be healthy where the driver can tell (0: return at once)."""

    @abc.abstractmethod
    def stop(self, name: str) -> None:
        """Stop gracefully, keeping all data (pause, or the first step of deletion)."""

    @abc.abstractmethod
    def destroy(self, spec: DeploymentSpec) -> None:
        """Remove the deployment's data for good (after the deletion grace period)."""

    @abc.abstractmethod
    def state(self, name: str) -> DeploymentState:
        """What is running now."""

    @abc.abstractmethod
    def publish_revoked_keys(self, spec: DeploymentSpec, key_ids: Iterable[str]) -> None:
        """Tell the deployment which key ids it must refuse from now on."""

    @abc.abstractmethod
    def allocate_port(self, used: set[int]) -> int | None:
        """A host port for a new deployment, not in `used`; None when ports are not per-host."""

    def upstream(self, name: str) -> str | None:
        """Base URL the gateway forwards `<name>.<base domain>` to, if reachable."""
        return None

    def shutdown(self) -> None:
        """Release driver resources (stops supervised processes for the local driver)."""
        return None
