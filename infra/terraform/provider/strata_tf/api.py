"""A small client for the /v1 management API, raising ApiError with the server's message."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass
class StrataApi:
    endpoint: str
    token: str
    timeout: float = 60.0

    def __post_init__(self) -> None:
        self._http = httpx.Client(
            base_url=self.endpoint.rstrip("/") + "/v1/",
            headers={
                "Authorization": f"Bearer {self.token}",
                "User-Agent": "terraform-provider-strata",
            },
            timeout=self.timeout,
        )

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(0, "Unreachable", f"{method} {path}: {exc}") from exc
        if response.status_code >= 400:
            try:
                body = response.json()
                code, message = str(body.get("code")), str(body.get("message"))
            except ValueError:
                code, message = "HttpError", response.text[:500]
            raise ApiError(response.status_code, code, message)
        return response.json() if response.content else {}

    def get(self, path: str, **params: Any) -> Any:
        return self._send("GET", path, params=params)

    def get_or_none(self, path: str) -> Any:
        """The object, or None when the API says it does not exist (or is hidden from us)."""
        try:
            return self.get(path)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def post(self, path: str, body: dict[str, Any] | None = None, *, create: bool = False) -> Any:
        headers = {"Idempotency-Key": str(uuid.uuid4())} if create else {}
        return self._send("POST", path, json=body or {}, headers=headers)

    def put(self, path: str, body: dict[str, Any]) -> Any:
        return self._send("PUT", path, json=body)

    def delete(self, path: str) -> Any:
        return self._send("DELETE", path)

    def list_all(self, path: str) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list endpoint."""
        cursor: int | None = None
        while True:
            params: dict[str, Any] = {"limit": 500}
            if cursor is not None:
                params["cursor"] = cursor
            page = self.get(path, **params)
            yield from page["items"]
            cursor = page.get("nextCursor")
            if cursor is None:
                return
