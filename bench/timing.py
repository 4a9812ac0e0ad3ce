"""Shared timing and table helpers for the benchmarks (medians and tails, not single runs)."""

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


def quantile(samples: list[float], q: float) -> float:
    """The q-quantile by rank (p99 of 300 samples is the third largest)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def table(
    title: str, rows: list[tuple[str, list[float]]], baseline: str, *, extra: str = ""
) -> str:
    """Median, p90 and p99 per row, with each median's and p99's ratio to the baseline row's."""
    base = dict(rows)[baseline]
    base_median, base_p99 = statistics.median(base), quantile(base, 0.99)
    lines = [
        title,
        f"{'measurement':<52} {'n':>5} {'median':>10} {'p90':>10} {'p99':>10}"
        f" {'ratio':>8} {'p99 ratio':>9}",
    ]
    for name, samples in rows:
        median = statistics.median(samples)
        p99 = quantile(samples, 0.99)
        lines.append(
            f"{name:<52} {len(samples):>5} {fmt(median):>10} {fmt(quantile(samples, 0.9)):>10}"
            f" {fmt(p99):>10} {median / base_median:>7.2f}x {p99 / base_p99:>8.2f}x"
        )
    if extra:
        lines.append(extra)
    return "\n".join(lines)


def over(rows: list[tuple[str, list[float]]], name: str, baseline: str) -> str:
    """ "NAME: bare + X median, + Y p99" (the difference of medians and of p99s)."""
    samples, base = dict(rows)[name], dict(rows)[baseline]
    median = statistics.median(samples) - statistics.median(base)
    p99 = quantile(samples, 0.99) - quantile(base, 0.99)
    return f"  {name}: baseline {_signed(median)} median, {_signed(p99)} p99"


def _signed(seconds: float) -> str:
    return f"{'+' if seconds >= 0 else '-'} {fmt(abs(seconds))}"
