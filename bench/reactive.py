"""Reactive benchmarks with same-run baselines: `python -m bench.reactive [--db postgres|sqlite]`.

(a) Mutation commits/s over the sync WebSocket with 1 and 8 concurrent clients (each waits
    for its MutationResponse and the Transition that reaches the commit, as the official
    clients do) vs the same mutation through the in-process V8 FunctionRunner (no network)
    and vs the raw engine commit rate (Database.run_mutation, same storage, in-process).
(b) Write-to-subscriber latency for N subscribers of one query: from just before the writer
    sends the mutation to each subscriber receiving the Transition with the new value; vs a
    bare `websockets` server broadcasting a frame of the same size (bench/reactive/
    broadcast_server.py), timed from just before the control frame is sent.
(c) The same workloads on Parse Server 9 + LiveQuery (bench/reactive/parse, npm-installed on
    first run) on the same PostgreSQL server: SDK saves/s with 1 and 8 clients, and save() ->
    LiveQuery 'create' latency for N subscribers (the method of perf-baselines.md).
Client and servers share this machine, so latencies are upper bounds. Server processes are
started and stopped by this command.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import orjson
import psycopg
import websockets
from websockets.asyncio.client import ClientConnection, connect

from controlplane.provisioning.local_instance import LocalInstance
from dataplane.transactions import open_database

from .common import cpu_seconds, rate_threads

REPO = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent / "reactive"
CLI = REPO / "node_modules" / "convex" / "bin" / "main.js"
PG_ADMIN = os.environ.get(
    "STRATA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BODY = "x" * 64
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


# ----- databases and servers ------------------------------------------------------------


@contextmanager
def database_url(kind: str) -> Iterator[str]:
    """A fresh database URL (dropped afterwards): sqlite, postgres or mysql."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="strata-bench-") as tmp:
            yield f"sqlite:///{tmp}/bench.sqlite3"
        return
    if kind == "mysql":
        from .storage import _mysql_database

        with _mysql_database() as url:
            yield url
        return
    name = f"strata_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_ADMIN.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Deployment:
    url: str
    process: subprocess.Popen[bytes]
    root: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def deployment(
    db_url: str,
    *,
    name: str = "bench-reactive",
    data_dir: Path | None = None,
    env: dict[str, str] | None = None,
    push: bool = True,
) -> Iterator[Deployment]:
    """A data-plane server with bench/reactive/app pushed by the official CLI.

    Another process of the same deployment: the first one's `name` and `data_dir` (its
    instance secret), `env` with its STRATA_DP_ROLE and STRATA_DP_REDIS_URL, `push=False`
    (it runs the code the database holds). Returns once /readyz answers 200 (on a replica:
    it has caught up with the committer's log).
    """
    root = Path(tempfile.mkdtemp(prefix="strata-reactive-"))
    port = free_port()
    instance = LocalInstance(name=name, data_dir=data_dir or root / "data")
    process_env = {
        **os.environ,
        **instance.process_env(port=port, database_url=db_url),
        **(env or {}),
    }
    log = (root / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dataplane", "serve", "--port", str(port)],
        cwd=REPO,
        env=process_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    dep = Deployment(f"http://127.0.0.1:{port}", proc, root)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{dep.url}/readyz", timeout=6).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError((root / "server.log").read_text())
            time.sleep(0.2)
        if push:
            _push_app(dep, instance.admin_key())
        yield dep
    finally:
        if proc.poll() is not None:  # it died under the workload: say why before cleaning up
            tail = (root / "server.log").read_text(errors="replace")[-4000:]
            print(f"server {dep.url} exited with {proc.returncode}:\n{tail}", file=sys.stderr)
        dep.stop()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def _push_app(dep: Deployment, admin_key: str) -> None:
    app = dep.root / "app"
    shutil.copytree(HERE / "app", app)
    (app / "package.json").write_text(
        json.dumps({"name": "bench", "private": True, "dependencies": {"convex": "1.48.0"}})
    )
    (app / "node_modules").symlink_to(REPO / "node_modules")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONVEX_", "STRATA_DP_"))}
    env.update(
        CONVEX_SELF_HOSTED_URL=dep.url,
        CONVEX_SELF_HOSTED_ADMIN_KEY=admin_key,
        CI="1",
        CONVEX_VERSION_API_ORIGIN="http://127.0.0.1:9",
        CONVEX_PROVISION_HOST="http://127.0.0.1:9",
        HOME=str(dep.root),
    )
    subprocess.run(
        ["node", str(CLI), "deploy", "--yes", "--typecheck", "disable"],
        cwd=app,
        env=env,
        check=True,
        capture_output=True,
        timeout=180,
    )


# ----- a minimal sync-protocol client ----------------------------------------------------


@dataclass
class SyncClient:
    """Just enough of the Convex sync protocol for benchmarking (no reconnects)."""

    ws: ClientConnection
    next_request: int = 0
    arrivals: dict[float, float] = field(default_factory=dict)  # seq -> perf_counter

    @classmethod
    async def open(cls, url: str) -> SyncClient:
        ws = await connect(
            url.replace("http", "ws", 1) + "/api/1.48.0/sync", max_size=None, ping_interval=None
        )
        await ws.send(
            orjson.dumps(
                {"type": "Connect", "sessionId": str(uuid.uuid4()), "connectionCount": 0}
            ).decode()
        )
        return cls(ws)

    async def subscribe(self, path: str, args: dict[str, Any]) -> None:
        add = {"type": "Add", "queryId": 0, "udfPath": path, "args": [args]}
        msg = {"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": [add]}
        await self.ws.send(orjson.dumps(msg).decode())
        while True:
            frame = orjson.loads(await self.ws.recv())
            if frame["type"] == "Transition" and frame["modifications"]:
                return

    async def watch(self) -> None:
        """Record when each new `seq` arrives (runs until the socket closes)."""
        try:
            async for raw in self.ws:
                now = time.perf_counter()
                frame = orjson.loads(raw)
                if frame["type"] != "Transition":
                    continue
                for mod in frame["modifications"]:
                    value = mod.get("value")
                    if isinstance(value, dict) and "seq" in value:
                        self.arrivals[value["seq"]] = now
        except websockets.ConnectionClosed:
            pass

    async def mutation(self, path: str, args: dict[str, Any]) -> Any:
        """Run a mutation; return once a Transition reaches its commit ts (read-your-writes)."""
        request_id = self.next_request
        self.next_request += 1
        msg = {"type": "Mutation", "requestId": request_id, "udfPath": path, "args": [args]}
        await self.ws.send(orjson.dumps(msg).decode())
        result: Any = None
        commit_ts: bytes | None = None
        while True:
            frame = orjson.loads(await self.ws.recv())
            if frame["type"] == "MutationResponse" and frame["requestId"] == request_id:
                if not frame["success"]:
                    raise RuntimeError(frame["result"])
                result = frame["result"]
                commit_ts = _ts_bytes(frame["ts"])
            elif (
                frame["type"] == "Transition"
                and commit_ts is not None
                and _ts_bytes(frame["endVersion"]["ts"]) >= commit_ts
            ):
                return result

    async def close(self) -> None:
        await self.ws.close()


def _ts_bytes(b64: str) -> bytes:
    import base64

    return base64.b64decode(b64)[::-1]  # big-endian bytes compare like the integers


# ----- (a) commit throughput ---------------------------------------------------------------


@dataclass
class MutationRun:
    """Commits/s of one phase and the CPU each commit cost the server and this client."""

    rate: float
    server_us: float = 0.0
    client_us: float = 0.0


async def _mutation_run(
    url: str, clients: int, seconds: float, server_pid: int | None = None
) -> MutationRun:
    conns = [await SyncClient.open(url) for _ in range(clients)]
    counts = [0] * clients
    deadline = time.perf_counter() + seconds

    async def loop(i: int) -> None:
        c = conns[i]
        while time.perf_counter() < deadline:
            await c.mutation("bench:create", {"room": f"w{i}", "seq": 0.0, "body": BODY})
            counts[i] += 1

    server0 = cpu_seconds(server_pid) if server_pid else 0.0
    client0 = cpu_seconds()
    start = time.perf_counter()
    await asyncio.gather(*(loop(i) for i in range(clients)))
    elapsed = time.perf_counter() - start
    done = max(1, sum(counts))
    run = MutationRun(
        sum(counts) / elapsed,
        (cpu_seconds(server_pid) - server0) / done * 1e6 if server_pid else 0.0,
        (cpu_seconds() - client0) / done * 1e6,
    )
    for c in conns:
        await c.close()
    return run


async def _mutation_rate(url: str, clients: int, seconds: float) -> float:
    return (await _mutation_run(url, clients, seconds)).rate


@contextmanager
def _profiled(pid: int, out: Path | None, name: str) -> Iterator[None]:
    """py-spy (GIL holder only, 250 Hz) on the server while the block runs: `name`.svg (a
    flame graph) and `name`.txt (collapsed stacks) in `out`, and the top frames printed."""
    if out is None:
        yield
        return
    out.mkdir(parents=True, exist_ok=True)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    procs = [
        subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(pid),
                "--gil",
                "--nonblocking",
                "--rate",
                "250",
                "--format",
                fmt,
                "--output",
                str(out / f"{name}.{ext}"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for fmt, ext in (("flamegraph", "svg"), ("raw", "txt"))
    ]
    time.sleep(1.0)  # py-spy attaches
    try:
        yield
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
    print(f"\nprofile {name}: {out / name}.svg; frames holding the GIL, share of samples:")
    for frame, share in top_frames(out / f"{name}.txt", 15):
        print(f"  {share:6.1%}  {frame}")


def top_frames(collapsed: Path, n: int) -> list[tuple[str, float]]:
    """The `n` project frames (dataplane/) with the largest inclusive share of samples."""
    totals: dict[str, int] = {}
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples += int(count)
        seen = set()
        for frame in stack.split(";"):
            name, _, where = frame.partition(" (")
            if "dataplane/" not in where or "__main__" in where or name in seen:
                continue
            seen.add(name)
            module = where.split("dataplane/", 1)[1].split(":", 1)[0]
            key = f"{name} ({module})"
            totals[key] = totals.get(key, 0) + int(count)
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:n]
    return [(k, v / max(1, samples)) for k, v in ranked]


def _runner_rate(db_url: str, threads: int, seconds: float) -> tuple[float, float]:
    """The V8 runner's own mutation rate in-process, on the pushed app (server stopped), and
    this process's CPU microseconds per mutation."""
    from dataplane.app import DeploymentApp
    from dataplane.config import DeploymentConfig

    with tempfile.TemporaryDirectory(prefix="strata-runner-") as tmp:
        config = DeploymentConfig(
            name="bench-reactive",
            data_dir=Path(tmp),
            database_url=db_url,
            instance_secret="bench",
            public_url="http://127.0.0.1:9",
        )
        dep = DeploymentApp(config)
        try:
            dep.code.current()
            runner = dep.runner

            def make(t: int) -> Any:
                def op(i: int) -> None:
                    runner.run_mutation(
                        "bench:create", {"room": f"r{t}", "seq": float(i), "body": BODY}
                    )

                return op

            return _rate_and_cpu(make, threads, seconds)
        finally:
            dep.close()


def _rate_and_cpu(make: Any, threads: int, seconds: float) -> tuple[float, float]:
    cpu0, start = cpu_seconds(), time.perf_counter()
    ops_per_s = rate_threads(make, threads, seconds)
    done = ops_per_s * (time.perf_counter() - start)
    return ops_per_s, (cpu_seconds() - cpu0) / max(1.0, done) * 1e6


def _raw_engine_rate(db_kind: str, threads: int, seconds: float) -> tuple[float, float]:
    with database_url(db_kind) as url:
        db = open_database(url)
        try:
            db.ensure_table("events")

            def make(t: int) -> Any:
                def op(i: int) -> None:
                    db.run_mutation(
                        lambda txn: txn.insert(
                            "events", {"room": f"w{t}", "seq": float(i), "body": BODY}
                        )
                    )

                return op

            return _rate_and_cpu(make, threads, seconds)
        finally:
            db.close()


# ----- (b) fan-out latency ---------------------------------------------------------------


@dataclass
class Latency:
    all_p50: float
    all_p99: float
    each_p50: float
    each_p99: float

    @classmethod
    def of(cls, rounds: list[list[float]]) -> Latency:
        alls = [max(r) for r in rounds if r]
        each = [x for r in rounds for x in r]
        return cls(
            percentile(alls, 50), percentile(alls, 99), percentile(each, 50), percentile(each, 99)
        )


async def _open_many(
    make: Callable[[int], Awaitable[T]], n: int, batch: int = 50, first: int = 0
) -> list[T]:
    """make(i) for i in first..first+n-1, `batch` at a time (the server is not flooded)."""
    out: list[T] = []
    for i in range(first, first + n, batch):
        out.extend(await asyncio.gather(*(make(j) for j in range(i, min(i + batch, first + n)))))
    return out


def transition_frame_size(room: str) -> int:
    """About the size of the Transition a `bench:latest` subscriber gets for one new event."""
    return len(
        orjson.dumps(
            {
                "type": "Transition",
                "startVersion": {"querySet": 1, "identity": 0, "ts": "AAAAAAAAAAA="},
                "endVersion": {"querySet": 1, "identity": 0, "ts": "AAAAAAAAAAA="},
                "modifications": [
                    {
                        "type": "QueryUpdated",
                        "queryId": 0,
                        "value": {
                            "_id": "x" * 32,
                            "_creationTime": 1.0,
                            "room": room,
                            "seq": 1.0,
                            "body": BODY,
                        },
                        "logLines": [],
                        "journal": None,
                    }
                ],
                "serverTs": 0,
            }
        )
    )


async def _fanout(
    url: str, n: int, rounds: int, *, writer_url: str | None = None, room: str | None = None
) -> tuple[Latency, int]:
    """N subscribers of bench:latest on `url`, the writer on `writer_url` (default: `url`)."""
    room = room or f"fan{n}"

    async def make(_: int) -> SyncClient:
        c = await SyncClient.open(url)
        await c.subscribe("bench:latest", {"room": room})
        return c

    subs = await _open_many(make, n)
    watchers = [asyncio.create_task(s.watch()) for s in subs]
    writer = await SyncClient.open(writer_url or url)
    samples: list[list[float]] = []
    for seq in range(1, rounds + 1):
        t0 = time.perf_counter()
        await writer.mutation("bench:create", {"room": room, "seq": float(seq), "body": BODY})
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline:
            if all(float(seq) in s.arrivals for s in subs):
                break
            await asyncio.sleep(0.001)
        samples.append([(s.arrivals[float(seq)] - t0) * 1000 for s in subs if seq in s.arrivals])
        await asyncio.sleep(0.05)
    frame_size = transition_frame_size(room)
    await writer.close()
    for s in subs:
        await s.close()
    for w in watchers:
        w.cancel()
    return Latency.of(samples), frame_size


@contextmanager
def bare_server() -> Iterator[tuple[str, int]]:
    """bench/reactive/broadcast_server.py on a free port, ready: (its ws:// URL, its pid)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "broadcast_server.py"), str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # "ready"
        yield f"ws://127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def _bare_fanout(n: int, rounds: int, frame_size: int) -> Latency:
    with bare_server() as (base, _pid):
        arrivals: list[dict[int, float]] = []

        async def make(_: int) -> ClientConnection:
            return await connect(base + "/sub", max_size=None, ping_interval=None)

        subs = await _open_many(make, n)

        async def watch(ws: ClientConnection, seen: dict[int, float]) -> None:
            try:
                async for raw in ws:
                    now = time.perf_counter()
                    seen[orjson.loads(raw)["seq"]] = now
            except websockets.ConnectionClosed:
                pass

        for _ in subs:
            arrivals.append({})
        tasks = [
            asyncio.create_task(watch(ws, seen)) for ws, seen in zip(subs, arrivals, strict=True)
        ]
        ctl = await connect(base + "/ctl", max_size=None, ping_interval=None)
        samples: list[list[float]] = []
        for seq in range(1, rounds + 1):
            head = orjson.dumps({"seq": seq, "pad": ""})
            pad = "p" * max(0, frame_size - len(head))
            payload = orjson.dumps({"seq": seq, "pad": pad}).decode()
            t0 = time.perf_counter()
            await ctl.send(payload)
            deadline = time.perf_counter() + 10
            while time.perf_counter() < deadline and not all(seq in a for a in arrivals):
                await asyncio.sleep(0.001)
            samples.append([(a[seq] - t0) * 1000 for a in arrivals if seq in a])
            await asyncio.sleep(0.05)
        await ctl.close()
        for ws in subs:
            await ws.close()
        for t in tasks:
            t.cancel()
        return Latency.of(samples)


# ----- (c) Parse Server ------------------------------------------------------------------

PARSE_DIR = HERE / "parse"


@dataclass
class ParseResults:
    create: dict[int, float]
    latency: dict[int, Latency]


def _run_parse(seconds: float, sizes: list[int], rounds: dict[int, int]) -> ParseResults:
    if not (PARSE_DIR / "node_modules" / "parse-server").exists():
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund"],
            cwd=PARSE_DIR,
            check=True,
            capture_output=True,
            timeout=600,
        )
    port = free_port()
    with database_url("postgres") as url:
        proc = subprocess.Popen(
            ["node", "server.js", str(port), url],
            cwd=PARSE_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert proc.stdout is not None
            while (line := proc.stdout.readline()) and line.strip() != "ready":
                pass
            if proc.poll() is not None:
                raise RuntimeError("Parse Server did not start")

            def workload(*args: str) -> Any:
                out = subprocess.run(
                    ["node", "bench.js", *args],
                    cwd=PARSE_DIR,
                    check=True,
                    capture_output=True,
                    text=True,
                    timeout=600,
                )
                return json.loads(out.stdout.strip().splitlines()[-1])

            create = {
                c: float(workload("create", str(port), str(seconds), str(c))["rate"])
                for c in (1, 8)
            }
            latency = {
                n: Latency.of(workload("live", str(port), str(n), str(rounds[n]))["samples"])
                for n in sizes
            }
            return ParseResults(create, latency)
        finally:
            proc.kill()  # it does not exit promptly on SIGTERM with open sockets
            proc.wait(timeout=15)


# ----- the command -----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reactive")
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--subscribers", default="100,1000")
    parser.add_argument("--no-parse", action="store_true", help="skip (c) Parse Server")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="record py-spy profiles of the server during (a) at 8 clients into DIR",
    )
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.subscribers.split(",") if x]

    print(
        f"bench.reactive  storage={args.db}  "
        f"(client and servers share this {os.cpu_count()}-core machine)"
    )
    rounds_for = {n: 50 if n <= 100 else 30 for n in sizes}
    latencies: dict[int, Latency] = {}
    sync_runs: dict[int, MutationRun] = {}
    with database_url(args.db) as url:
        with deployment(url) as dep:
            pid = dep.process.pid
            for clients in (1, 8):
                with _profiled(pid, args.profile if clients == 8 else None, "sync-8-clients"):
                    sync_runs[clients] = asyncio.run(
                        _mutation_run(dep.url, clients, args.seconds, pid)
                    )
            print("\n(b) write -> subscriber latency (ms), one query, N subscribers")
            print(
                f"{'N':<6}{'ours all p50/p99':>20}{'bare all p50/p99':>20}"
                f"{'ours each p50/p99':>20}{'bare each p50/p99':>20}{'p50 ratio':>10}"
            )
            for n in sizes:
                rounds = rounds_for[n]
                lat, frame = asyncio.run(_fanout(dep.url, n, rounds))
                bare = asyncio.run(_bare_fanout(n, rounds, frame))
                latencies[n] = lat
                print(
                    f"{n:<6}{lat.all_p50:>10.1f}/{lat.all_p99:<9.1f}"
                    f"{bare.all_p50:>10.1f}/{bare.all_p99:<9.1f}"
                    f"{lat.each_p50:>10.1f}/{lat.each_p99:<9.1f}"
                    f"{bare.each_p50:>10.1f}/{bare.each_p99:<9.1f}"
                    f"{lat.all_p50 / bare.all_p50:>10.2f}"
                )
        runner_runs = {c: _runner_rate(url, c, args.seconds) for c in (1, 8)}
    print("\n(a) mutation commits/s: sync WebSocket clients vs in-process V8 runner vs raw engine")
    print(
        f"{'clients':<9}{'sync/s':>9}{'runner/s':>10}{'engine/s':>10}"
        f"{'sync/runner':>13}{'sync/engine':>13}"
    )
    engine_runs = {c: _raw_engine_rate(args.db, c, args.seconds) for c in (1, 8)}
    for clients in (1, 8):
        ours, runner, raw = (
            sync_runs[clients].rate,
            runner_runs[clients][0],
            engine_runs[clients][0],
        )
        print(
            f"{clients:<9}{ours:>9,.0f}{runner:>10,.0f}{raw:>10,.0f}"
            f"{ours / runner:>13.2f}{ours / raw:>13.2f}"
        )
    print("CPU microseconds per commit (where the time goes; the database server's not counted)")
    print(f"{'clients':<9}{'sync server':>12}{'sync client':>12}{'runner':>9}{'engine':>9}")
    for clients in (1, 8):
        run = sync_runs[clients]
        print(
            f"{clients:<9}{run.server_us:>12,.0f}{run.client_us:>12,.0f}"
            f"{runner_runs[clients][1]:>9,.0f}{engine_runs[clients][1]:>9,.0f}"
        )
    if args.no_parse:
        print("\n(c) Parse Server: skipped (--no-parse)")
        return
    parse = _run_parse(args.seconds, sizes, rounds_for)
    print("\n(c) Parse Server 9 + LiveQuery on the same PostgreSQL server")
    print(f"{'clients':<9}{'ours sync/s':>12}{'parse saves/s':>15}{'ratio':>8}")
    for clients in (1, 8):
        ours, theirs = sync_runs[clients].rate, parse.create[clients]
        print(f"{clients:<9}{ours:>12,.0f}{theirs:>15,.0f}{ours / theirs:>8.2f}")
    print(f"{'N':<6}{'ours all p50/p99':>20}{'parse all p50/p99':>20}{'p50 ratio':>10}")
    for n in sizes:
        ours_lat, theirs_lat = latencies[n], parse.latency[n]
        print(
            f"{n:<6}{ours_lat.all_p50:>10.1f}/{ours_lat.all_p99:<9.1f}"
            f"{theirs_lat.all_p50:>10.1f}/{theirs_lat.all_p99:<9.1f}"
            f"{ours_lat.all_p50 / theirs_lat.all_p50:>10.2f}"
        )


if __name__ == "__main__":
    main()
