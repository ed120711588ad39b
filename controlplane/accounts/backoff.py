"""Per-account login backoff, shared by every process through the cache (Redis when
REDIS_URL is set).

After STRATA_LOGIN_FREE_ATTEMPTS failures in a row on one email address, wherever they come
from, the account accepts one attempt per window; the window doubles with each further failure
up to STRATA_LOGIN_BACKOFF_MAX_SECONDS. An attempt claims its window atomically (cache add)
before the password is checked, so parallel guesses cannot slip through together; during a
window the password is not even checked. The cap bounds how long a guesser can keep the real
user waiting, and a successful login or a password reset clears the state. Keyed on the email
as typed (normalized), so the answer for an unknown address looks the same: no enumeration.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache

from controlplane.errors import TooManyRequests

# Failures are forgotten this long after the first of a run (unless a success clears them).
FAILURE_MEMORY_SECONDS = 24 * 3600


def _keys(email: str) -> tuple[str, str]:
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]
    return f"strata:login-failures:{digest}", f"strata:login-window:{digest}"


def window_seconds(failures: int) -> int:
    """How long one attempt holds the account after `failures` failures in a row (0: free)."""
    extra = failures - settings.STRATA_LOGIN_FREE_ATTEMPTS
    if extra < 0:
        return 0
    base, cap = settings.STRATA_LOGIN_BACKOFF_SECONDS, settings.STRATA_LOGIN_BACKOFF_MAX_SECONDS
    return int(min(base * 2 ** min(extra, 40), cap))


def claim_attempt(email: str) -> None:
    """Let one login attempt on `email` proceed, or raise TooManyRequests (429)."""
    failures_key, window_key = _keys(email)
    window = window_seconds(int(cache.get(failures_key, 0)))
    if not window:
        return
    until = time.time() + window
    if not cache.add(window_key, until, timeout=window):
        held = cache.get(window_key)
        wait = max(1, math.ceil(float(held) - time.time())) if held else 1
        raise TooManyRequests(
            "Too many failed logins for this account: try again in "
            f"{wait} s, or reset the password",
            code="TooManyLoginAttempts",
            retry_after=wait,
        )


def record_failure(email: str) -> None:
    failures_key, _ = _keys(email)
    cache.add(failures_key, 0, timeout=FAILURE_MEMORY_SECONDS)
    try:
        cache.incr(failures_key)
    except ValueError:  # expired between add and incr
        cache.set(failures_key, 1, timeout=FAILURE_MEMORY_SECONDS)


def clear(email: str) -> None:
    cache.delete_many(list(_keys(email)))
