"""Start-up configuration checks, run as real `manage.py` processes: the secret key, the
control-plane database's file mode, and malformed settings answered with a clear error."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PRINT_KEY = "from django.conf import settings; print('KEY=' + settings.SECRET_KEY)"


def manage(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run manage.py with a clean Strata environment (nothing inherited but the basics)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("STRATA_", "DATABASE_URL"))}
    base.update({"STRATA_DATA_DIR": str(data_dir), "REDIS_URL": "", **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.umask(0o022),
    )


def printed_key(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return next(line[4:] for line in result.stdout.splitlines() if line.startswith("KEY="))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_start_creates_a_private_random_key_and_later_starts_reuse_it(
    tmp_path: Path,
) -> None:
    # What scripts/up runs first: migrate, on a fresh data directory.
    assert manage(tmp_path, "migrate", "--no-input").returncode == 0
    key_file = tmp_path / "secret_key"
    assert key_file.is_file() and mode(key_file) == 0o600
    first = printed_key(manage(tmp_path, "shell", "-c", PRINT_KEY))
    assert first == key_file.read_text().strip()
    assert len(first) >= 50 and first != "dev-insecure-change-me"
    assert printed_key(manage(tmp_path, "shell", "-c", PRINT_KEY)) == first
    # Another data directory gets another key: nothing is shared by default.
    assert printed_key(manage(tmp_path / "other", "shell", "-c", PRINT_KEY)) != first


def test_production_refuses_a_missing_default_or_weak_key(tmp_path: Path) -> None:
    missing = manage(tmp_path, "check", STRATA_ENV="production")
    assert missing.returncode != 0
    assert "STRATA_SECRET_KEY" in missing.stderr and "Traceback" not in missing.stderr
    assert not (tmp_path / "secret_key").exists()  # production never invents a key

    default = manage(
        tmp_path, "check", STRATA_ENV="production", STRATA_SECRET_KEY="dev-insecure-change-me"
    )
    assert default.returncode != 0 and "default secret key" in default.stderr

    weak = manage(tmp_path, "check", STRATA_ENV="production", STRATA_SECRET_KEY="short")
    assert weak.returncode != 0 and "at least 32 characters" in weak.stderr

    strong = "x9" * 25
    ok = manage(
        tmp_path, "shell", "-c", PRINT_KEY, STRATA_ENV="production", STRATA_SECRET_KEY=strong
    )
    assert printed_key(ok) == strong

    # A key file written by an earlier (development) start is accepted in production.
    created = printed_key(manage(tmp_path, "shell", "-c", PRINT_KEY))
    assert printed_key(manage(tmp_path, "shell", "-c", PRINT_KEY, STRATA_ENV="production")) == (
        created
    )

    bad_env = manage(tmp_path, "check", STRATA_ENV="prod")
    assert bad_env.returncode != 0 and "STRATA_ENV must be" in bad_env.stderr


PRINT_SETTING = "from django.conf import settings; print('VALUE=' + repr(settings.{}))"


def setting(data_dir: Path, name: str, **env: str) -> subprocess.CompletedProcess[str]:
    return manage(data_dir, "shell", "-c", PRINT_SETTING.format(name), **env)


def test_port_range_accepts_both_spellings_and_explains_a_bad_one(tmp_path: Path) -> None:
    for spelling in ("3500-3599", "3500,3599", " 3500 - 3599 "):
        r = setting(tmp_path, "STRATA_DP_PORT_RANGE", STRATA_DP_PORT_RANGE=spelling)
        assert r.returncode == 0, r.stderr
        assert "VALUE=(3500, 3599)" in r.stdout
    for bad in ("3599-3500", "3500", "a-b", "0-10", "3500-70000"):
        r = setting(tmp_path, "STRATA_DP_PORT_RANGE", STRATA_DP_PORT_RANGE=bad)
        assert r.returncode != 0
        assert "STRATA_DP_PORT_RANGE must be two ports" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr


def test_new_settings_are_validated_with_a_clear_error(tmp_path: Path) -> None:
    ok = setting(tmp_path, "STRATA_TRUSTED_PROXIES", STRATA_TRUSTED_PROXIES="10.0.0.1,fd00::/8")
    assert "VALUE=('10.0.0.1/32', 'fd00::/8')" in ok.stdout, ok.stderr
    for name, value, message in [
        ("STRATA_TRUSTED_PROXIES", "10.0.0.0/8,proxy.local", "'proxy.local' is neither"),
        ("STRATA_LOGIN_FREE_ATTEMPTS", "0", "STRATA_LOGIN_FREE_ATTEMPTS must be an integer >= 1"),
        ("STRATA_LOGIN_BACKOFF_SECONDS", "soon", "STRATA_LOGIN_BACKOFF_SECONDS must be"),
        ("STRATA_MAX_REQUEST_BYTES", "-5", "STRATA_MAX_REQUEST_BYTES must be"),
    ]:
        r = manage(tmp_path, "check", **{name: value})
        assert r.returncode != 0 and message in r.stderr, (name, r.stderr)
        assert "Traceback" not in r.stderr


def test_the_control_plane_database_and_data_directory_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    r = manage(data, "migrate", "--no-input")
    assert r.returncode == 0, r.stderr
    assert mode(data) == 0o700
    db = data / "controlplane.sqlite3"
    files = [db, *(p for p in data.iterdir() if p.name.startswith("controlplane.sqlite3-"))]
    assert {mode(p) for p in files} == {0o600}, [(p.name, oct(mode(p))) for p in files]
    assert mode(data / "secret_key") == 0o600

    # A database left world-readable by an older version is tightened at the next start.
    db.chmod(0o644)
    assert manage(data, "check").returncode == 0
    assert mode(db) == 0o600


def test_scale_to_zero_needs_host_routing_and_the_local_driver(tmp_path: Path) -> None:
    on = setting(
        tmp_path, "STRATA_SUSPEND_AFTER_S", STRATA_SUSPEND_AFTER_S="300", STRATA_ROUTING="host"
    )
    assert on.returncode == 0 and "VALUE=300" in on.stdout, on.stderr
    for env, message in [
        ({}, "STRATA_SUSPEND_AFTER_S needs STRATA_ROUTING=host"),
        ({"STRATA_ROUTING": "host", "STRATA_DRIVER": "kubernetes"}, "local driver only"),
        ({"STRATA_SUSPEND_AFTER_S": "soon"}, "STRATA_SUSPEND_AFTER_S must be an integer"),
    ]:
        r = manage(tmp_path, "check", **{"STRATA_SUSPEND_AFTER_S": "300", **env})
        assert r.returncode != 0 and message in r.stderr, (env, r.stderr)
        assert "Traceback" not in r.stderr
