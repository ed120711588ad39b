"""`python -m dataplane serve`: run one deployment's server (what supervisors start)."""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dataplane")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve one deployment over HTTP and WebSocket")
    serve.add_argument("--host", default=os.environ.get("STRATA_DP_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("STRATA_DP_PORT", "3210")))
    args = parser.parse_args(argv)

    os.environ["STRATA_DP_PORT"] = str(args.port)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dataplane.settings")
    from daphne.cli import CommandLineInterface

    from dataplane.deploy.activation import active_app
    from dataplane.deployment import current_deployment
    from dataplane.usage import start_usage_reporting

    # Fail fast on bad configuration and restore the deployed code before binding the port,
    # so WebSocket-only clients find their functions right after a restart.
    deployment = current_deployment()
    active_app(deployment)
    start_usage_reporting(deployment)  # no-op unless STRATA_DP_USAGE_URL is set
    # Re-scans pending jobs left by a previous process; on a replica, once it takes over.
    deployment.when_committer(deployment.scheduler.start)
    try:
        CommandLineInterface().run(
            ["-b", args.host, "-p", str(args.port), "--proxy-headers", "dataplane.asgi:application"]
        )
    finally:
        # A graceful stop saves vector indexes and flushes the scheduler and storage cleanly.
        deployment.close()


if __name__ == "__main__":
    main(sys.argv[1:])
