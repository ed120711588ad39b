from pathlib import Path

from contract.keys import new_instance_secret
from contract.revocation import FILE_NAME, RevokedKeys, read_revoked_keys, write_revoked_keys


def test_round_trip_and_reload(tmp_path: Path) -> None:
    secret = new_instance_secret()
    checker = RevokedKeys(tmp_path, secret)
    assert not checker.is_revoked("k1")  # no file yet: nothing revoked
    write_revoked_keys(tmp_path, secret, ["k1"])
    assert checker.is_revoked("k1") and not checker.is_revoked("k2")
    write_revoked_keys(tmp_path, secret, ["k1", "k2", "k2"])
    assert checker.is_revoked("k2")
    assert read_revoked_keys(tmp_path, secret) == {"k1", "k2"}


def test_forged_or_corrupt_file_revokes_nothing(tmp_path: Path) -> None:
    secret = new_instance_secret()
    write_revoked_keys(tmp_path, new_instance_secret(), ["k1"])  # signed with another secret
    assert read_revoked_keys(tmp_path, secret) == frozenset()
    (tmp_path / FILE_NAME).write_text("{not json")
    assert read_revoked_keys(tmp_path, secret) == frozenset()
    write_revoked_keys(tmp_path, secret, ["k1"])
    text = (tmp_path / FILE_NAME).read_text().replace('"k1"', '"k9"')
    (tmp_path / FILE_NAME).write_text(text)
    assert read_revoked_keys(tmp_path, secret) == frozenset()


def test_checker_rereads_the_file_when_it_changes(tmp_path: Path) -> None:
    from contract.revocation import RevokedKeys

    secret = new_instance_secret()
    checker = RevokedKeys(tmp_path, secret)
    assert not checker.is_revoked("k1")
    write_revoked_keys(tmp_path, secret, ["k1"])
    assert checker.is_revoked("k1")
    write_revoked_keys(tmp_path, secret, ["k7"])
    assert checker.is_revoked("k7") and not checker.is_revoked("k1")
