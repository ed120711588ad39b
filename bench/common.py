"""Small helpers shared by the one-command benchmarks: timed loops and ratio tables."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    """One benchmark row: ours vs the raw baseline measured in the same run."""

    name: str
    ours: float
    raw: float

    @property
    def ratio(self) -> float:
        return self.ours / self.raw if self.raw else 0.0


def rate(op: Callable[[int], object], seconds: float, max_ops: int = 1_000_000) -> float:
    """Operations per second of `op(i)` run back to back for about `seconds`."""
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while done < max_ops:
        op(done)
        done += 1
        if done % 64 == 0 and time.perf_counter() >= deadline:
            break
    return done / (time.perf_counter() - start)


def print_table(title: str, rows: list[Result]) -> None:
    """Print `engine ops/s | raw ops/s | ratio` rows."""
    print(f"\n{title}")
    print(f"{'benchmark':<34}{'engine ops/s':>14}{'raw ops/s':>14}{'ratio':>8}")
    for r in rows:
        print(f"{r.name:<34}{r.ours:>14,.0f}{r.raw:>14,.0f}{r.ratio:>8.2f}")


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds used so far by process `pid` (default: this one), all its
    threads: dividing a phase's share by its operations gives CPU per operation, which says
    where the time goes when client, server and database share the machine's cores."""
    if pid is None:
        return time.process_time()
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rate_threads(
    make_op: Callable[[int], Callable[[int], object]], threads: int, seconds: float
) -> float:
    """Total ops/s of `threads` threads, each running its own op from make_op(thread)."""
    import threading

    ops = [make_op(t) for t in range(threads)]
    counts = [0] * threads
    start_gate = threading.Barrier(threads + 1)
    deadline = [0.0]

    def run(t: int) -> None:
        op = ops[t]
        start_gate.wait()
        n = 0
        while True:
            op(n)
            n += 1
            if n % 16 == 0 and time.perf_counter() >= deadline[0]:
                break
        counts[t] = n

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    deadline[0] = time.perf_counter() + seconds
    start = time.perf_counter()
    start_gate.wait()
    for w in workers:
        w.join()
    return sum(counts) / (time.perf_counter() - start)
