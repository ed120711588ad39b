"""Idempotent creates: a retried POST with the same Idempotency-Key replays the first answer.

Secrets (a new access token or deploy key) are never stored: the answer is kept without them.
A retry of a request that created a secret does not create a second one and cannot show the
first one again (it is shown once), so it is answered 409 SecretNotReplayable, with the stored
answer (ids, names) in `details`: revoke that token or key and create a new one if the first
answer was lost.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.errors import ActionError, Conflict

from .models import IdempotentRequest

HEADER = "Idempotency-Key"
View = Callable[..., Response]
# Response fields holding a secret shown once; never written to the idempotency table.
SECRET_FIELDS = ("accessToken", "deployKey", "adminKey")
WITHHELD = "_withheld"


def storable(body: Any) -> Any:
    """`body` without its secrets, marked with the names of the fields left out."""
    if not isinstance(body, dict):
        return body
    withheld = [f for f in SECRET_FIELDS if f in body]
    if not withheld:
        return body
    kept = {k: v for k, v in body.items() if k not in withheld}
    return {**kept, WITHHELD: withheld}


class SecretNotReplayable(Conflict):
    code = "SecretNotReplayable"

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.details = details


def _caller(request: Request) -> str:
    token = getattr(request, "auth", None)
    return f"token:{token.token_id}" if token is not None else "anonymous"


def _replay(record: IdempotentRequest, request_hash: str, path: str) -> Response:
    if record.request_hash != request_hash or record.path != path:
        raise ActionError(
            f"{HEADER} was already used for a different request", code="IdempotencyKeyReused"
        )
    body = record.body
    if isinstance(body, dict) and WITHHELD in body:
        fields = ", ".join(body[WITHHELD])
        raise SecretNotReplayable(
            f"This {HEADER} already created the object in `details`; its secret ({fields}) "
            "was shown once and is not stored. Revoke it and create a new one if it was lost.",
            {k: v for k, v in body.items() if k != WITHHELD},
        )
    response = Response(body, status=record.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(view: View) -> View:
    @functools.wraps(view)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return view(self, request, *args, **kwargs)
        if len(key) > 200:
            raise ActionError(f"{HEADER} must be at most 200 characters", code="InvalidHeader")
        caller, path = _caller(request), request.path
        request_hash = hashlib.sha256(request.body).hexdigest()
        existing = IdempotentRequest.objects.filter(caller=caller, key=key).first()
        if existing is not None:
            return _replay(existing, request_hash, path)
        try:
            # One transaction: if a concurrent request with the same key wins, this one's
            # writes roll back with the failed insert and the winner's answer is replayed.
            with transaction.atomic():
                response = view(self, request, *args, **kwargs)
                if 200 <= response.status_code < 300:
                    IdempotentRequest.objects.create(
                        caller=caller,
                        key=key,
                        path=path,
                        request_hash=request_hash,
                        status_code=response.status_code,
                        body=storable(response.data),
                    )
        except IntegrityError:
            winner = IdempotentRequest.objects.filter(caller=caller, key=key).first()
            if winner is None:
                raise
            return _replay(winner, request_hash, path)
        return response

    return wrapper
