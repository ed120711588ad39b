"""build_bundle / analyze_bundle on the real CLI module format (code-split ESM with _deps)."""

from __future__ import annotations

import pytest

from dataplane.runtime import (
    AnalyzeError,
    AppAnalysis,
    Bundle,
    BundleError,
    ModuleSource,
    analyze_bundle,
    build_bundle,
)
from tests.apps.cli_bundle import cli_modules


def test_cli_push_is_code_split_esm() -> None:
    mods = cli_modules("messages")
    paths = {m.path for m in mods}
    assert {"messages.js", "env.js", "http.js", "lib/format.js", "schema.js"} <= paths
    assert any(p.startswith("_deps/") for p in paths)
    messages = next(m for m in mods if m.path == "messages.js")
    assert 'from "./_deps/' in messages.source
    assert messages.source_map is not None


def test_bundle_exposes_every_entry_module(messages_bundle: Bundle) -> None:
    assert "messages.js" in messages_bundle.entry_modules
    assert "lib/format.js" in messages_bundle.entry_modules
    assert not any(p.startswith("_deps/") for p in messages_bundle.entry_modules)
    assert "export " not in messages_bundle.script.split("\n", 1)[0]
    assert messages_bundle.digest


def test_analysis_reports_functions_routes_and_schema(messages_analysis: AppAnalysis) -> None:
    send = messages_analysis.function("messages:send")
    assert send is not None and send.kind == "mutation" and send.visibility == "public"
    assert send.args is not None and '"channel"' in send.args
    assert send.returns is not None and '"id"' in send.returns
    assert messages_analysis.function("messages.js:list") is not None
    internal = messages_analysis.function("messages:secretCount")
    assert internal is not None and internal.visibility == "internal"
    assert messages_analysis.function("messages:nope") is None
    routes = {(r.path, r.method): r.function for r in messages_analysis.routes}
    assert set(routes) == {("/echo", "POST"), ("/channel/*", "GET")}
    assert routes[("/echo", "POST")] is None  # inline handlers are not exported functions
    schema = messages_analysis.schema
    assert schema is not None
    tables = {t["tableName"]: t for t in schema["tables"]}
    assert [ix["indexDescriptor"] for ix in tables["messages"]["indexes"]] == [
        "by_channel",
        "by_author_channel",
    ]


def test_relative_imports_between_plain_modules() -> None:
    mods = [
        ModuleSource("a.js", 'import { twice } from "./lib/b.js";\nexport const x = twice(21);'),
        ModuleSource("lib/b.js", "export function twice(n) { return n * 2; }"),
    ]
    bundle = build_bundle(mods)
    assert bundle.entry_modules == ("a.js", "lib/b.js")


@pytest.mark.parametrize(
    "path", ["../evil.js", "/abs.js", "a/../../b.js", "no_ext", "sp ace.js", ""]
)
def test_bad_module_paths_are_rejected(path: str) -> None:
    with pytest.raises(BundleError, match="Invalid module path"):
        build_bundle([ModuleSource(path, "export const x = 1;")])


def test_imports_outside_the_push_are_rejected() -> None:
    here = __file__
    mods = [ModuleSource("a.js", f'import * as m from "{here.replace(".py", "")}_x.js";')]
    with pytest.raises(BundleError):
        build_bundle(mods)
    stolen = [ModuleSource("a.js", 'export * from "../../../../../../../../etc/hostname";')]
    with pytest.raises(BundleError):
        build_bundle(stolen)
    bare = [ModuleSource("a.js", 'import { v } from "convex/values"; export const x = v;')]
    with pytest.raises(BundleError, match="convex/values"):
        build_bundle(bare)


def test_syntax_error_is_reported_with_module_name() -> None:
    with pytest.raises(BundleError, match=r"broken\.js"):
        build_bundle([ModuleSource("broken.js", "export const = ;")])


def test_node_modules_are_kept_out_of_the_isolate_bundle() -> None:
    mods = [
        ModuleSource("a.js", "export const x = 1;"),
        ModuleSource("n.js", 'import fs from "node:fs"; export const y = fs;', None, "node"),
    ]
    bundle = build_bundle(mods)
    assert bundle.node_modules == ("n.js",)
    assert bundle.entry_modules == ("a.js",)


def test_top_level_throw_fails_analysis() -> None:
    bundle = build_bundle([ModuleSource("a.js", 'throw new Error("boom at load");')])
    with pytest.raises(AnalyzeError, match="boom at load"):
        analyze_bundle(bundle)


def test_auth_config_reads_env_at_load() -> None:
    src = "export default { providers: [{ domain: process.env.ISSUER, applicationID: 'app' }] };"
    bundle = build_bundle([ModuleSource("auth.config.js", src)])
    analysis = analyze_bundle(bundle, {"ISSUER": "https://issuer.example"})
    assert analysis.auth_config == {
        "providers": [{"domain": "https://issuer.example", "applicationID": "app"}]
    }


def test_crons_are_reported(messages_analysis: AppAnalysis) -> None:
    crons = messages_analysis.crons
    assert set(crons) == {"post heartbeat", "nightly"}
    beat = crons["post heartbeat"]
    assert beat["name"] == "messages:internalSend"
    assert beat["schedule"] == {"type": "interval", "minutes": 5}
    assert beat["args"] == [{"body": "beat"}]
    assert crons["nightly"]["schedule"]["type"] == "daily"
