"""Unpredictable random bytes without a system call per request.

`os.urandom` releases the GIL around its getrandom() call; under load each release is a
likely hand-off to another thread and back (two context switches), and hot paths need
random bytes for every function call (request ids, seeds) and every insert (document ids).
Here each thread keys BLAKE2b with 32 bytes from the OS once and runs it as a PRF over a
counter: outputs stay unpredictable without further system calls.
"""

from __future__ import annotations

import hashlib
import os
import threading

_local = threading.local()


def random_bytes(n: int) -> bytes:
    """`n` (1..64) random bytes."""
    if not 0 < n <= 64:
        raise ValueError("random_bytes serves 1 to 64 bytes")
    state = getattr(_local, "state", None)
    if state is None or state[2] != os.getpid():  # a forked child must not repeat its parent
        state = _local.state = [os.urandom(32), 0, os.getpid()]
    counter = state[1]
    state[1] = counter + 1
    return hashlib.blake2b(counter.to_bytes(16, "little"), key=state[0], digest_size=n).digest()
