"""What the `_system/` functions reach: the database, the live code and file storage."""

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
