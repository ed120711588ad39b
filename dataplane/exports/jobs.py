"""Background export and import jobs of one deployment, and where their files live.

Each job runs on its own daemon thread and reports through the job document (state.py). The
export ZIP and uploaded import files live under `<data dir>/exports` and `<data dir>/imports`.
"""

from __future__ import annotations

import re
import secrets
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from . import state
from .importer import ImportRequest, perform, plan
from .reader import ImportFormatError
from .writer import write_snapshot

if TYPE_CHECKING:
    from ..files import FileService
    from ..transactions import Database

SchemaSource = Callable[[], "dict[str, Any] | None"]

log = structlog.get_logger(__name__)
KEEP_EXPORTS = 3
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}\Z")
MAX_PARTS = 10_000


class Jobs:
    """Runs this deployment's export/import jobs; at most one export at a time."""

    def __init__(
        self, db: Database, files: FileService, schema: SchemaSource, data_dir: Path
    ) -> None:
        self.db = db
        self.files = files
        self.schema = schema
        self.export_dir = data_dir / "exports"
        self.import_dir = data_dir / "imports"
        self._lock = threading.Lock()
        self._export: threading.Thread | None = None
        self._threads: list[threading.Thread] = []

    def _ensure_storage_first(self) -> None:
        """`_storage` before our own tables: system table numbers follow creation order, and
        the same number on both sides keeps storage ids unchanged across export/import."""
        self.files.ensure_table()

    def _spawn(self, name: str, fn: Callable[[], None]) -> threading.Thread:
        thread = threading.Thread(target=fn, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()
        return thread

    def wait(self, timeout: float = 60.0) -> None:
        """Join every job started so far (tests, shutdown)."""
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            t.join(timeout)

    # ----- exports ------------------------------------------------------------------

    def request_export(self, include_storage: bool) -> str:
        """Record and start an export; state.ExportInProgress if one is running."""
        self._ensure_storage_first()
        with self._lock:
            running = self._export is not None and self._export.is_alive()
            export_id = state.request_export(self.db, include_storage, running=running)
            self._export = threading.Thread(
                target=self._run_export,
                args=(export_id, include_storage),
                name="strata-export",
                daemon=True,
            )
            self._threads.append(self._export)
            self._export.start()
        return export_id

    def _run_export(self, export_id: str, include_storage: bool) -> None:
        db = self.db
        self.export_dir.mkdir(parents=True, exist_ok=True)
        ts = db.latest_ts()
        tmp = self.export_dir / f".partial-{export_id}.zip"
        try:
            state.patch_doc(
                db,
                export_id,
                {"state": "in_progress", "start_ts": ts, "progress_message": "Beginning backup"},
            )
            blobs = self.files.blobs if include_storage else None

            def progress(message: str) -> None:
                state.patch_doc(db, export_id, {"progress_message": message})

            write_snapshot(db, ts, tmp, blobs=blobs, progress=progress)
            name = f"snapshot_{ts}.zip"
            tmp.replace(self.export_dir / name)
            state.patch_doc(
                db,
                export_id,
                {
                    "state": "completed",
                    "complete_ts": db.latest_ts(),
                    "zip_object_key": name,
                    "progress_message": None,
                },
            )
            self._prune_exports()
        except Exception as exc:
            log.exception("export failed", export=export_id)
            tmp.unlink(missing_ok=True)
            state.patch_doc(db, export_id, {"state": "failed", "error_message": str(exc)})

    def _prune_exports(self) -> None:
        kept = sorted(self.export_dir.glob("snapshot_*.zip"), key=lambda p: p.stat().st_mtime)
        for old in kept[:-KEEP_EXPORTS]:
            old.unlink(missing_ok=True)

    def export_file(self, ts_text: str) -> tuple[Path, int] | None:
        """The ZIP of the completed export whose start (or completion) ts is `ts_text`."""
        if not ts_text.isdigit():
            return None
        ts = int(ts_text)
        for doc in state.exports_newest_first(self.db.begin()):
            if doc.get("state") == "completed" and ts in (
                doc.get("start_ts"),
                doc.get("complete_ts"),
            ):
                path = self.export_dir / str(doc.get("zip_object_key"))
                return (path, int(doc["start_ts"])) if path.is_file() else None
        return None

    # ----- uploads ------------------------------------------------------------------

    def start_upload(self) -> str:
        token = secrets.token_urlsafe(24)
        (self.import_dir / token).mkdir(parents=True)
        return token

    def _upload_dir(self, token: Any) -> Path:
        if not isinstance(token, str) or not _TOKEN.match(token):
            raise ImportFormatError("Invalid upload token")
        path = self.import_dir / token
        if not path.is_dir():
            raise ImportFormatError("Unknown or finished upload token")
        return path

    def part_path(self, token: Any, part_number: Any) -> Path:
        if not isinstance(part_number, int) or not 1 <= part_number <= MAX_PARTS:
            raise ImportFormatError(f"partNumber must be between 1 and {MAX_PARTS}")
        return self._upload_dir(token) / f"{part_number:05d}.part"

    def finish_upload(self, token: Any, part_tokens: Any) -> Path:
        """Concatenate the uploaded parts (in the order of their tokens) into one file."""
        folder = self._upload_dir(token)
        if not isinstance(part_tokens, list) or not part_tokens:
            raise ImportFormatError("partTokens must be a non-empty list")
        target = self.import_dir / f"{token}.upload"
        with target.open("wb") as out:
            for part in part_tokens:
                number = part.get("partNumber") if isinstance(part, dict) else None
                path = self.part_path(token, number)
                if not path.is_file():
                    raise ImportFormatError(f"Part {number} was never uploaded")
                with path.open("rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
        shutil.rmtree(folder, ignore_errors=True)
        return target

    def new_upload_file(self) -> Path:
        self.import_dir.mkdir(parents=True, exist_ok=True)
        return self.import_dir / f"{secrets.token_urlsafe(24)}.upload"

    # ----- imports ------------------------------------------------------------------

    def create_import(self, req: ImportRequest) -> str:
        """Record an uploaded import and start checking it (-> waiting_for_confirmation)."""
        self._ensure_storage_first()
        fields: dict[str, Any] = {"format": req.fmt, "mode": req.mode, "upload": req.path.name}
        if req.table is not None:
            fields["tableName"] = req.table
        if req.component:
            fields["componentPath"] = req.component
        import_id = state.create_import(self.db, fields)
        self._spawn("strata-import-plan", lambda: self._plan(import_id, req))
        return import_id

    def _fail(self, import_id: str, req: ImportRequest, message: str) -> None:
        req.path.unlink(missing_ok=True)
        state.patch_doc(
            self.db,
            import_id,
            {"state": {"state": "failed", "error_message": message}},
        )

    def _plan(self, import_id: str, req: ImportRequest) -> None:
        try:
            message = plan(self.db, req)
        except (ImportFormatError, ValueError) as exc:
            self._fail(import_id, req, str(exc))
            return
        except Exception as exc:
            log.exception("import check failed", import_id=import_id)
            self._fail(import_id, req, f"Import failed: {exc}")
            return
        state.patch_doc(
            self.db,
            import_id,
            {
                "state": {
                    "state": "waiting_for_confirmation",
                    "message_to_confirm": message,
                    "require_manual_confirmation": True,
                }
            },
        )

    def confirm_import(self, import_id: Any) -> None:
        """Start a checked import; ImportFormatError unless it awaits confirmation."""
        db = self.db

        def claim(txn: Any) -> dict[str, Any]:
            doc = state.get_import(txn, import_id)
            if doc is None:
                raise ImportFormatError(f"No import with id {import_id!r}")
            if doc["state"].get("state") != "waiting_for_confirmation":
                raise ImportFormatError(
                    f"Import {import_id} is {doc['state'].get('state')}, "
                    "not waiting for confirmation"
                )
            txn.patch(doc["_id"], {"state": {"state": "in_progress", "checkpoint_messages": []}})
            return doc

        doc, _ = db.run_mutation(claim)
        req = ImportRequest(
            self.import_dir / str(doc["upload"]),
            doc["format"],
            doc["mode"],
            doc.get("tableName"),
            doc.get("componentPath") or "",
        )
        self._spawn("strata-import", lambda: self._perform(doc["_id"], req))

    def _perform(self, import_id: str, req: ImportRequest) -> None:
        db = self.db
        checkpoints: list[str] = []

        def progress(message: str, checkpoint: str | None) -> None:
            if checkpoint is not None:
                checkpoints.append(checkpoint)
            state.patch_doc(
                db,
                import_id,
                {
                    "state": {
                        "state": "in_progress",
                        "progress_message": message,
                        "checkpoint_messages": list(checkpoints),
                    }
                },
            )

        try:
            written = perform(self.db, self.files, self.schema(), req, progress)
        except (ImportFormatError, ValueError) as exc:
            self._fail(import_id, req, str(exc))
            return
        except Exception as exc:
            log.exception("import failed", import_id=import_id)
            self._fail(import_id, req, f"Import failed: {exc}")
            return
        req.path.unlink(missing_ok=True)
        state.patch_doc(
            db, import_id, {"state": {"state": "completed", "num_rows_written": written}}
        )
