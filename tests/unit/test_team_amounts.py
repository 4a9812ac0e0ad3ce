"""What one request adds to the team's day counters: the same savings rule as the ledger's
summary (a static answer, with no model, credits no all-frontier baseline)."""

from __future__ import annotations

import pytest

from tests.unit.test_ledger import row
from tierwise.engine.team import amounts


def test_a_model_answer_credits_its_baseline_and_a_static_one_none() -> None:
    model = amounts(row(tier="budget", cost_usd=0.01, baseline_usd=0.05), "alice")
    assert model["baseline_usd"] == pytest.approx(0.05)
    assert model["tier:budget:baseline_usd"] == pytest.approx(0.05)
    static = amounts(row(tier="static", wanted_tier="budget", baseline_usd=0.0183), "alice")
    assert static["requests"] == 1 and static["tier:static:requests"] == 1
    assert not any(field.endswith("baseline_usd") for field in static)
    assert amounts(row(outcome="refused", baseline_usd=0.2), "alice") == {}
