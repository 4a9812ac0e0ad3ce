"""A tier never costs more than the tier above it for the same tokens (checked at load)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierwise.config import Config
from tierwise.core.errors import ConfigError
from tierwise.core.records import evolve
from tierwise.engine import Engine


@pytest.fixture(autouse=True)
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERWISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TIERWISE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")


def with_tiers(**models: list[str]) -> Config:
    config = Config()
    tiers = dict(config.tiers)
    for label, refs in models.items():
        tiers[label] = evolve(tiers[label], models=refs)
    return evolve(config, tiers=tiers)


def test_the_packaged_tier_map_is_priced_in_ladder_order() -> None:
    assert Engine(Config()).pricing.price_warnings() == []


def test_only_openai_with_gpt_4_1_as_mid_is_named_with_its_prices() -> None:
    # The case: mid gpt-4.1 ($2/M in) priced an explain above frontier gpt-5 ($1.25/M).
    config = with_tiers(mid=["anthropic:claude-sonnet-4-6", "openai:gpt-4.1"])
    (warning,) = Engine(config).pricing.price_warnings()
    assert "tiers.mid model openai:gpt-4.1 ($2/M input, $8/M output)" in warning
    assert "tiers.frontier model openai:gpt-5 ($1.25/M input, $10/M output)" in warning


def test_a_user_map_whose_budget_costs_more_than_mid_is_named() -> None:
    config = with_tiers(budget=["openai:gpt-5"], mid=["openai:gpt-5-mini"])
    warnings = Engine(config).pricing.price_warnings()
    assert any("tiers.budget model openai:gpt-5 " in w and "tiers.mid" in w for w in warnings)


def test_a_reload_that_fails_on_prices_keeps_all_of_the_running_configuration() -> None:
    # The server answers a failed reload with "keeping the previous configuration": that must
    # be true of every part, not only of the part that failed (prices are checked last).
    engine = Engine(Config())
    before = (engine.config, engine.pool, engine.policy, engine.pricing, engine.catalogue)
    broken = evolve(
        with_tiers(mid=["openai:no-such-model-anywhere"]),
        routing=evolve(Config().routing, base={**Config().routing.base, "review": "budget"}),
    )
    with pytest.raises(ConfigError, match="no-such-model-anywhere"):
        engine.reconfigure(broken)
    after = (engine.config, engine.pool, engine.policy, engine.pricing, engine.catalogue)
    assert all(a is b for a, b in zip(before, after, strict=True))
    assert engine.executor.pricing is engine.pricing
