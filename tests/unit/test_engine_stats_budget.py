"""Engine.stats() reports the budget caps and what was spent against them (the editor's
status tooltip shows the day's budget use from it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tierwise.config import Config
from tierwise.core.records import evolve
from tierwise.engine import Engine
from tierwise.ledger import LedgerRow


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("TIERWISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TIERWISE_CACHE_DIR", str(tmp_path / "cache"))
    config = Config()
    config = evolve(config, budget=evolve(config.budget, daily_usd=2.0, mode="hard"))
    return Engine(config, workspace_root=str(tmp_path))


def _row(when: datetime, cost: float) -> LedgerRow:
    return LedgerRow(
        action="review", language="python", tier="mid", ts=when.isoformat(), cost_usd=cost
    )


def test_stats_give_the_caps_and_todays_and_this_months_spend(engine: Engine) -> None:
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    assert engine.ledger is not None
    engine.ledger.record(_row(now, 0.25))
    engine.ledger.record(_row(now, 0.5))
    engine.ledger.record(_row(midnight - timedelta(seconds=1), 4.0))  # yesterday
    budget = engine.stats()["budget"]
    assert budget["daily_usd"] == 2.0 and budget["monthly_usd"] == 0.0
    assert budget["mode"] == "hard"
    assert budget["spent_today_usd"] == pytest.approx(0.75)
    same_month = (midnight - timedelta(seconds=1)).month == now.month
    assert budget["spent_month_usd"] == pytest.approx(4.75 if same_month else 0.75)


def test_spend_is_reported_without_a_cap_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIERWISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TIERWISE_CACHE_DIR", str(tmp_path / "cache"))
    engine = Engine(Config(), workspace_root=str(tmp_path))
    assert engine.ledger is not None
    engine.ledger.record(_row(datetime.now(UTC), 0.125))
    budget = engine.stats()["budget"]
    assert budget["daily_usd"] == 0.0
    assert budget["spent_today_usd"] == pytest.approx(0.125)
