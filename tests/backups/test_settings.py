"""The backup settings are read in controlplane/settings/backups.py; bad values stop the start."""

from __future__ import annotations

from pathlib import Path

from tests.controlplane.test_security_config import manage, setting


def test_backup_store_defaults_to_the_data_dir_and_takes_s3(tmp_path: Path) -> None:
    r = setting(tmp_path, "STRATA_BACKUP_DIR")
    assert r.returncode == 0, r.stderr
    assert f"VALUE={str(tmp_path / 'backups')!r}" in r.stdout
    r = setting(tmp_path, "STRATA_BACKUP_STORE", STRATA_BACKUP_STORE="s3://bucket/prefix")
    assert "VALUE='s3://bucket/prefix'" in r.stdout, r.stderr


def test_bad_backup_settings_are_a_clear_error(tmp_path: Path) -> None:
    for name, value, message in [
        ("STRATA_BACKUP_STORE", "gs://bucket", "STRATA_BACKUP_STORE must be 'local' or"),
        ("STRATA_BACKUP_STORE", "s3://", "needs a bucket name"),
        ("STRATA_BACKUP_TIMEOUT_SECONDS", "0", "STRATA_BACKUP_TIMEOUT_SECONDS must be"),
        ("STRATA_BACKUP_CHECK_SECONDS", "often", "STRATA_BACKUP_CHECK_SECONDS must be"),
    ]:
        r = manage(tmp_path, "check", **{name: value})
        assert r.returncode != 0 and message in r.stderr, (name, r.stderr)
        assert "Traceback" not in r.stderr
