"""Attacks on the management API, each shown refused: tokens that outlive a password change,
a removed member, or a spoofed client address; secrets kept in the idempotency table; account
enumeration through sign-up; oversized bodies."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from rest_framework.test import APIClient

from .conftest import PASSWORD, Caller

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
    reset = re.search(r"^(\S+\.\S+)$", mail.outbox[-1].body, re.M)
    assert reset is not None
    new = "a-brand-new-passphrase-9"
    r = client.post(
        "/v1/auth/reset_password", {"token": reset.group(1), "password": new}, format="json"
    )
    assert r.status_code == 200
    # Whoever held a token from before the reset is locked out; the new password works.
    assert {status_with(t) for t in (first.token, second, pat)} == {401}
    assert status_with(login("victim@x.test", new).json()["accessToken"]) == 200


def test_password_change_revokes_the_other_personal_tokens(make_user: Any) -> None:
    mine = make_user("changer@x.test")
    stolen = login("changer@x.test").json()["accessToken"]
    new = "another-new-passphrase-7"
    wrong = mine.post("auth/change_password", {"currentPassword": "nope", "newPassword": new})
    assert wrong.status_code == 400 and wrong.json()["code"] == "InvalidCredentials"
    assert status_with(stolen) == 200
    r = mine.post("auth/change_password", {"currentPassword": PASSWORD, "newPassword": new})
    assert r.status_code == 200, r.content
    assert status_with(stolen) == 401
    assert status_with(mine.token) == 200  # the token that made the change stays
    assert login("changer@x.test").status_code == 400
    assert login("changer@x.test", new).status_code == 201
