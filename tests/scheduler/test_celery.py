"""Celery delivery over the real Redis broker on 127.0.0.1:6379 with a real worker thread."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from dataplane.app import DeploymentApp
from dataplane.scheduler.delivery import queue_name
from dataplane.scheduler.service import Scheduler

from .conftest import wait_for

BROKER = "redis://127.0.0.1:6379/11"


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(BROKER)
    try:
        client.ping()
    except redis.ConnectionError as e:  # pragma: no cover - the environment provides Redis
        pytest.fail(f"Redis is required at {BROKER}: {e}")
    yield client
    client.close()


def test_due_job_travels_through_redis_to_a_celery_worker(
    deployment: DeploymentApp, broker: redis.Redis
) -> None:
    name = f"celery-{uuid.uuid4().hex[:8]}"
    sched = Scheduler(
        deployment.db, deployment.runner, name=name, broker_url=BROKER, run_celery_worker=False
    )
    queue = queue_name(name)
    try:
        sched.start()
        job_id = deployment.runner.run_mutation(
            "jobs:schedule", {"body": "via-celery", "delayMs": 0.0}
        ).value_json
        # No worker consumes yet: the task waits in the Redis queue and the job stays pending.
        wait_for(lambda: broker.llen(queue) >= 1, what="task message in Redis")
        doc = deployment.runner.run_query("jobs:job", {"id": job_id}).value_json
        assert doc["state"] == {"kind": "pending"}
        assert sched.celery is not None
        sched.celery.start_worker()
        wait_for(
            lambda: (
                deployment.runner.run_query("jobs:job", {"id": job_id}).value_json["state"]
                == {"kind": "success"}
            ),
            what="job delivered by the Celery worker",
        )
        assert deployment.runner.run_query("jobs:notes", {}).value_json.count("via-celery") == 1
    finally:
        sched.stop()
        assert sched.celery is not None
        sched.celery.app.close()
        for key in broker.scan_iter(f"*{queue}*"):  # the queue and kombu's bindings for it
            broker.delete(key)


def test_filesystem_broker_needs_no_server(deployment: DeploymentApp, tmp_path: Path) -> None:
    sched = Scheduler(
        deployment.db,
        deployment.runner,
        name="fs-broker",
        broker_url="filesystem://",
        data_dir=tmp_path / "broker",
    )
    try:
        sched.start()
        job_id = deployment.runner.run_mutation(
            "jobs:schedule", {"body": "via-files", "delayMs": 0.0}
        ).value_json
        wait_for(
            lambda: (
                deployment.runner.run_query("jobs:job", {"id": job_id}).value_json["state"]
                == {"kind": "success"}
            ),
            what="job delivered through the filesystem broker",
        )
        assert sched.dispatched >= 1
        assert (tmp_path / "broker" / "celery-broker").is_dir()
    finally:
        sched.stop()
