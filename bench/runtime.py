"""Function-call throughput vs a bare mini-racer call in the same run: `python -m bench.runtime`.

Runs the sample app (tests/apps/messages, bundled like the CLI does) on a SQLite deployment:
a trivial query (`messages:first`), a query returning 100 documents (`messages:list`) and a
mutation. The baselines are mini-racer's public API doing the least comparable work:
`eval("0")`, and `eval` of a script returning the same 100 documents as JSON.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import orjson
from py_mini_racer import MiniRacer

from dataplane.app import DeploymentApp
from dataplane.config import DeploymentConfig
from dataplane.runtime import RuntimeLimits, analyze_bundle, build_bundle
from dataplane.runtime.isolate import Isolate
from dataplane.transactions import IndexDefinition
from tests.apps.cli_bundle import cli_modules

from .common import Result, print_table, rate


def _deployment(tmp: Path) -> DeploymentApp:
    config = DeploymentConfig(
        name="bench-runtime",
        data_dir=tmp,
        database_url=f"sqlite:///{tmp / 'db.sqlite3'}",
        instance_secret="bench",
        public_url="http://127.0.0.1:0",
    )
    return DeploymentApp(config)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each phase")
    opts = parser.parse_args()

    bundle = build_bundle(cli_modules("messages"))
    analysis = analyze_bundle(bundle)
    with tempfile.TemporaryDirectory(prefix="strata-bench-") as tmp:
        dep = _deployment(Path(tmp))
        try:
            for table in (analysis.schema or {}).get("tables", []):
                defs = [
                    IndexDefinition(i["indexDescriptor"], i["fields"]) for i in table["indexes"]
                ]
                dep.db.ensure_table(table["tableName"])
                dep.db.set_indexes(table["tableName"], defs)
            runner = dep.runner
            runner.activate(bundle, analysis, {})

            def fill(txn: object) -> None:
                for i in range(100):
                    txn.insert(  # type: ignore[attr-defined]
                        "messages",
                        {"channel": "bench", "author": "a", "body": f"message {i}", "likes": 0.0},
                    )

            dep.db.run_mutation(fill)
            hundred = runner.run_query("messages:list", {"channel": "bench"}).value
            assert len(hundred) == 100
            sample = orjson.dumps(hundred).decode()

            mr = MiniRacer()
            mr.eval(f"globalThis.docs = {sample};")
            raw_trivial = rate(lambda _i: mr.eval("0"), opts.seconds)
            raw_hundred = rate(lambda _i: mr.eval("JSON.stringify(docs)"), opts.seconds)
            trivial = rate(lambda _i: runner.run_query("messages:first", {}), opts.seconds)
            list100 = rate(
                lambda _i: runner.run_query("messages:list", {"channel": "bench"}), opts.seconds
            )
            mutation = rate(
                lambda i: runner.run_mutation(
                    "messages:send", {"channel": "w", "author": "a", "body": f"b{i}"}
                ),
                opts.seconds,
            )
            mr.close()
            limits = RuntimeLimits()
            cold = rate(lambda _i: Isolate(bundle, {}, limits).close(), opts.seconds, 200)
            raw_cold = rate(lambda _i: MiniRacer().close(), opts.seconds, 200)
        finally:
            dep.close()
    print_table(
        "Function calls/s (1 thread) vs bare mini-racer eval in the same run",
        [
            Result("query messages:first vs eval('0')", trivial, raw_trivial),
            Result("query 100 docs vs eval('0')", list100, raw_trivial),
            Result("query 100 docs vs eval(JSON 100)", list100, raw_hundred),
            Result("mutation send (commit) vs eval('0')", mutation, raw_trivial),
            Result("cold isolate+bundle vs MiniRacer()", cold, raw_cold),
        ],
    )


if __name__ == "__main__":
    main()
