"""The official npm `convex` CLI and clients against a real data-plane server process."""

from __future__ import annotations

import base64
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from convex import ConvexError
from convex.http_client import ConvexExecutionError, ConvexHttpClient
from convex.values import ConvexInt64
from cryptography.hazmat.primitives.asymmetric import rsa

from contract.keys import mint_key

from .conftest import ConvexCli, Server, copy_app, start_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ConvexCli, str]]:
    """One server with tests/apps/deploy_app deployed by `npx convex deploy`."""
    tmp = tmp_path_factory.mktemp("deployed")
    server = start_server(tmp / "deployment")
    try:
        cli = ConvexCli(server, copy_app("deploy_app", tmp / "work"))
        out = cli.deploy()
        yield cli, out.stdout + out.stderr
    finally:
        server.stop()


def post(server: Server, endpoint: str, body: object, admin: bool = False) -> httpx.Response:
    headers = {"Authorization": f"Convex {server.admin_key}"} if admin else {}
    return httpx.post(server.url + endpoint, json=body, headers=headers, timeout=60)


def test_deploy_reports_indexes_and_functions_run(deployed: tuple[ConvexCli, str]) -> None:
    cli, output = deployed
    assert "Added table indexes" in output
    assert "tasks.by_owner_done" in output
    client = ConvexHttpClient(cli.server.url)
    task_id = client.mutation(
        "tasks:add", {"owner": "ann", "text": "ship", "priority": ConvexInt64(3)}
    )
    assert isinstance(task_id, str)
    assert client.query("tasks:list", {"owner": "ann"}) == [
        {"text": "ship", "done": False, "priority": ConvexInt64(3)}
    ]
    client.mutation("tasks:complete", {"id": task_id})
    assert client.query("tasks:open", {"owner": "ann"}) == []
    with pytest.raises(ConvexError) as info:
        client.mutation("tasks:add", {"owner": "ann", "text": "  "})
    assert info.value.data == {"code": "EMPTY_TEXT", "owner": "ann"}
    with pytest.raises(ConvexExecutionError, match=r"ArgumentValidationError|does not match"):
        client.query("tasks:list", {"owner": 5})


def test_actions_call_queries_and_mutations(deployed: tuple[ConvexCli, str]) -> None:
    server = deployed[0].server
    post(server, "/api/mutation", {"path": "tasks:add", "args": {"owner": "cy", "text": "a"}})
    r = post(
        server,
        "/api/action",
        {"path": "tasks:report", "args": [{"owner": "cy"}], "format": "convex_encoded_json"},
    )
    body = r.json()
    assert r.status_code == 200 and body["status"] == "success", body
    assert body["value"]["mine"] == 1
    assert body["value"]["written"] == len(f"cy has 1 of {int(body['value']['total'])} tasks")


def test_internal_functions_need_admin(deployed: tuple[ConvexCli, str]) -> None:
    server = deployed[0].server
    public = post(server, "/api/query", {"path": "tasks:countAll", "args": {}}).json()
    assert public["status"] == "error"
    assert "Could not find public function for 'tasks:countAll'" in public["errorMessage"]
    admin = post(server, "/api/function", {"path": "tasks:countAll", "args": {}}, admin=True)
    assert admin.json()["status"] == "success"
    bad_key = httpx.post(
        server.url + "/api/function",
        json={"path": "tasks:countAll", "args": {}},
        headers={"Authorization": "Convex other-deployment|abc.def"},
    )
    assert bad_key.status_code == 401
    assert bad_key.json()["code"] == "Unauthenticated"


def test_acting_as_and_user_auth(deployed: tuple[ConvexCli, str]) -> None:
    cli = deployed[0]
    ran = cli.run(
        "run",
        "tasks:whoami",
        "{}",
        "--identity",
        '{"subject": "u1", "issuer": "https://i.example", "name": "Uma"}',
    )
    assert '"subject": "u1"' in ran.stdout and '"name": "Uma"' in ran.stdout
    anonymous = post(cli.server, "/api/query", {"path": "tasks:whoami", "args": {}}).json()
    assert anonymous == {"status": "success", "value": None}
    bad_jwt = httpx.post(
        cli.server.url + "/api/query",
        json={"path": "tasks:whoami", "args": {}},
        headers={"Authorization": "Bearer not-a-jwt"},
    )
    assert bad_jwt.status_code == 401


def test_refused_tokens_answer_convex_error_codes(deployed: tuple[ConvexCli, str]) -> None:
    """A refused JWT answers 401 with Convex's code (InvalidAuthHeader, NoAuthProvider), which
    the npm client surfaces as the JSON body; HTTP actions still run and their
    ctx.auth.getUserIdentity() throws."""
    server = deployed[0].server
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    stranger = jwt.encode(
        {"iss": "https://elsewhere.example", "sub": "s", "aud": "convex", "exp": now + 60},
        key,
        algorithm="RS256",
        headers={"kid": "k"},
    )
    for token, code in (("not.a.jwt", "InvalidAuthHeader"), (stranger, "NoAuthProvider")):
        answer = httpx.post(
            server.url + "/api/query",
            json={"path": "tasks:whoami", "args": {}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 401
        assert answer.json()["code"] == code
    body = httpx.post(
        server.url + "/api/query",
        json={"path": "tasks:whoami", "args": {}},
        headers={"Authorization": f"Bearer {stranger}"},
    ).json()
    assert "OIDC(domain=https://issuer.example.com, app_id=convex)" in body["message"]

    assert httpx.get(server.url + "/http/whoami").json() == {"identity": None, "header": None}
    for header in ("Bearer helloworld", "a"):
        answer = httpx.get(server.url + "/http/whoami", headers={"Authorization": header})
        assert answer.status_code == 200
        result = answer.json()
        assert result["header"] == header
        assert isinstance(result["identity"], dict) and result["identity"]["error"]


def test_system_queries_and_key_scopes(deployed: tuple[ConvexCli, str]) -> None:
    server = deployed[0].server
    body = {"path": "_system/cli/queryEnvironmentVariables", "args": {}, "format": "json"}
    full = post(server, "/api/function", body, admin=True)
    assert full.status_code == 200 and isinstance(full.json()["value"], list)
    assert post(server, "/api/function", body).json()["status"] == "error"  # not admin
    secret = server.env["STRATA_DP_INSTANCE_SECRET"]
    deploy_only = mint_key(server.name, secret, actions=frozenset({"deploy"}))
    scoped = httpx.post(
        server.url + "/api/function",
        json=body,
        headers={"Authorization": f"Convex {deploy_only}"},
    )
    assert scoped.status_code == 403 and "'env' scope" in scoped.json()["message"]
    spec = httpx.post(
        server.url + "/api/function",
        json={"path": "_system/cli/modules:apiSpec", "args": {}},
        headers={"Authorization": f"Convex {deploy_only}"},
    ).json()["value"]
    assert {"functionType": "Query", "identifier": "tasks.js:list"}.items() <= next(
        f for f in spec if f.get("identifier") == "tasks.js:list"
    ).items()
    size = post(
        server,
        "/api/function",
        {"path": "_system/cli/tableSize:default", "args": {"tableName": "tasks"}},
        admin=True,
    ).json()
    assert size["status"] == "success" and float(size["value"]) >= 0


def test_http_api_rules(deployed: tuple[ConvexCli, str]) -> None:
    server = deployed[0].server
    wrong = post(server, "/api/query", {"path": "tasks:add", "args": {}}).json()
    assert "as Query, but it is defined as Mutation" in wrong["errorMessage"]
    missing = post(server, "/api/query", {"path": "nope:fn", "args": {}}).json()
    assert missing["status"] == "error" and "Could not find" in missing["errorMessage"]
    bad_json = httpx.post(server.url + "/api/query", content=b"{not json")
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json()["message"]
    bad_path = post(server, "/api/query", {"path": "", "args": {}})
    assert bad_path.status_code == 400
    bad_value = post(server, "/api/query", {"path": "tasks:list", "args": {"$bad": 1}})
    assert bad_value.status_code == 400
    assert httpx.get(server.url + "/api/mutation").status_code == 405

    post(server, "/api/mutation", {"path": "tasks:add", "args": {"owner": "di", "text": "t"}})
    got = httpx.get(
        server.url + "/api/query",
        params={"path": "tasks:open", "args": '{"owner":"di"}', "format": "json"},
    ).json()
    assert got == {"status": "success", "value": ["t"]}
    run = httpx.post(server.url + "/api/run/tasks/open", json={"args": {"owner": "di"}}).json()
    assert run["value"] == ["t"]
    clean = post(server, "/api/query", {"path": "tasks:list", "args": {"owner": "di"}}).json()
    assert clean["logLines"] == ["[LOG] 'listing' 'di' 1"]

    preflight = httpx.options(
        server.url + "/api/query",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,convex-client",
        },
    )
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert preflight.headers["access-control-allow-headers"] == "content-type,convex-client"


def test_timestamped_queries(deployed: tuple[ConvexCli, str]) -> None:
    server = deployed[0].server
    post(server, "/api/mutation", {"path": "tasks:add", "args": {"owner": "ed", "text": "one"}})
    ts = httpx.post(server.url + "/api/query_ts").json()["ts"]
    assert len(base64.b64decode(ts)) == 8
    post(server, "/api/mutation", {"path": "tasks:add", "args": {"owner": "ed", "text": "two"}})
    at = post(
        server, "/api/query_at_ts", {"path": "tasks:open", "args": {"owner": "ed"}, "ts": ts}
    ).json()
    assert at["value"] == ["one"]
    batch = post(
        server,
        "/api/query_batch",
        {
            "queries": [
                {"path": "tasks:open", "args": {"owner": "ed"}},
                {"path": "tasks:countAll", "args": {}},
            ]
        },
    ).json()
    assert batch["results"][0]["value"] == ["one", "two"]
    assert "Could not find public function" in batch["results"][1]["errorMessage"]
    future = base64.b64encode(struct.pack("<Q", 2**63)).decode()
    err = post(server, "/api/query_at_ts", {"path": "tasks:open", "args": {}, "ts": future})
    assert err.status_code == 400


def test_http_actions_served_under_http(deployed: tuple[ConvexCli, str]) -> None:
    server = deployed[0].server
    hello = httpx.get(server.url + "/http/hello", params={"who": "bob"})
    assert hello.status_code == 200
    assert hello.text.endswith(", bob")
    assert hello.headers["x-strata"] == "yes"
    created = httpx.post(server.url + "/http/tasks", json={"owner": "fay", "text": "via http"})
    assert created.status_code == 201 and created.json()["count"] == 1
    assert httpx.get(server.url + "/http/missing").status_code == 404


def test_cli_run_env_and_logs(deployed: tuple[ConvexCli, str]) -> None:
    cli = deployed[0]
    cli.run("env", "set", "GREETING", "howdy")
    assert (
        post(cli.server, "/api/query", {"path": "tasks:greeting", "args": {}}).json()["value"]
        == "howdy"
    )
    assert httpx.get(cli.server.url + "/http/hello", params={"who": "x"}).text == "howdy, x"
    # `env list` and `env get` read through system queries over the WebSocket.
    assert "GREETING=howdy" in cli.run("env", "list").stdout
    assert cli.run("env", "get", "GREETING").stdout.strip() == "howdy"
    added = cli.run("run", "tasks:add", '{"owner": "gus", "text": "from cli"}')
    assert added.returncode == 0
    listed = cli.run("run", "tasks:open", '{"owner": "gus"}')
    assert '"from cli"' in listed.stdout
    internal = cli.run("run", "tasks:countAll")
    assert float(internal.stdout.strip()) >= 1
    cli.run("env", "remove", "GREETING")
    after = post(cli.server, "/api/query", {"path": "tasks:greeting", "args": {}}).json()
    assert after == {"status": "success", "value": None}
    bad = cli.run("env", "set", "1BAD", "x", check=False)
    assert bad.returncode != 0 and "must start with a letter" in bad.stderr
    missing = cli.run("run", "tasks:nope", check=False)
    assert missing.returncode != 0 and "Could not find function" in missing.stderr

    marker = "'listing' 'logwatcher' 0"
    logs = cli.popen("logs")
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(logs.stdout.readline, "")))
    reader.start()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not any(marker in line for line in lines):
            post(cli.server, "/api/query", {"path": "tasks:list", "args": {"owner": "logwatcher"}})
            time.sleep(1)
    finally:
        logs.terminate()
        logs.wait(timeout=15)
        reader.join(timeout=15)
    assert any(marker in line and "tasks:list" in line for line in lines), lines


SCHEMA_TEXT_NUMBER = """
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
export default defineSchema({
  tasks: defineTable({ owner: v.string(), text: v.number(), done: v.boolean(),
                       priority: v.optional(v.int64()) }).index("by_owner", ["owner"]),
  notes: defineTable({ body: v.string() }),
});
"""

SCHEMA_ONE_INDEX = SCHEMA_TEXT_NUMBER.replace("text: v.number()", "text: v.string()")


def test_cli_schema_errors_and_index_removal(dataplane_server: Server, tmp_path: Path) -> None:
    cli = ConvexCli(dataplane_server, copy_app("deploy_app", tmp_path / "work"))
    cli.deploy()
    cli.run("run", "tasks:add", '{"owner": "hal", "text": "words"}')
    schema = cli.app_dir / "convex" / "schema.ts"

    schema.write_text(SCHEMA_TEXT_NUMBER)
    failed = cli.deploy(check=False)
    assert failed.returncode != 0
    assert "Schema validation failed" in failed.stderr
    assert 'in table "tasks" does not match the schema' in failed.stderr
    still = post(dataplane_server, "/api/query", {"path": "tasks:open", "args": {"owner": "hal"}})
    assert still.json()["value"] == ["words"]

    schema.write_text(SCHEMA_ONE_INDEX)
    ok = cli.deploy()
    assert "Deleted table indexes" in ok.stdout + ok.stderr
    assert "tasks.by_owner_done" in ok.stdout + ok.stderr
    # `open` uses the dropped index: it now fails with the index error, the data is intact.
    gone = post(dataplane_server, "/api/query", {"path": "tasks:open", "args": {"owner": "hal"}})
    assert gone.json()["status"] == "error"
    listed = post(dataplane_server, "/api/query", {"path": "tasks:list", "args": {"owner": "hal"}})
    assert listed.json()["value"][0]["text"] == "words"

    broken = cli.app_dir / "convex" / "broken.ts"
    broken.write_text('throw new Error("kaboom at import");\nexport const x = 1;\n')
    bad = cli.deploy(check=False)
    assert bad.returncode != 0
    assert "kaboom at import" in bad.stderr


def test_cli_rejects_a_wrong_admin_key(dataplane_server: Server, tmp_path: Path) -> None:
    cli = ConvexCli(dataplane_server, copy_app("deploy_app", tmp_path / "work"))
    cli.server = Server(
        dataplane_server.url,
        "test-deployment|forged.signature",
        dataplane_server.name,
        dataplane_server.data_dir,
        dataplane_server.process,
        dataplane_server.log_path,
    )
    result = cli.deploy(check=False)
    assert result.returncode != 0
    assert "admin key is invalid" in result.stderr
