"""Attacks on the management API, each shown refused: tokens that outlive a password change,
a removed member, or a spoofed client address; secrets kept in the idempotency table; account
enumeration through sign-up; oversized bodies."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from asgiref.sync import async_to_sync
from django.core import mail
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.test import AsyncClient, override_settings
from rest_framework.test import APIClient

from controlplane.accounts import backoff
from controlplane.api.models import IdempotentRequest
from controlplane.keys.models import DeployKey

from .conftest import PASSWORD, Caller, linked_token

pytestmark = pytest.mark.django_db


def login(email: str, password: str = PASSWORD, **extra: Any) -> Any:
    return APIClient().post(
        "/v1/auth/login", {"email": email, "password": password}, format="json", **extra
    )


def status_with(token: str) -> int:
    return int(Caller(APIClient(), token).get("token_details").status_code)


# ---- password reset and change revoke old tokens ------------------------------------------


def test_password_reset_revokes_every_personal_token(make_user: Any) -> None:
    first = make_user("victim@x.test")
    second = login("victim@x.test").json()["accessToken"]
    pat = first.post("create_personal_access_token", {"name": "ci"}).json()["accessToken"]
    assert {status_with(t) for t in (first.token, second, pat)} == {200}

    mail.outbox.clear()
    client = APIClient()
    client.post("/v1/auth/request_password_reset", {"email": "victim@x.test"}, format="json")
    reset = linked_token(mail.outbox[-1].body, "/reset")
    new = "a-brand-new-passphrase-9"
    r = client.post("/v1/auth/reset_password", {"token": reset, "password": new}, format="json")
    assert r.status_code == 200
    # Whoever held a token from before the reset is locked out; the new password works.
    assert {status_with(t) for t in (first.token, second, pat)} == {401}
    assert status_with(login("victim@x.test", new).json()["accessToken"]) == 200


@override_settings(STRATA_LOGIN_FREE_ATTEMPTS=2, STRATA_LOGIN_BACKOFF_SECONDS=300)
def test_password_change_revokes_the_other_personal_tokens(make_user: Any) -> None:
    mine = make_user("changer@x.test")
    stolen = login("changer@x.test").json()["accessToken"]
    new = "another-new-passphrase-7"
    wrong = mine.post("auth/change_password", {"currentPassword": "nope", "newPassword": new})
    assert wrong.status_code == 400 and wrong.json()["code"] == "InvalidCredentials"
    # A stolen token cannot be used to guess the password faster than logins can.
    assert login("changer@x.test", "nope-2").status_code == 401
    assert login("changer@x.test", "nope-3").status_code == 401  # claims the window
    guess = mine.post("auth/change_password", {"currentPassword": "nope-4", "newPassword": new})
    assert guess.status_code == 429
    backoff.clear("changer@x.test")  # (what the window's end, or a reset, does)
    assert status_with(stolen) == 200
    r = mine.post("auth/change_password", {"currentPassword": PASSWORD, "newPassword": new})
    assert r.status_code == 200, r.content
    assert status_with(stolen) == 401
    assert status_with(mine.token) == 200  # the token that made the change stays
    assert login("changer@x.test").status_code == 401
    assert login("changer@x.test", new).status_code == 201


# ---- team tokens are bound to their creator's membership -----------------------------------


def join(owner: Caller, team_id: int, member: Caller, role: str) -> int:
    """Invite `member` into the team with `role` and accept: the member's user id."""
    mail.outbox.clear()
    r = owner.post(f"teams/{team_id}/invite_team_member", {"email": member.email, "role": role})
    assert r.status_code == 201, r.content
    invite = re.search(r"(inv_\S+)", mail.outbox[-1].body)
    assert invite is not None
    assert member.post("invites/accept", {"token": invite.group(1)}).status_code == 200
    return int(member.get("token_details").json()["userId"])


def team_token(creator: Caller, team_id: int, role: str = "admin") -> Caller:
    r = creator.post(f"teams/{team_id}/create_access_token", {"name": "ci", "role": role})
    assert r.status_code == 201, r.content
    return Caller(APIClient(), r.json()["accessToken"])


def test_removed_admins_team_token_is_refused(
    team_owner: tuple[Caller, int], make_user: Any, create_project: Any
) -> None:
    owner, team_id = team_owner
    name, _url = create_project("app", "prod")
    admin = make_user("admin@x.test")
    admin_id = join(owner, team_id, admin, "admin")
    token = team_token(admin, team_id)
    # A token minted by that team token answers to the same person.
    minted = team_token(token, team_id, "developer")
    assert token.get(f"deployments/{name}/list_environment_variables").status_code == 200
    assert minted.get(f"teams/{team_id}").status_code == 200

    r = owner.post(f"teams/{team_id}/remove_team_member", {"memberId": admin_id})
    assert r.status_code == 200, r.content
    for caller in (token, minted):
        assert caller.get(f"deployments/{name}/list_environment_variables").status_code == 401
        r = caller.post(f"deployments/{name}/create_deploy_key", {"name": "exfil"})
        assert r.status_code == 401
    # And they stay refused if the person is invited back: the removal revoked them.
    join(owner, team_id, admin, "admin")
    assert token.get(f"teams/{team_id}").status_code == 401


def test_demoted_creators_team_token_loses_the_rights_at_once(
    team_owner: tuple[Caller, int], make_user: Any, create_project: Any
) -> None:
    owner, team_id = team_owner
    name, _url = create_project("app", "prod")
    admin = make_user("demoted@x.test")
    admin_id = join(owner, team_id, admin, "admin")
    token = team_token(admin, team_id)
    assert token.post(f"deployments/{name}/create_deploy_key", {"name": "k"}).status_code == 201

    r = owner.post(
        f"teams/{team_id}/update_team_member_role", {"memberId": admin_id, "role": "viewer"}
    )
    assert r.status_code == 200, r.content
    assert token.get("token_details").json()["role"] == "viewer"
    assert token.get(f"deployments/{name}").status_code == 200  # a viewer may look
    r = token.post(f"deployments/{name}/create_deploy_key", {"name": "k2"})
    assert r.status_code == 403
    assert token.get(f"deployments/{name}/list_environment_variables").status_code == 403


# ---- login throttling: client address and per-account backoff ------------------------------


@override_settings(STRATA_API_ANON_RATE_LIMIT=3)
def test_spoofed_forwarded_for_does_not_escape_the_address_limit() -> None:
    def attempt(i: int, peer: str, forwarded: str) -> int:
        r = login(
            f"nobody{i}@x.test",  # another account each time: only the address limit applies
            "wrong-password",
            REMOTE_ADDR=peer,
            HTTP_X_FORWARDED_FOR=forwarded,
        )
        return int(r.status_code)

    codes = [attempt(i, "203.0.113.7", f"198.51.100.{i}") for i in range(4)]
    assert codes == [401, 401, 401, 429]


@override_settings(STRATA_API_ANON_RATE_LIMIT=3, STRATA_TRUSTED_PROXIES=("10.0.0.0/8",))
def test_behind_a_trusted_proxy_the_address_it_saw_is_limited() -> None:
    def attempt(i: int, forwarded: str) -> int:
        r = login(
            f"nobody{i}@x.test",
            "wrong-password",
            REMOTE_ADDR="10.1.2.3",
            HTTP_X_FORWARDED_FOR=forwarded,
        )
        return int(r.status_code)

    # Distinct clients behind the proxy each get their own budget ...
    assert [attempt(i, f"198.51.100.{i}") for i in range(5)] == [401] * 5
    # ... and one client cannot reset its own by prepending addresses: the proxy appends
    # the real one, and that is the one read (right to left, skipping trusted proxies).
    spoofed = [attempt(i, f"192.0.2.{i}, 203.0.113.9, 10.9.9.9") for i in range(4)]
    assert spoofed == [401, 401, 401, 429]


@pytest.fixture(params=["locmem", pytest.param("redis", marks=pytest.mark.redis)])
def shared_cache(request: pytest.FixtureRequest) -> Iterator[None]:
    """The cache the backoff lives in: in-process, or the real Redis every process shares."""
    if request.param == "locmem":
        yield
        return
    prefix = f"test-{uuid.uuid4().hex}"
    redis_cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/13",
        "KEY_PREFIX": prefix,
    }
    with override_settings(CACHES={"default": redis_cache}):
        assert isinstance(caches["default"], RedisCache)
        yield
        client = redis.Redis.from_url("redis://127.0.0.1:6379/13")
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)


@override_settings(
    STRATA_API_ANON_RATE_LIMIT=1000,
    STRATA_LOGIN_FREE_ATTEMPTS=3,
    STRATA_LOGIN_BACKOFF_SECONDS=300,
    STRATA_LOGIN_BACKOFF_MAX_SECONDS=300,
)
def test_distributed_guessing_hits_the_account_backoff_and_a_reset_lifts_it(
    make_user: Any, shared_cache: None
) -> None:
    make_user("target@x.test")

    def attempt(i: int, password: str) -> Any:
        return login("target@x.test", password, REMOTE_ADDR=f"198.51.100.{i}")

    # Every guess comes from a new address, so no address limit ever applies.
    assert [attempt(i, f"guess-{i}").status_code for i in range(4)] == [401] * 4
    # The fourth failure holds the account: even the right password is not checked now.
    locked = attempt(50, PASSWORD)
    assert locked.status_code == 429, locked.content
    assert locked.json()["code"] == "TooManyLoginAttempts"
    assert 0 < int(locked["Retry-After"]) <= 300
    assert attempt(51, "guess-51").status_code == 429
    # An unknown address answers the same way (no account enumeration through the backoff).
    for i in range(5):
        login("ghost@x.test", f"guess-{i}", REMOTE_ADDR=f"192.0.2.{i}")
    assert login("ghost@x.test", "guess", REMOTE_ADDR="192.0.2.99").status_code == 429

    # The owner resets the password by email, which lifts the hold.
    mail.outbox.clear()
    client = APIClient()
    client.post("/v1/auth/request_password_reset", {"email": "target@x.test"}, format="json")
    reset = linked_token(mail.outbox[-1].body, "/reset")
    new = "fresh-passphrase-after-attack"
    r = client.post("/v1/auth/reset_password", {"token": reset, "password": new}, format="json")
    assert r.status_code == 200
    assert attempt(52, new).status_code == 201


@override_settings(
    STRATA_LOGIN_FREE_ATTEMPTS=2,
    STRATA_LOGIN_BACKOFF_SECONDS=1,
    STRATA_LOGIN_BACKOFF_MAX_SECONDS=1,
)
def test_the_real_user_logs_in_once_the_window_has_passed(make_user: Any) -> None:
    make_user("patient@x.test")
    for i in range(3):
        assert (
            login("patient@x.test", f"guess-{i}", REMOTE_ADDR=f"198.51.100.{i}").status_code == 401
        )
    assert login("patient@x.test").status_code == 429
    time.sleep(1.5)  # the window (capped at 1 s here) is over
    assert login("patient@x.test").status_code == 201
    # Success cleared the failures: the next mistakes start from zero.
    assert login("patient@x.test", "typo-1").status_code == 401
    assert login("patient@x.test").status_code == 201


# ---- request size ----------------------------------------------------------------------------

BIG = 70 * 1024 * 1024


def big_json() -> bytes:
    return b'{"name": "' + b"a" * BIG + b'"}'


def test_a_70_mb_body_is_a_413_in_the_error_shape(team_owner: tuple[Caller, int]) -> None:
    owner, _team_id = team_owner
    client = APIClient(raise_request_exception=False)
    anonymous = client.generic("POST", "/v1/auth/login", big_json(), "application/json")
    authenticated = client.generic(
        "POST",
        "/v1/teams/create_team",
        big_json(),
        "application/json",
        HTTP_AUTHORIZATION=f"Bearer {owner.token}",
        HTTP_IDEMPOTENCY_KEY="big-1",
    )
    for r in (anonymous, authenticated):
        assert r.status_code == 413, r.content[:200]
        assert r.json()["code"] == "PayloadTooLarge"
        assert "larger than the limit of 2621440 bytes" in r.json()["message"]
    # A body under the limit is read as usual.
    r = owner.post("teams/create_team", {"name": "b" * 90})
    assert r.status_code == 201, r.content


def test_a_70_mb_body_is_a_413_through_the_asgi_handler() -> None:
    post = async_to_sync(AsyncClient().post)
    r = post("/v1/auth/login", big_json(), content_type="application/json")
    assert r.status_code == 413
    assert json.loads(r.content)["code"] == "PayloadTooLarge"


# ---- the idempotency table holds no secret ----------------------------------------------------


def test_idempotency_records_keep_no_secret_and_replays_do_not_reveal_it(
    team_owner: tuple[Caller, int], create_project: Any
) -> None:
    owner, team_id = team_owner
    name, _url = create_project("app", "dev")
    created = owner.post(
        f"deployments/{name}/create_deploy_key", {"name": "ci"}, **{"Idempotency-Key": "dk-1"}
    )
    token = owner.post(
        f"teams/{team_id}/create_access_token", {"name": "t"}, **{"Idempotency-Key": "tt-1"}
    )
    assert created.status_code == token.status_code == 201
    secrets = (created.json()["deployKey"], token.json()["accessToken"])
    stored = json.dumps(list(IdempotentRequest.objects.values()), default=str)
    for secret in secrets:
        assert secret[-20:] not in stored

    again = owner.post(
        f"deployments/{name}/create_deploy_key", {"name": "ci"}, **{"Idempotency-Key": "dk-1"}
    )
    assert again.status_code == 409 and again.json()["code"] == "SecretNotReplayable"
    assert again.json()["details"]["id"] == created.json()["id"]
    assert secrets[0] not in again.content.decode()
    assert DeployKey.objects.filter(deployment__name=name, name="ci").count() == 1
    replayed_token = owner.post(
        f"teams/{team_id}/create_access_token", {"name": "t"}, **{"Idempotency-Key": "tt-1"}
    )
    assert replayed_token.status_code == 409
    assert replayed_token.json()["details"]["tokenId"] == token.json()["tokenId"]


# ---- sign-up does not reveal which addresses have accounts ---------------------------------


def test_sign_up_answers_the_same_for_a_new_and_an_existing_address(make_user: Any) -> None:
    make_user("taken@x.test")
    client = APIClient()
    mail.outbox.clear()
    new = client.post(
        "/v1/auth/sign_up", {"email": "fresh@x.test", "password": PASSWORD}, format="json"
    )
    existing = client.post(
        "/v1/auth/sign_up",
        {"email": "Taken@x.test", "password": "a-different-passphrase"},
        format="json",
    )
    assert new.status_code == existing.status_code == 201
    assert set(new.json()) == set(existing.json()) == {"email"}
    assert existing.json() == {"email": "taken@x.test"}
    # Both addresses get one email; the account owner's says someone tried, and changes nothing.
    assert sorted(m.to[0] for m in mail.outbox) == ["fresh@x.test", "taken@x.test"]
    notice = next(m for m in mail.outbox if m.to == ["taken@x.test"])
    assert "already has one" in notice.body
    assert login("taken@x.test").status_code == 201
    assert login("taken@x.test", "a-different-passphrase").status_code == 401
    # A weak password is refused the same way for both.
    for email in ("fresh2@x.test", "taken@x.test"):
        weak = client.post("/v1/auth/sign_up", {"email": email, "password": "short"}, format="json")
        assert weak.status_code == 400 and weak.json()["code"] == "WeakPassword"
