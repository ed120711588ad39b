"""Shared OpenAPI annotations so every operation documents its error responses."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema

from .serializers import Empty, Error

ERRORS: dict[int, Any] = {400: Error, 401: Error, 403: Error, 404: Error, 429: Error}


def op(
    *, request: Any = None, response: Any = None, status: int = 200, tags: list[str], **kw: Any
) -> Any:
    """extend_schema with our error shapes, 402/409 included for writes. `Empty` is described
    as the JSON object `{}` it is (a serializer without fields would read as "no body")."""
    if request is Empty:
        request = OpenApiTypes.OBJECT
    if response is Empty:
        response = OpenApiTypes.OBJECT
    responses: dict[int, Any] = {status: response, **ERRORS}
    if request is not None:
        responses.update({402: Error, 409: Error})
    return extend_schema(request=request, responses=responses, tags=tags, **kw)
