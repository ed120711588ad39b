"""A live deployment with the sync test app pushed by the official CLI (for tests/compat)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.compat.conftest import ConvexCli, Server, start_server

JWT_ISSUER = "https://issuer.strata.test"
JWT_APP_ID = "strata-tests"
JWT_KID = "test-key"


def auth_config_for(private_key: Any) -> str:
    """An auth.config.ts trusting `private_key` (customJwt, JWKS inlined as a data: URL)."""
    import base64

    import jwt
    import orjson

    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    jwks = {"keys": [{**jwk, "kid": JWT_KID, "alg": "RS256", "use": "sig"}]}
    data_url = (
        "data:text/plain;charset=utf-8;base64," + base64.b64encode(orjson.dumps(jwks)).decode()
    )
    return (
        f"export default {{ providers: [{{ type: 'customJwt', applicationID: '{JWT_APP_ID}', "
        f"issuer: '{JWT_ISSUER}', jwks: '{data_url}', algorithm: 'RS256' }}] }};\n"
    )


def user_token(private_key: Any, sub: str) -> str:
    import time

    import jwt

    now = int(time.time())
    claims = {
        "iss": JWT_ISSUER,
        "sub": sub,
        "aud": JWT_APP_ID,
        "iat": now,
        "exp": now + 600,
        "name": "Test User",
        "email": f"{sub}@example.com",
    }
    return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": JWT_KID})


REPO = Path(__file__).resolve().parents[2]
JS_DIR = REPO / "tests" / "compat" / "js"
APP = JS_DIR / "syncapp"


@dataclass
class LiveApp:
    server: Server
    cli: ConvexCli
    root: Path

    @property
    def url(self) -> str:
        return self.server.url

    def restart(self) -> None:
        """Stop the server and start it again on the same port and data directory."""
        port = int(self.server.url.rsplit(":", 1)[1])
        self.server.stop()
        self.server = start_server(self.server.data_dir, name=self.server.name, port=port)
        self.cli.server = self.server


def _start(root: Path, database_url: str, extra_env: dict[str, str] | None) -> Server:
    """start_server; extra STRATA_DP_* settings go to the server process only (it does not
    inherit them from this process), by wrapping the Popen it makes."""
    if not extra_env:
        return start_server(root / "deployment", database_url=database_url)
    popen = subprocess.Popen

    def with_env(args: Any, **kwargs: Any) -> Any:
        kwargs["env"] = {**kwargs.get("env", {}), **extra_env}
        return popen(args, **kwargs)

    conftest_subprocess = start_server.__globals__["subprocess"]
    conftest_subprocess.Popen = with_env
    try:
        return start_server(root / "deployment", database_url=database_url)
    finally:
        conftest_subprocess.Popen = popen


def deploy_sync_app(
    root: Path,
    *,
    database_url: str = "",
    auth_config: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> LiveApp:
    """Start a server under `root` and push tests/compat/js/syncapp to it with the CLI."""
    server = _start(root, database_url, extra_env)
    try:
        app_dir = root / "work" / "syncapp"
        shutil.copytree(APP, app_dir)
        if auth_config is not None:
            (app_dir / "convex" / "auth.config.ts").write_text(auth_config)
        (app_dir / "package.json").write_text(
            json.dumps({"name": "syncapp", "private": True, "dependencies": {"convex": "1.48.0"}})
        )
        (app_dir / "node_modules").symlink_to(REPO / "node_modules")
        (root / "work" / "home").mkdir(exist_ok=True)
        cli = ConvexCli(server, app_dir)
        cli.deploy()
    except BaseException:
        server.stop()
        raise
    return LiveApp(server, cli, root)


def run_scenario(app: LiveApp, name: str, *args: str, timeout: float = 90) -> list[dict]:
    """Run one scenario of tests/compat/js/scenarios.mjs; returns its JSON lines."""
    proc = subprocess.run(
        ["node", str(JS_DIR / "scenarios.mjs"), name, app.url, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines or lines[-1] != {"ok": True}:
        raise AssertionError(
            f"scenario {name} failed ({proc.returncode}):\nstdout:\n{proc.stdout}\n"
            f"stderr:\n{proc.stderr[-4000:]}\nserver log:\n{app.server.log()[-4000:]}"
        )
    return lines[:-1]
