"""Shared plumbing: API errors become Terraform diagnostics instead of plugin crashes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from tf.types import Unknown
from tf.utils import Diagnostics

from ..api import ApiError, StrataApi

if TYPE_CHECKING:
    from ..provider import StrataProvider

T = TypeVar("T")


class ApiBacked:
    """Base of every resource and data source: holds the provider, reaches its API client."""

    def __init__(self, provider: StrataProvider) -> None:
        self.provider = provider

    @property
    def api(self) -> StrataApi:
        return self.provider.api

    def upgrade(self, ctx: Any, version: int, old: dict[str, Any]) -> dict[str, Any]:
        """Schema version 0 is the only one so far: stored state is already current."""
        return old


def guarded(diags: Diagnostics, what: str, fn: Callable[[], T]) -> T | None:
    """Run `fn`; on an API error add a diagnostic and return None."""
    try:
        return fn()
    except ApiError as exc:
        diags.add_error(f"{what} failed", str(exc))
    except Exception as exc:  # never let Terraform see a plugin crash
        diags.add_error(f"{what} failed", f"{type(exc).__name__}: {exc}")
    return None


def split_id(diags: Diagnostics, raw: str, what: str) -> tuple[str, str] | None:
    """`a/b` import ids; the last slash separates (deployment names and emails have none)."""
    head, sep, tail = raw.rpartition("/")
    if not sep or not head or not tail:
        diags.add_error(f"Invalid import id for {what}", f"Expected '<parent>/<name>', got {raw!r}")
        return None
    return head, tail


def known(value: Any) -> Any:
    """`value`, or None while Terraform does not know it yet (computed, not set in config)."""
    return None if value is Unknown else value


def find(items: Any, **match: Any) -> dict[str, Any] | None:
    for item in items:
        if all(item.get(k) == v for k, v in match.items()):
            return dict(item)
    return None
