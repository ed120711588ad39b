"""Per-function health series: calls, failures and latency percentiles per minute."""

from __future__ import annotations

from dataplane.runtime import FunctionLog
from dataplane.runtime.metrics import (
    BUCKET_MS,
    RETAINED_BUCKETS,
    SAMPLES_PER_BUCKET,
    FunctionMetrics,
    percentile,
)

T0 = 1_800_000_000_000.0 - (1_800_000_000_000.0 % BUCKET_MS)  # the start of a minute


def call(path: str, at_ms: float, duration_ms: float, ok: bool = True) -> FunctionLog:
    return FunctionLog(path, "query", [], ok, None if ok else "boom", at_ms, duration_ms, "r")


def test_series_per_function_and_minute() -> None:
    m = FunctionMetrics()
    for i in range(100):  # minute 0: a:list, 1..100 ms
        m.on_function_log(call("a:list", T0 + i, float(i + 1)))
    m.on_function_log(call("a:send", T0 + 10, 5.0, ok=False))
    m.on_function_log(call("a:send", T0 + 2 * BUCKET_MS + 1, 7.0))  # minute 2
    s = m.summary(T0 + 2 * BUCKET_MS + 30_000, minutes=3)
    assert s["startMs"] == T0 and s["buckets"] == 3 and s["bucketMs"] == BUCKET_MS
    by_path = {f["path"]: f for f in s["functions"]}
    assert [f["path"] for f in s["functions"]] == ["a:list", "a:send"]  # busiest first
    lst, send = by_path["a:list"], by_path["a:send"]
    assert lst["calls"] == [100, 0, 0] and lst["errors"] == [0, 0, 0]
    assert lst["p50Ms"] == [50.0, None, None] and lst["p99Ms"] == [99.0, None, None]
    assert send["calls"] == [1, 0, 1] and send["errors"] == [1, 0, 0]
    assert (send["totalCalls"], send["totalErrors"]) == (2, 1)
    # A window that ends before minute 2 does not see it.
    assert m.summary(T0 + BUCKET_MS, minutes=2)["functions"][1]["calls"] == [1, 0]


def test_old_minutes_are_dropped_and_samples_bounded() -> None:
    m = FunctionMetrics()
    m.on_function_log(call("a:old", T0, 1.0))
    for i in range(SAMPLES_PER_BUCKET * 3):
        m.on_function_log(call("a:hot", T0 + RETAINED_BUCKETS * BUCKET_MS, float(i % 10)))
    now = T0 + RETAINED_BUCKETS * BUCKET_MS
    paths = [f["path"] for f in m.summary(now, RETAINED_BUCKETS)["functions"]]
    assert paths == ["a:hot"]  # the minute of a:old fell out of retention
    (hot,) = m.summary(now, 1)["functions"]
    assert hot["calls"] == [SAMPLES_PER_BUCKET * 3]  # every call counted
    assert len(m._buckets[int(now // BUCKET_MS)]["a:hot"].durations) == SAMPLES_PER_BUCKET
    assert 0.0 <= hot["p50Ms"][0] <= 9.0


def test_percentile_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0], 0.99) == 3.0
    values = [float(v) for v in range(1, 11)]
    assert (percentile(values, 0.5), percentile(values, 0.9), percentile(values, 0.99)) == (
        5.0,
        9.0,
        10.0,
    )
