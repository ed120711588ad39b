"""The kubernetes driver's settings, read by a real `manage.py`: parsed, and a bad value
answered with one clear line."""

from __future__ import annotations

from pathlib import Path

from .test_security_config import manage, setting


def test_kubernetes_settings_are_parsed_and_validated(tmp_path: Path) -> None:
    ok = setting(
        tmp_path,
        "STRATA_K8S_EGRESS_SERVICES",
        STRATA_K8S_EGRESS_SERVICES="strata-data/deployments-postgres:5432, strata-data/redis:6379",
    )
    assert (
        "VALUE=('strata-data/deployments-postgres:5432', 'strata-data/redis:6379')" in ok.stdout
    ), ok.stderr
    replicas = setting(tmp_path, "STRATA_K8S_REPLICAS", STRATA_K8S_REPLICAS="3")
    assert "VALUE=3" in replicas.stdout, replicas.stderr
    for name, value, message in [
        ("STRATA_K8S_EGRESS_SERVICES", "postgres:5432", "'postgres:5432' is not namespace/"),
        ("STRATA_K8S_EGRESS_NETWORKS", "10.0.0.0/8,db.internal", "'db.internal' is neither"),
        ("STRATA_K8S_REPLICAS", "0", "STRATA_K8S_REPLICAS must be an integer >= 1"),
    ]:
        r = manage(tmp_path, "check", **{name: value})
        assert r.returncode != 0 and message in r.stderr, (name, r.stderr)
        assert "Traceback" not in r.stderr
