"""Many sockets on one data-plane process: `python -m bench.sockets [--sockets N] [--db ...]`.

N sync sockets (default 10,000), each subscribed to `bench:latest` for its own room, so N
distinct queries on one `python -m dataplane serve` process, vs a bare `websockets` server
(bench/reactive/broadcast_server.py, /sub/<i> and /pick) holding the same N sockets:

- memory per socket: the server's resident set (its children included) with all N sockets
  open and subscribed, minus the same before any was opened, over N;
- write -> subscriber latency for a write touching 1% of them: one `bench:createMany`
  mutation inserting an event into N/100 random rooms, from just before it is sent to each
  touched subscriber receiving the Transition with the new seq; bare: one control frame
  naming the same subscribers, each of which gets a frame of the Transition's size.
  p50/p99 over every touched subscriber ("each") and over the last one of each round.

The sockets are opened in batches by client processes (--clients), which share this
machine's cores with the server, so latencies are upper bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import resource
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.client import connect

from controlplane.provisioning.drivers.processes import resident_bytes

from .reactive import (
    BODY,
    Latency,
    SyncClient,
    _open_many,
    bare_server,
    database_url,
    deployment,
    transition_frame_size,
)

SEED_CHUNK = 2000  # rooms per seeding mutation
WAIT_S = 10.0  # how long a round waits for its subscribers


def raise_nofile() -> int:
    """Raise this process's open-file limit to the hard limit (children inherit it)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def open_file_limit(pid: int) -> str:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return line.split()[3]
    return "?"


# ----- client processes ------------------------------------------------------------------


def _client_process(mode: str, url: str, first: int, count: int, batch: int, conn: Any) -> None:
    try:
        asyncio.run(_client_main(mode, url, first, count, batch, conn))
    except Exception:
        conn.send(("error", traceback.format_exc()))


async def _client_main(
    mode: str, url: str, first: int, count: int, batch: int, conn: Connection
) -> None:
    """Hold sockets first..first+count-1 and report when each round's arrivals came."""
    loop = asyncio.get_running_loop()

    async def recv() -> Any:
        return await loop.run_in_executor(None, conn.recv)

    async def make(i: int) -> SyncClient:
        if mode == "ours":
            client = await SyncClient.open(url)
            await client.subscribe("bench:latest", {"room": f"s{i}"})
            return client
        ws = await connect(f"{url}/sub/{i}", max_size=None, ping_interval=None)
        return SyncClient(ws)  # its watch() reads the bare server's Transition-shaped frames

    await recv()  # "open": all processes start together
    start = time.perf_counter()
    subs = await _open_many(make, count, batch, first)
    conn.send(("opened", time.perf_counter() - start))
    watchers = [asyncio.create_task(s.watch()) for s in subs]
    while True:
        msg = await recv()
        if msg[0] != "collect":
            break
        _, seq, targets = msg
        local = [subs[i - first] for i in targets]
        deadline = time.perf_counter() + WAIT_S
        while time.perf_counter() < deadline and not all(seq in s.arrivals for s in local):
            await asyncio.sleep(0.001)
        conn.send(("arrived", [s.arrivals[seq] for s in local if seq in s.arrivals]))
    for w in watchers:
        w.cancel()
    conn.send(("closed", None))


class Clients:
    """`procs` client processes holding sockets 0..n-1 between them (contiguous ranges)."""

    def __init__(self, mode: str, url: str, n: int, procs: int, batch: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.bounds = [n * k // procs for k in range(procs + 1)]
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        for k in range(procs):
            ours, theirs = ctx.Pipe()
            first, count = self.bounds[k], self.bounds[k + 1] - self.bounds[k]
            proc = ctx.Process(
                target=_client_process, args=(mode, url, first, count, batch, theirs)
            )
            proc.start()
            self.conns.append(ours)
            self.procs.append(proc)

    async def _reply(self, k: int, expect: str) -> Any:
        kind, value = await asyncio.get_running_loop().run_in_executor(None, self.conns[k].recv)
        if kind != expect:
            raise RuntimeError(f"client process {k}: {value}")
        return value

    async def open(self) -> float:
        """Open every socket; the wall time it took."""
        start = time.perf_counter()
        for conn in self.conns:
            conn.send(("open",))
        await asyncio.gather(*(self._reply(k, "opened") for k in range(len(self.conns))))
        return time.perf_counter() - start

    async def collect(self, seq: int, targets: list[int]) -> list[float]:
        """When each of `targets` received `seq` (perf_counter, shared by processes)."""
        asked = []
        for k, conn in enumerate(self.conns):
            lo, hi = self.bounds[k], self.bounds[k + 1]
            mine = [i for i in targets if lo <= i < hi]
            if mine:
                conn.send(("collect", seq, mine))
                asked.append(k)
        replies = await asyncio.gather(*(self._reply(k, "arrived") for k in asked))
        return [t for reply in replies for t in reply]

    async def close(self) -> None:
        for conn in self.conns:
            conn.send(("close",))
        await asyncio.gather(*(self._reply(k, "closed") for k in range(len(self.conns))))
        for proc in self.procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()


# ----- one side of the comparison ------------------------------------------------------


@dataclass
class Side:
    open_s: float
    rss_before: int
    rss_after: int
    latency: Latency
    samples: int
    missed: int
    rounds: list[list[float]]

    def per_socket_kib(self, n: int) -> float:
        return (self.rss_after - self.rss_before) / n / 1024


Write = Callable[[list[int], int], Awaitable[object]]


async def _measure(
    mode: str, url: str, pid: int, n: int, rounds: int, procs: int, batch: int, write: Write
) -> Side:
    """Open the sockets (RSS before and after), then time `rounds` writes to 1% of them."""
    before = resident_bytes(pid)
    clients = Clients(mode, url, n, procs, batch)
    try:
        open_s = await clients.open()
        await asyncio.sleep(2)  # let the server settle (pending flushes, first pings)
        after = resident_bytes(pid)
        rng = random.Random(1)  # the same targets for both sides
        touched = max(1, n // 100)
        samples: list[list[float]] = []
        for seq in range(1, rounds + 1):
            targets = rng.sample(range(n), touched)
            t0 = time.perf_counter()
            await write(targets, seq)
            arrived = await clients.collect(seq, targets)
            samples.append([(t - t0) * 1000 for t in arrived])
            await asyncio.sleep(0.05)
    finally:
        await clients.close()
    got = sum(len(r) for r in samples)
    missed = rounds * touched - got
    return Side(open_s, before, after, Latency.of(samples), got, missed, samples)


async def _ours(url: str, pid: int, n: int, rounds: int, procs: int, batch: int) -> Side:
    writer = await SyncClient.open(url)
    for lo in range(0, n, SEED_CHUNK):  # every query has a document to return
        rooms = [f"s{i}" for i in range(lo, min(n, lo + SEED_CHUNK))]
        await writer.mutation("bench:createMany", {"rooms": rooms, "seq": 0.0, "body": BODY})

    async def warm(i: int) -> SyncClient:
        client = await SyncClient.open(url)
        await client.subscribe("bench:latest", {"room": f"warm{i}"})
        return client

    # Warm the query path (every isolate of the pool) before the memory baseline.
    for client in await _open_many(warm, 32, 32):
        await client.close()
    await asyncio.sleep(1)

    async def write(targets: list[int], seq: int) -> object:
        rooms = [f"s{i}" for i in targets]
        return await writer.mutation(
            "bench:createMany", {"rooms": rooms, "seq": float(seq), "body": BODY}
        )

    try:
        return await _measure("ours", url, pid, n, rounds, procs, batch, write)
    finally:
        await writer.close()


def bare_frame(seq: int, size: int) -> str:
    """A Transition-shaped frame carrying `seq`, padded to `size` bytes."""
    value = {"seq": float(seq), "pad": ""}
    frame = {"type": "Transition", "modifications": [{"type": "QueryUpdated", "value": value}]}
    value["pad"] = "p" * max(0, size - len(orjson.dumps(frame)))
    return orjson.dumps(frame).decode()


async def _bare(
    url: str, pid: int, n: int, rounds: int, procs: int, batch: int, frame_size: int
) -> Side:
    ctl = await connect(f"{url}/pick", max_size=None, ping_interval=None)

    async def write(targets: list[int], seq: int) -> object:
        await ctl.send(orjson.dumps({"to": targets, "frame": bare_frame(seq, frame_size)}))
        return None

    try:
        return await _measure("bare", url, pid, n, rounds, procs, batch, write)
    finally:
        await ctl.close()


def _log_problems(log: Path) -> list[str]:
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return [ln for ln in lines if "Traceback" in ln or "error" in ln.lower()]


# ----- the command -----------------------------------------------------------------------


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[0]:.0f}/{ordered[len(ordered) // 2]:.0f}/{ordered[-1]:.0f}"


def _row(name: str, ours: float, bare: float, fmt: str = ".1f") -> None:
    ratio = f"{ours / bare:.2f}" if bare else "-"
    print(f"{name:<34}{ours:>12{fmt}}{bare:>12{fmt}}{ratio:>9}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sockets", description=__doc__)
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--sockets", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--batch", type=int, default=50, help="sockets opened at once, each")
    parser.add_argument("--verbose", action="store_true", help="print each round's latencies")
    args = parser.parse_args(argv)
    n = args.sockets

    limit = raise_nofile()
    os.environ.setdefault("PYTHONFAULTHANDLER", "1")  # a server crash names its thread
    if limit < n + 1024:
        sys.exit(f"RLIMIT_NOFILE hard limit {limit} is too low for {n} sockets")
    print(
        f"bench.sockets  storage={args.db}  N={n} sockets, {max(1, n // 100)} touched per "
        f"write, {args.rounds} rounds, {args.clients} client processes "
        f"(clients and servers share this {os.cpu_count()}-core machine)"
    )
    with database_url(args.db) as db_url, deployment(db_url) as dep:
        pid = dep.process.pid
        server_limit = open_file_limit(pid)
        try:
            ours = asyncio.run(_ours(dep.url, pid, n, args.rounds, args.clients, args.batch))
        finally:
            if dep.process.poll() is not None:  # say why before the log is removed
                tail = (dep.root / "server.log").read_text(errors="replace")[-6000:]
                print(f"data-plane server exited ({dep.process.returncode}):\n{tail}")
        problems = _log_problems(dep.root / "server.log")

    with bare_server() as (base, bare_pid):
        frame = transition_frame_size(f"s{n // 2}")
        bare = asyncio.run(_bare(base, bare_pid, n, args.rounds, args.clients, args.batch, frame))

    print(f"\nservers' open-file limit: ours {server_limit}; frame size {frame} B")
    print(f"{'':<34}{'ours':>12}{'bare':>12}{'ratio':>9}")
    _row(f"open {n} sockets (s)", ours.open_s, bare.open_s)
    _row("server RSS before (MiB)", ours.rss_before / 2**20, bare.rss_before / 2**20)
    _row(f"server RSS with {n} (MiB)", ours.rss_after / 2**20, bare.rss_after / 2**20)
    _row("memory per socket (KiB)", ours.per_socket_kib(n), bare.per_socket_kib(n))
    _row("write -> each subscriber p50 (ms)", ours.latency.each_p50, bare.latency.each_p50)
    _row("write -> each subscriber p99 (ms)", ours.latency.each_p99, bare.latency.each_p99)
    _row("write -> last of round p50 (ms)", ours.latency.all_p50, bare.latency.all_p50)
    _row("write -> last of round p99 (ms)", ours.latency.all_p99, bare.latency.all_p99)
    print(f"{'deliveries (missed)':<34}{f'{ours.samples} ({ours.missed})':>12}", end="")
    print(f"{f'{bare.samples} ({bare.missed})':>12}")
    if args.verbose:
        for name, side in (("ours", ours), ("bare", bare)):
            print(f"\n{name}, each round's first/median/last (ms):")
            print("  ".join(_spread(r) for r in side.rounds))
    if problems:
        print(f"\nserver log: {len(problems)} error lines, the first ones:")
        for line in problems[:3]:
            print(f"  {line[:200]}")


if __name__ == "__main__":
    main()
