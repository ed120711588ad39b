from contract.keys import mint_key, new_instance_secret, verify_key


def test_key_round_trips_for_its_own_deployment() -> None:
    secret = new_instance_secret()
    key = mint_key("happy-otter-123", secret, key_id="k1")
    claims = verify_key(key, "happy-otter-123", secret)
    assert claims is not None
    assert claims.key_id == "k1"
    assert claims.allows("deploy")


def test_key_is_refused_by_another_deployment() -> None:
    secret_a, secret_b = new_instance_secret(), new_instance_secret()
    key = mint_key("alpha-deployment", secret_a)
    assert verify_key(key, "beta-deployment", secret_b) is None
    # Same name, other secret: still refused.
    assert verify_key(key, "alpha-deployment", secret_b) is None


def test_tampered_or_malformed_keys_are_refused() -> None:
    secret = new_instance_secret()
    key = mint_key("alpha-deployment", secret, actions=frozenset({"read"}))
    name, _, rest = key.partition("|")
    payload, _, sig = rest.rpartition(".")
    forged = f"{name}|{payload[:-2]}xx.{sig}"
    assert verify_key(forged, "alpha-deployment", secret) is None
    assert verify_key("garbage", "alpha-deployment", secret) is None
    assert verify_key("", "alpha-deployment", secret) is None


def test_scoped_key_allows_only_its_actions() -> None:
    secret = new_instance_secret()
    key = mint_key("alpha-deployment", secret, actions=frozenset({"read"}))
    claims = verify_key(key, "alpha-deployment", secret)
    assert claims is not None
    assert claims.allows("read")
    assert not claims.allows("deploy")
