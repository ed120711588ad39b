"""Errors of the deploy and admin endpoints, carrying the HTTP status and Convex error code."""

from __future__ import annotations


class DeployError(Exception):
    """A push or admin request that cannot be honoured; the message is shown by the CLI."""

    status = 400
    code = "BadRequest"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class PushNotFound(DeployError):
    """finish_push/wait_for_schema named a push this process does not know (or it expired)."""

    status = 404
    code = "PushNotFound"


class PushRaced(DeployError):
    """Another push activated code since this one started."""

    status = 409
    code = "PushRaceDetected"
