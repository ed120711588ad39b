"""Request body cap: a body over STRATA_MAX_REQUEST_BYTES is a 413 in the API's error shape,
answered from Content-Length before the body is read (and when a body without one turns out
too big while being read)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

TOO_LARGE_CODE = "PayloadTooLarge"


def too_large_message() -> str:
    return f"The request body is larger than the limit of {settings.STRATA_MAX_REQUEST_BYTES} bytes"


def too_large(request: HttpRequest) -> HttpResponse:
    message = too_large_message()
    if request.path.startswith("/v1/"):
        response: HttpResponse = JsonResponse(
            {"code": TOO_LARGE_CODE, "message": message}, status=413
        )
    else:
        response = HttpResponse(message, status=413, content_type="text/plain")
    response["Connection"] = "close"  # the unread body must not be taken for the next request
    return response


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.STRATA_MAX_REQUEST_BYTES:
            return too_large(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return too_large(request) if isinstance(exception, RequestDataTooBig) else None
