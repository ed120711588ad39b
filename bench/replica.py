"""One deployment across two processes: `python -m bench.replica [--db postgres|mysql]`.

A committer and one read replica (STRATA_DP_ROLE=replica) serve bench/reactive/app from one
database, commits announced over Redis (a fresh deployment name, so its own channel).
(a) Write-to-subscriber latency for N subscribers of bench:latest on the replica, the writer
    on the committer (the replica follows the committer's log), and with the writer on the
    replica too (its commit forwarded to the committer); vs subscribers and writer on the
    committer (the baseline).
(b) Mutation commits/s over the sync WebSocket with 1 and 8 clients connected to the replica
    (every commit forwarded) vs the same clients connected to the committer.
Client and servers share this machine, so latencies are upper bounds. Server processes are
started and stopped by this command.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import uuid
from dataclasses import dataclass

from .reactive import Latency, _fanout, _mutation_rate, database_url, deployment

REDIS_URL = os.environ.get("STRATA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass(frozen=True)
class Route:
    """Where a latency workload's subscribers and writer connect."""

    subscribers: str  # "committer" or "replica"
    writer: str


PATHS = (
    Route("committer", "committer"),  # the baseline: one process does everything
    Route("replica", "committer"),  # the replica follows the committer's log
    Route("replica", "replica"),  # the write is forwarded, the subscribers follow
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.replica")
    parser.add_argument("--db", choices=["postgres", "mysql"], default="postgres")
    parser.add_argument("--seconds", type=float, default=5.0, help="per commit-rate run")
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=50, help="writes per latency run")
    args = parser.parse_args(argv)

    print(
        f"bench.replica  storage={args.db}  committer + 1 replica, Redis announcements  "
        f"(client and servers share this {os.cpu_count()}-core machine)"
    )
    name = f"bench-replica-{uuid.uuid4().hex[:8]}"  # its own Redis channel
    cluster = {"STRATA_DP_REDIS_URL": REDIS_URL}
    with (
        database_url(args.db) as url,
        deployment(url, name=name, env={**cluster, "STRATA_DP_ROLE": "auto"}) as committer,
        deployment(
            url,
            name=name,
            data_dir=committer.root / "data",  # the same instance secret
            env={**cluster, "STRATA_DP_ROLE": "replica"},
            push=False,
        ) as replica,
    ):
        urls = {"committer": committer.url, "replica": replica.url}
        rates = {
            (where, clients): asyncio.run(_mutation_rate(urls[where], clients, args.seconds))
            for clients in (1, 8)
            for where in ("committer", "replica")
        }
        latencies: dict[Route, Latency] = {}
        for path in PATHS:
            latencies[path], _ = asyncio.run(
                _fanout(
                    urls[path.subscribers],
                    args.subscribers,
                    args.rounds,
                    writer_url=urls[path.writer],
                    room=f"{path.subscribers}-{path.writer}",
                )
            )

    n = args.subscribers
    print(f"\n(a) write -> subscriber latency (ms), {n} subscribers, {args.rounds} writes")
    print(
        f"{'subscribers':<13}{'writer':<11}{'all p50/p99':>18}{'each p50/p99':>18}"
        f"{'all p50 ratio':>15}{'each p50 ratio':>16}"
    )
    base = latencies[PATHS[0]]
    for path in PATHS:
        lat = latencies[path]
        print(
            f"{path.subscribers:<13}{path.writer:<11}"
            f"{lat.all_p50:>9.1f}/{lat.all_p99:<8.1f}{lat.each_p50:>9.1f}/{lat.each_p99:<8.1f}"
            f"{lat.all_p50 / base.all_p50:>15.2f}{lat.each_p50 / base.each_p50:>16.2f}"
        )
    print("\n(b) mutation commits/s over the sync WebSocket: via the replica vs the committer")
    print(f"{'clients':<9}{'committer/s':>13}{'via replica/s':>15}{'ratio':>8}")
    for clients in (1, 8):
        direct, forwarded = rates["committer", clients], rates["replica", clients]
        print(f"{clients:<9}{direct:>13,.0f}{forwarded:>15,.0f}{forwarded / direct:>8.2f}")


if __name__ == "__main__":
    main()
