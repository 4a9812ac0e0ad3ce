"""The packaged price catalogue, overrides, and cost arithmetic."""

from __future__ import annotations

import datetime

import pytest

from tierwise.config import Config, ModelPrice
from tierwise.core.errors import ConfigError
from tierwise.core.models import ModelRef, Usage
from tierwise.providers.catalogue import Catalogue

# The ids the price notes list (read 2026-11-22); each must have a row.
LISTED = [
    "claude-haiku-4-5", "claude-sonnet-4-6", "claude-sonnet-4-5", "claude-opus-4-5",
    "claude-opus-4-6", "claude-opus-4-7", "claude-opus-4-8", "claude-opus-5", "claude-opus-4",
    "claude-opus-4-1", "claude-sonnet-5", "claude-sonnet-5-5", "claude-haiku-5-5", "gpt-4o",
    "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-5", "gpt-5-mini",
    "gpt-5-nano", "gemini-2.5-flash", "gemini-2.5-flash-lite", "deepseek-chat",
]  # fmt: skip


@pytest.fixture
def catalogue() -> Catalogue:
    """The packaged catalogue, no overrides."""
    return Catalogue.load()


def test_catalogue_is_dated(catalogue: Catalogue) -> None:
    assert catalogue.as_of == "2026-11-22"


def test_every_listed_model_has_a_row(catalogue: Catalogue) -> None:
    assert sorted(LISTED) == sorted(catalogue.rows())


def test_every_row_is_a_plausible_price_with_source_and_date(catalogue: Catalogue) -> None:
    newest = datetime.date.fromisoformat(catalogue.as_of)
    for model_id, row in catalogue.rows().items():
        assert 0 < row.input <= row.output, model_id
        if row.cache_read is not None:
            assert 0 < row.cache_read < row.input, model_id
        if row.cache_write is not None:
            assert row.cache_write > row.input, model_id  # writing the cache costs extra
        assert row.source.strip(), model_id
        assert datetime.date.fromisoformat(row.as_of) <= newest, model_id


def test_aliases_point_at_rows(catalogue: Catalogue) -> None:
    aliases = catalogue.aliases()
    assert aliases
    for alias, target in aliases.items():
        assert catalogue.price(alias) == catalogue.price(target)


def test_dated_snapshot_ids_bill_like_the_undated_model(catalogue: Catalogue) -> None:
    assert catalogue.price("claude-haiku-4-5-20251001") == catalogue.price("claude-haiku-4-5")
    assert catalogue.price("gpt-4o-2024-08-06") == catalogue.price("gpt-4o")


def test_every_default_tier_model_is_priced(catalogue: Catalogue) -> None:
    config = Config()
    for tier in config.tiers.values():
        for ref in tier.models:
            model = ModelRef.parse(ref)
            if not config.providers[model.provider].local:
                assert catalogue.knows(model.model), ref


def test_unknown_model_is_an_error_never_zero(catalogue: Catalogue) -> None:
    with pytest.raises(
        ConfigError, match=r"unknown model 'gpt-9-turbo'.*\[models\.\"gpt-9-turbo\"\]"
    ):
        catalogue.price("gpt-9-turbo")
    with pytest.raises(ConfigError):
        catalogue.cost("gpt-9-turbo", Usage(100, 100))
    with pytest.raises(ConfigError):
        catalogue.estimate("gpt-9-turbo", 100, 100)
    assert not catalogue.knows("gpt-9-turbo")


def test_local_calls_cost_nothing_whatever_the_model(catalogue: Catalogue) -> None:
    assert catalogue.cost("qwen2.5-coder:1.5b", Usage(5000, 5000), local=True) == 0.0
    assert catalogue.estimate("claude-opus-5", 5000, 5000, local=True) == 0.0


def test_cost_prices_each_kind_of_token_at_its_own_rate(catalogue: Catalogue) -> None:
    usage = Usage(
        input_tokens=1000, output_tokens=2000, cache_read_tokens=3000, cache_write_tokens=4000
    )
    # claude-sonnet-4-6: $3 in, $15 out, $0.30 cache read, $3.75 cache write per million.
    expected = (1000 * 3.00 + 2000 * 15.00 + 3000 * 0.30 + 4000 * 3.75) / 1e6
    assert catalogue.cost("claude-sonnet-4-6", usage) == pytest.approx(expected)
    assert catalogue.cost("claude-sonnet-4-6", usage) == pytest.approx(0.0489)


def test_a_missing_cache_write_rate_bills_as_input(catalogue: Catalogue) -> None:
    # gpt-4.1 publishes no cache-write rate: $2 in, $8 out, $0.50 cache read.
    usage = Usage(
        input_tokens=1000, output_tokens=500, cache_read_tokens=2000, cache_write_tokens=100
    )
    expected = (1000 * 2.00 + 500 * 8.00 + 2000 * 0.50 + 100 * 2.00) / 1e6
    assert catalogue.cost("gpt-4.1", usage) == pytest.approx(expected)


def test_estimate_has_no_cache_discount(catalogue: Catalogue) -> None:
    assert catalogue.estimate("gpt-5-mini", 4000, 1000) == pytest.approx(
        (4000 * 0.25 + 1000 * 2.00) / 1e6
    )


def test_overrides_replace_and_extend_rows() -> None:
    catalogue = Catalogue.load(
        {
            "gpt-4o": ModelPrice(input=1.0, output=4.0, source="our contract", as_of="2026-11-01"),
            "my-finetune": ModelPrice(input=0.5, output=1.5, cache_read=0.05),
        }
    )

    assert catalogue.price("gpt-4o").source == "our contract"
    assert catalogue.cost("gpt-4o", Usage(1_000_000, 1_000_000)) == pytest.approx(5.0)
    assert catalogue.cost("my-finetune", Usage(0, 0, cache_read_tokens=1_000_000)) == pytest.approx(
        0.05
    )
    assert catalogue.price("claude-haiku-4-5").input == 1.0  # other rows untouched
    assert Catalogue.load().price("gpt-4o").input == 2.5  # overrides are per instance


def test_an_override_wins_over_an_alias_of_the_same_name() -> None:
    catalogue = Catalogue.load({"claude-opus-latest": ModelPrice(input=7.0, output=30.0)})
    assert catalogue.price("claude-opus-latest").input == 7.0


@pytest.mark.parametrize(
    "row",
    [ModelPrice(input=-1.0, output=2.0), ModelPrice(input=1.0, output=float("nan")),
     ModelPrice(input=1.0, output=2.0, cache_read=-0.1)],
)  # fmt: skip
def test_an_invalid_override_is_a_config_error_at_load(row: ModelPrice) -> None:
    with pytest.raises(ConfigError, match="my-model"):
        Catalogue.load({"my-model": row})


def test_defaults_and_aliases_avoid_models_the_sdk_deprecates(catalogue: Catalogue) -> None:
    """The SDK warns on every call to a model in its own deprecation list: no default tier
    model and no alias may be one of them, and each must still have a price row."""
    from anthropic._data import DEPRECATED_MODELS  # the SDK's own list (it warns from it)

    assert "claude-opus-4-5" in DEPRECATED_MODELS  # the list is the one the lead saw warn
    defaults = [ModelRef.parse(ref) for tier in Config().tiers.values() for ref in tier.models]
    anthropic = [ref.model for ref in defaults if ref.provider == "anthropic"]
    assert anthropic, "the default tiers name Anthropic models"
    for model in [*anthropic, *catalogue.aliases().values()]:
        assert model not in DEPRECATED_MODELS, f"{model} is deprecated by the SDK"
    for ref in defaults:
        if ref.provider != "local":
            assert catalogue.price(ref.model).input > 0
    assert Config().tiers["frontier"].models[0] == "anthropic:claude-opus-5"
