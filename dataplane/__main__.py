"""`python -m dataplane serve`: run one deployment's server (what supervisors start)."""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> None:
    from dataplane.config import ConfigError, DeploymentConfig

    parser = argparse.ArgumentParser(prog="python -m dataplane")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve one deployment over HTTP and WebSocket")
    serve.add_argument("--host", help="interface to bind (default STRATA_DP_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default STRATA_DP_PORT or 3210)")
    args = parser.parse_args(argv)

    environ = dict(os.environ)
    if args.port is not None:
        environ["STRATA_DP_PORT"] = str(args.port)
    if args.host is not None:
        environ["STRATA_DP_HOST"] = args.host
    try:
        config = DeploymentConfig.from_env(environ)
    except ConfigError as exc:
        parser.exit(2, f"python -m dataplane: {exc}\n")

    # This process is a data plane whatever the caller's environment says.
    os.environ["DJANGO_SETTINGS_MODULE"] = "dataplane.settings"
    from dataplane.app import DeploymentApp
    from dataplane.serving import build_server, tune_gc

    # Fail fast on bad configuration and restore the deployed code before binding the port.
    app = DeploymentApp(config).start()
    try:
        server = build_server(app)
        tune_gc()
        server.run()
    finally:
        # A graceful stop saves vector indexes and flushes the scheduler and storage cleanly.
        app.close()


if __name__ == "__main__":
    main(sys.argv[1:])
