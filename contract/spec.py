"""What a driver needs to run one deployment; built by the control plane, free of its models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

StorageKind = Literal["sqlite", "postgres", "mysql"]


@dataclass(frozen=True)
class ResourceLimits:
    """Per-process limits; 0 means "no limit" for memory."""

    memory_mb: int = 0
    max_open_files: int = 4096
    cpu_nice: int = 0


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    instance_secret: str
    port: int
    storage: StorageKind = "sqlite"
    limits: ResourceLimits = field(default_factory=ResourceLimits)
    usage_report_url: str = ""


@dataclass(frozen=True)
class DeploymentState:
    """What a driver observes about a deployment right now."""

    name: str
    running: bool
    healthy: bool
    pid: int | None = None
    restarts: int = 0
    url: str = ""
