"""Idempotent creates: a retried POST with the same Idempotency-Key replays the first answer."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from rest_framework.request import Request
from rest_framework.response import Response

from controlplane.errors import ActionError

from .models import IdempotentRequest

HEADER = "Idempotency-Key"
View = Callable[..., Response]


def _caller(request: Request) -> str:
    token = getattr(request, "auth", None)
    return f"token:{token.token_id}" if token is not None else "anonymous"


def _replay(record: IdempotentRequest, request_hash: str, path: str) -> Response:
    if record.request_hash != request_hash or record.path != path:
        raise ActionError(
            f"{HEADER} was already used for a different request", code="IdempotencyKeyReused"
        )
    response = Response(record.body, status=record.status_code)
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
                        body=response.data,
                    )
        except IntegrityError:
            winner = IdempotentRequest.objects.filter(caller=caller, key=key).first()
            if winner is None:
                raise
            return _replay(winner, request_hash, path)
        return response

    return wrapper
