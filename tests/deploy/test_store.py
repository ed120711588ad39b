"""Module, config and env-var storage in system tables (real SQLite and Postgres)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dataplane.deploy import envvars, store
from dataplane.deploy.errors import DeployError
from dataplane.transactions import open_database


def test_modules_round_trip_with_chunking_and_cleanup(any_db_url: str) -> None:
    db = open_database(any_db_url)
    try:
        store.ensure_tables(db)
        big = os.urandom(900_000).hex()  # ~1.8 MB: several chunks even compressed
        mods = [
            store.StoredModule("a.js", "export const a = 1;", None, "isolate"),
            store.StoredModule("_deps/X.js", big, '{"version":3}', "isolate"),
        ]
        (added, removed), _ = db.run_mutation(lambda t: store.replace_modules(t, mods))
        assert (added, removed) == (["_deps/X.js", "a.js"], [])
        loaded = store.load_modules(db.begin())
        assert loaded == sorted(mods, key=lambda m: m.path)
        blobs = list(db.begin().table_scan(store.BLOBS_TABLE))
        assert len(blobs) > 2

        replacement = [store.StoredModule("b.js", "export const b = 2;", None, "isolate")]
        (added, removed), _ = db.run_mutation(lambda t: store.replace_modules(t, replacement))
        assert (added, removed) == (["b.js"], ["_deps/X.js", "a.js"])
        assert store.load_modules(db.begin()) == replacement
        assert len(list(db.begin().table_scan(store.BLOBS_TABLE))) == 1
        sha = replacement[0].sha256
        assert store.load_module_source(db.begin(), sha) == replacement[0]
        assert store.load_module_source(db.begin(), "f" * 64) is None
    finally:
        db.close()


def test_config_round_trip(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        store.ensure_tables(db)
        assert store.load_config(db.begin()) is None
        config = store.DeployedConfig(
            schema={"tables": [], "schemaValidation": True},
            auth_info=[{"domain": "https://a.example", "applicationID": "x"}],
            push_id="p1",
        )
        db.run_mutation(lambda t: store.save_config(t, config))
        db.run_mutation(lambda t: store.save_config(t, store.DeployedConfig(push_id="p2")))
        loaded = store.load_config(db.begin())
        assert loaded is not None and loaded.push_id == "p2" and loaded.schema is None
        assert len(list(db.begin().table_scan(store.CONFIG_TABLE))) == 1
    finally:
        db.close()


def test_env_vars_set_change_delete_and_rules(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        changes = envvars.parse_changes(
            {"changes": [{"name": "A", "value": "1"}, {"name": "B_2", "value": "x y"}]}
        )
        assert envvars.update(db, changes) == {"A": "1", "B_2": "x y"}
        assert envvars.update(db, [("A", "2"), ("B_2", None), ("A", "3")]) == {"A": "3"}
        for bad, message in [
            ({"changes": [{"name": "1A", "value": "v"}]}, "must start with a letter"),
            ({"changes": [{"name": "A-B", "value": "v"}]}, "letters, digits and underscores"),
            ({"changes": [{"name": "A" * 41, "value": "v"}]}, "longer than 40"),
            ({"changes": [{"name": "A", "value": "v" * 9000}]}, "larger than"),
            ({"changes": [{"name": "A", "value": 5}]}, "string value"),
            ({"changes": [{"name": "CONVEX_SITE_URL", "value": "x"}]}, "built in"),
            ({"nope": []}, "changes"),
        ]:
            with pytest.raises(DeployError, match=message):
                envvars.parse_changes(bad)
        with pytest.raises(DeployError, match="at most 100"):
            envvars.update(db, [(f"V{i}", "x") for i in range(101)])
        assert store.load_env(db.begin()) == {"A": "3"}
    finally:
        db.close()
