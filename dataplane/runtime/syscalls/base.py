"""What every syscall handler shares: the reply types and the handler table's shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import orjson

Host = TypeVar("Host")
#: One operation's handler: (the call's host, its decoded arguments) -> the reply value.
Handler = Callable[[Host, dict[str, Any]], Any]


class Raw:
    """A syscall reply that is already the exact text to send (not JSON-encoded again)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()
