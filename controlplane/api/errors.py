"""One error shape for every 4xx: {"code": "...", "message": "...", "details"?: {...}}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from controlplane.errors import ActionError, TooManyRequests

from .limits import TOO_LARGE_CODE, too_large_message


def _flatten(detail: Any, prefix: str = "") -> list[str]:
    if isinstance(detail, dict):
        out: list[str] = []
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            out += _flatten(value, f"{prefix}{name}." if name else prefix)
        return out
    if isinstance(detail, list):
        return [m for item in detail for m in _flatten(item, prefix)]
    return [f"{prefix.rstrip('.')}: {detail}" if prefix else str(detail)]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ActionError):
        body: dict[str, Any] = {"code": exc.code, "message": exc.message}
        details = getattr(exc, "details", None)
        if details is not None:
            body["details"] = details
        response = Response(body, status=exc.status)
        if isinstance(exc, TooManyRequests):
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, RequestDataTooBig):
        return Response({"code": TOO_LARGE_CODE, "message": too_large_message()}, status=413)
    if isinstance(exc, Http404):
        return Response({"code": "NotFound", "message": "Not found"}, status=404)
    if isinstance(exc, exceptions.ValidationError):
        return Response(
            {
                "code": "InvalidRequest",
                "message": "; ".join(_flatten(exc.detail)),
                "details": exc.detail,
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    response = drf_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        body = {"code": _camel(str(code)), "message": str(exc.detail)}
        response.data = body
    return response


def _camel(code: str) -> str:
    if code and code[0].isupper():
        return code
    return "".join(part.capitalize() for part in code.split("_"))
