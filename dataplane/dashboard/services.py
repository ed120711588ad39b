"""What the `_system/` functions reach: the database, the live code and file storage, and
which component the call looks at (components.py)."""

from __future__ import annotations

from dataclasses import dataclass

from ..deploy.activation import ActiveCode
from ..files import FileService
from ..transactions import Database


@dataclass(frozen=True)
class DashboardServices:
    db: Database
    code: ActiveCode
    files: FileService
    component: str = ""  # the component path a call runs in ("" = the root app)
