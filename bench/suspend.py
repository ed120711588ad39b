"""Wake time of a suspended deployment vs a warm request, and idle memory (`-m bench.suspend`).

Runs `manage.py runplatform` with host routing and scale to zero (idle limit 1 s), creates a
deployment through the API, pushes the scheduler test app and writes a note. Then, N times: wait
until the deployment is suspended (its process gone) and time a query through the gateway (the
cold request: wake, start, first call); next to it, the same query on the now-running
deployment (warm). Memory: resident set of the deployment's processes while running and idle,
and while suspended (none run).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from controlplane.provisioning.drivers.processes import resident_bytes
from tests.provisioning.suspendable import Tenant, scheduler_app, suspending_platform


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed_query(tenant: Tenant) -> float:
    start = time.perf_counter()
    notes = tenant.call("query", "jobs:notes")
    elapsed = time.perf_counter() - start
    assert "scheduler:bench" in notes  # the right data, after every wake
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=10, help="cold (wake) requests")
    parser.add_argument("--warm", type=int, default=200, help="warm requests")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        suspending_platform(Path(tmp), idle_s=1) as platform,
    ):
        tenant = Tenant(platform)
        tenant.push(scheduler_app(Path(tmp)))
        tenant.call("mutation", "jobs:schedule", body="bench", delayMs=0)
        timed_query(tenant)
        [pid] = tenant.processes()
        running_rss = resident_bytes(pid)
        cold: list[float] = []
        warm: list[float] = []
        for _ in range(args.trials):
            tenant.wait_suspended()
            suspended_rss = sum(resident_bytes(p) for p in tenant.processes())
            cold.append(timed_query(tenant))
            warm.extend(timed_query(tenant) for _ in range(args.warm // args.trials))
        log = platform.log.read_text(errors="replace")
        starts = [float(s) for s in re.findall(rf"woke {tenant.name} \(http\) in ([0-9.]+)s", log)]
    rows = [
        ("p50", statistics.median(cold), statistics.median(warm)),
        ("p99", percentile(cold, 0.99), percentile(warm, 0.99)),
    ]
    print(f"\nwake through the gateway ({len(cold)} cold, {len(warm)} warm queries)")
    print(f"{'':<6}{'cold (wake) ms':>16}{'warm ms':>12}{'ratio':>10}")
    for label, c, w in rows:
        print(f"{label:<6}{c * 1000:>16.1f}{w * 1000:>12.2f}{c / w:>10.0f}")
    if starts:
        print(f"of which process start to healthy: p50 {statistics.median(starts) * 1000:.1f} ms")
    print("\nidle memory of the deployment's processes (RSS, with children)")
    print(f"running   {running_rss / 2**20:>8.1f} MiB")
    print(f"suspended {suspended_rss / 2**20:>8.1f} MiB")


if __name__ == "__main__":
    main()
