"""Shared hypothesis settings and the fuzz case counter (printed at the end of the run).

The counts are per CI run; `tests/protocol/conftest.py` prints them in the terminal summary
so that the figure quoted in docs/security.md can be checked in any CI log.
"""

from __future__ import annotations

import os
from collections import Counter

from hypothesis import HealthCheck, settings

CASES: Counter[str] = Counter()
LATENCIES: dict[str, float] = {}  # the worst request latency seen, per kind of test
SUMMARY: list[str] = []  # other figures for the end of the run (the soak's footprint)

# No example database (CI checkouts are clean) and no per-example deadline: the hang bound is
# the raw client's answer timeout, not a timing assertion.
FUZZ = settings(
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
    print_blob=True,
)


def count(kind: str) -> None:
    """Count one generated case of a kind."""
    CASES[kind] += 1


# TIERWISE_FUZZ_SCALE=10 runs ten times the CI cases (a longer hunt, outside CI).
SCALE = float(os.environ.get("TIERWISE_FUZZ_SCALE", "1"))


def examples(n: int) -> settings:
    """FUZZ with n examples per CI run (times TIERWISE_FUZZ_SCALE)."""
    return settings(FUZZ, max_examples=max(1, int(n * SCALE)))
