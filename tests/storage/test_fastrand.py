"""Per-thread keyed random bytes: right sizes, no repeats, independent across threads."""

from __future__ import annotations

import threading

import pytest

from dataplane.fastrand import random_bytes


def test_sizes_and_no_repeats() -> None:
    seen = {random_bytes(8) for _ in range(20_000)}
    assert len(seen) == 20_000
    assert {len(random_bytes(n)) for n in (1, 16, 64)} == {1, 16, 64}
    for bad in (0, 65, -1):
        with pytest.raises(ValueError):
            random_bytes(bad)


def test_threads_draw_independent_streams() -> None:
    outputs: list[list[bytes]] = []
    lock = threading.Lock()

    def draw() -> None:
        mine = [random_bytes(16) for _ in range(100)]
        with lock:
            outputs.append(mine)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [b for out in outputs for b in out]
    assert len(set(everything)) == len(everything)  # same counters, different keys
