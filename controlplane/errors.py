"""Domain errors raised by actions; the API maps each to a status code and a clear message."""

from __future__ import annotations


class ActionError(Exception):
    """Base: a request the control plane refuses. `code` is a stable machine-readable name."""

    status = 400
    code = "BadRequest"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class Unauthenticated(ActionError):
    """Credentials that prove nobody (a wrong email or password at login): 401."""

    status = 401
    code = "InvalidCredentials"


class NotFound(ActionError):
    status = 404
    code = "NotFound"


class PermissionDenied(ActionError):
    status = 403
    code = "Forbidden"


class Conflict(ActionError):
    status = 409
    code = "Conflict"


class QuotaExceeded(ActionError):
    status = 402
    code = "QuotaExceeded"


class TooManyRequests(ActionError):
    """429; `retry_after` (seconds) becomes the Retry-After header."""

    status = 429
    code = "TooManyRequests"

    def __init__(self, message: str, *, code: str | None = None, retry_after: int = 1) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after
