"""Celery delivery: due jobs travel through a broker to worker threads that run them.

Used when STRATA_DP_CELERY_BROKER is set: redis://... at scale, or filesystem:// for a broker
that needs no server (messages are files under the deployment's data dir). Each deployment
has its own queue (`strata.<deployment name>`); every process serving the deployment can
consume it, and the task only carries (kind, id) - the worker re-reads the job from the
database, which stays the source of truth, so a lost or duplicated message can neither lose
nor double-run a job.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog
from celery import Celery

log = structlog.get_logger(__name__)
TASK_NAME = "strata.scheduler.deliver"


def queue_name(deployment_name: str) -> str:
    return f"strata.{deployment_name}"


class CeleryDelivery:
    """A Celery app bound to one deployment: `send` enqueues, the embedded worker executes."""

    def __init__(
        self,
        broker_url: str,
        deployment_name: str,
        execute: Callable[[str, str], Any],
        *,
        concurrency: int = 4,
        data_dir: Path | None = None,
    ) -> None:
        self.queue = queue_name(deployment_name)
        self.concurrency = concurrency
        self.app = Celery(f"strata-{deployment_name}", broker=broker_url, set_as_current=False)
        self.app.conf.update(
            task_ignore_result=True,
            task_acks_late=True,  # a worker that dies mid-task leaves the message redeliverable
            task_reject_on_worker_lost=True,
            worker_prefetch_multiplier=1,
            worker_hijack_root_logger=False,
            broker_connection_retry_on_startup=True,
            task_default_queue=self.queue,
        )
        if broker_url.startswith("filesystem://"):
            if data_dir is None:
                raise ValueError("The filesystem:// Celery broker needs a data directory")
            folder = data_dir / "celery-broker"
            folder.mkdir(parents=True, exist_ok=True)
            self.app.conf.broker_transport_options = {
                "data_folder_in": str(folder),
                "data_folder_out": str(folder),
                # kombu's default is ./control relative to the working directory
                "control_folder": str(folder / "control"),
                "polling_interval": 0.2,
            }

        def deliver(kind: str, doc_id: str) -> None:
            execute(kind, doc_id)

        # shared=False: a shared task would leak this closure into every later Celery app.
        self.app.task(name=TASK_NAME, ignore_result=True, shared=False)(deliver)
        self._worker: Any = None
        self._thread: threading.Thread | None = None

    def send(self, kind: str, doc_id: str) -> None:
        self.app.send_task(TASK_NAME, args=[kind, doc_id], queue=self.queue)

    def start_worker(self) -> None:
        """Consume this deployment's queue on worker threads inside this process.

        Celery's thread pool looks tasks up in the process-wide default app, so this app
        becomes it (a data-plane process serves one deployment).
        """
        if self._thread is not None:
            return
        self.app.set_default()
        self._worker = self.app.WorkController(
            app=self.app,
            pool="threads",
            concurrency=self.concurrency,
            queues=[self.queue],
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
            loglevel="WARNING",
        )
        self._thread = threading.Thread(
            target=self._worker.start, name="strata-celery-worker", daemon=True
        )
        self._thread.start()

    def stop_worker(self, timeout: float = 15.0) -> None:
        if self._thread is None:
            return
        try:
            self._worker.stop(in_sighandler=False)
        except Exception:
            log.exception("celery worker did not stop cleanly")
        self._thread.join(timeout)
        self._thread = None
        self._worker = None

    def close(self) -> None:
        self.stop_worker()
        self.app.close()
