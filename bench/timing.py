"""Shared timing and table helpers for the benchmark scripts (medians, not single runs)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any


def sample(fn: Callable[[], Any], repeat: int, warmup: int = 3) -> list[float]:
    """Seconds per call of `fn`, `repeat` times after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


async def sample_async(
    fn: Callable[[], Awaitable[Any]], repeat: int, warmup: int = 3
) -> list[float]:
    """Seconds per awaited call of `fn`, `repeat` times after `warmup` untimed calls."""
    for _ in range(warmup):
        await fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        await fn()
        out.append(time.perf_counter() - start)
    return out


def fmt(seconds: float) -> str:
    """A duration with a unit that keeps three significant figures readable."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def table(title: str, rows: list[tuple[str, list[float]]], baseline: str) -> str:
    """A table of median and p90 per row, with each median's ratio to the baseline row's."""
    base = statistics.median(dict(rows)[baseline])
    lines = [
        title,
        f"{'measurement':<46} {'n':>5} {'median':>10} {'p90':>10} {'ratio':>8}",
    ]
    for name, samples in rows:
        ordered = sorted(samples)
        p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
        median = statistics.median(samples)
        lines.append(
            f"{name:<46} {len(samples):>5} {fmt(median):>10} {fmt(p90):>10} {median / base:>7.2f}x"
        )
    return "\n".join(lines)
