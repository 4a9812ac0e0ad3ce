"""The tune rules on constructed ledgers (docs/routing.md, "Tune rules"): thin data, raising,
lowering, the risk floor, the window, and what counts as a re-ask."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tierwise.config import Config
from tierwise.core.tiers import Tier
from tierwise.engine.tune import MIN_SAMPLE, Rules, section, tune
from tierwise.ledger import Ledger, LedgerRow, TuneRow
from tierwise.routing.policy import Policy

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
POLICY = Policy.from_config(Config())
CLOUD = frozenset({Tier.BUDGET, Tier.MID, Tier.FRONTIER})


def add(
    ledger: Ledger,
    n: int,
    *,
    action: str = "docstring",
    tier: str = "mid",
    risk: str = "none",
    start: datetime = NOW - timedelta(days=3),
    gap: timedelta = timedelta(hours=1),
    reask_every: int = 0,
    applied: bool | None = True,
    declined_every: int = 0,
    verified: bool | None = True,
    failed_every: int = 0,
    cost: float = 0.01,
    prefix: str = "t",
    cache_hit: bool = False,
) -> None:
    """`n` served requests of one cell, one target each, an hour apart; every `reask_every`th
    is asked again a minute later (on the tier above, as the repeat rule sends it). Cache
    hits cost nothing, on any tier."""
    for i in range(n):
        at = start + gap * i
        is_declined = bool(declined_every) and i % declined_every == 0
        reasked = bool(reask_every) and i % reask_every == 0
        row = LedgerRow(
            action=action,
            language="python",
            tier=tier,
            cell_tier=tier,
            risk=risk,
            ts=at.isoformat(),
            target=f"{prefix}{i}",
            output_tokens=150,
            input_tokens=600,
            cache_hit=cache_hit,
            cost_usd=0.0 if cache_hit else cost,
            baseline_usd=0.0 if cache_hit else cost * 5,
            outcome="declined" if is_declined else "ok",
            applied=False if is_declined else (None if reasked else applied),
            verified=False if failed_every and i % failed_every == 0 else verified,
        )
        ledger.record(row)
        if reasked:
            again = Tier.parse(tier).up() if tier != "frontier" else Tier.FRONTIER
            ledger.record(
                LedgerRow(
                    action=action,
                    language="python",
                    tier=again.label,
                    cell_tier=tier,  # the rules' tier: the repeat step moved it up
                    risk=risk,
                    ts=(at + timedelta(minutes=1)).isoformat(),
                    target=f"{prefix}{i}",
                    output_tokens=150,
                    cost_usd=cost * 3,
                    applied=True,
                )
            )


def price(tier: Tier, row: TuneRow) -> float:
    """A catalogue stand-in: budget a fifth of mid, frontier five times mid, per row."""
    return {Tier.BUDGET: 0.002, Tier.MID: 0.01, Tier.FRONTIER: 0.05}.get(tier, 0.0)


def judged(ledger: Ledger, *, configured: frozenset[Tier] = CLOUD, days: float = 28) -> Any:
    rows = ledger.tune_rows(NOW - timedelta(days=days))
    found = tune(
        rows,
        Rules(policy=POLICY, configured=configured),
        window_days=days,
        now=NOW.timestamp(),
        price=price,
    )
    return {(f.cell.action, f.cell.tier, f.cell.risk): f for f in found}


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.sqlite3")


def test_thin_data_makes_no_suggestion_and_says_so(ledger: Ledger) -> None:
    add(ledger, 7, reask_every=2)  # re-asked often, but only seven requests
    (found,) = judged(ledger).values()
    assert found.verdict == "thin" and found.to is None
    assert found.text() == "docstring at mid: n=7, 3 days → not enough data (n=7 < 20)"


def test_a_cell_re_asked_often_is_raised_with_its_evidence(ledger: Ledger) -> None:
    add(ledger, 42, action="review", tier="mid", reask_every=3, applied=None)
    found = judged(ledger)[("review", "mid", "none")]
    assert found.verdict == "raise" and found.to == "frontier"
    assert found.cell.requests == 42 and found.cell.reasked == 14
    # 42 mid answers at $0.01; on frontier $0.05 each: $1.68 more over 3 days.
    assert found.weekly_usd == pytest.approx(42 * 0.04 / 3 * 7)
    assert found.text().startswith(
        "review at mid: re-asked 33% of the time (14 of 42), checks failed 0% (0 of 42)"
        " (n=42, 3 days) → suggest mid → frontier (costs ~$3.92/week more)"
    )
    # The escalated re-asks are no evidence about mid: they are not in any cell of their own.
    assert ("review", "frontier", "none") not in judged(ledger)


def test_declines_and_failed_checks_raise_too(ledger: Ledger) -> None:
    add(ledger, 30, action="rename", tier="budget", declined_every=3)
    add(ledger, 30, action="docstring", tier="budget", failed_every=4, prefix="d")
    found = judged(ledger)
    assert found[("rename", "budget", "none")].to == "mid"  # 10 of 30 declined: 33%
    assert "applied 67% (20 of 30 edits)" in found[("rename", "budget", "none")].evidence
    assert found[("docstring", "budget", "none")].to == "mid"  # 8 of 30 failed: 27%
    assert "checks failed 27% (8 of 30)" in found[("docstring", "budget", "none")].evidence


def test_a_cell_applied_and_never_re_asked_is_lowered_with_its_saving(ledger: Ledger) -> None:
    add(ledger, 80, start=NOW - timedelta(days=27), gap=timedelta(hours=8))  # all applied
    found = judged(ledger)[("docstring", "mid", "none")]
    assert found.verdict == "lower" and found.to == "budget"
    assert found.window_days == pytest.approx(27.0)  # what the rows cover, not the 28 asked
    assert found.weekly_usd == pytest.approx(80 * (0.002 - 0.01) / 27 * 7)
    assert "never re-asked, applied 100% (80 of 80 edits)" in found.text()
    assert "suggest mid → budget (saves ~$0.17/week)" in found.text()


def test_cache_hits_count_in_the_cell_but_not_in_its_change_in_spend(ledger: Ledger) -> None:
    add(ledger, 80, start=NOW - timedelta(days=27), gap=timedelta(hours=8))  # all applied
    # the same cell answered from the cache: it cost nothing, on any tier
    add(
        ledger,
        20,
        start=NOW - timedelta(days=2),
        gap=timedelta(minutes=1),
        prefix="hit",
        cache_hit=True,
    )
    found = judged(ledger)[("docstring", "mid", "none")]
    assert found.to == "budget" and found.cell.requests == 100
    assert found.weekly_usd == pytest.approx(80 * (0.002 - 0.01) / 27 * 7)


def test_lowering_an_edit_needs_judged_edits(ledger: Ledger) -> None:
    add(ledger, 40, applied=None)  # never re-asked, but nobody applied or declined anything
    found = judged(ledger)[("docstring", "mid", "none")]
    assert found.to is None and found.note == "keep: too few edits judged to lower it (0 < 10)"


def test_a_risk_promoted_cell_is_never_lowered_below_its_promotion(ledger: Ledger) -> None:
    add(ledger, 40, action="review", tier="frontier", risk="sql", applied=None, verified=None)
    add(ledger, 40, action="review", tier="frontier", applied=None, verified=None, prefix="p")
    found = judged(ledger)
    risky = found[("review", "frontier", "sql")]
    assert risky.verdict == "keep" and risky.to is None
    assert risky.note == "keep: sql code stays at frontier or above for review (risk promotion)"
    assert found[("review", "frontier", "none")].to == "mid"  # the same figures, no risk


def test_a_suggestion_names_only_configured_tiers(ledger: Ledger) -> None:
    add(ledger, 80)
    found = judged(ledger, configured=frozenset({Tier.MID, Tier.FRONTIER}))
    assert found[("docstring", "mid", "none")].to is None
    assert "no lower tier is configured" in found[("docstring", "mid", "none")].note


def test_the_window_leaves_older_rows_out(ledger: Ledger) -> None:
    add(ledger, 30, start=NOW - timedelta(days=40), reask_every=2, prefix="old")
    add(ledger, 10, start=NOW - timedelta(days=2), prefix="new")
    (found,) = judged(ledger).values()
    assert found.cell.requests == 10 and found.verdict == "thin"
    wider = judged(ledger, days=60)[("docstring", "mid", "none")]
    assert wider.cell.requests == 40 and wider.verdict == "raise"


def test_a_re_ask_is_a_repeat_as_routing_defines_it(ledger: Ledger) -> None:
    start = NOW - timedelta(days=1)
    rows: list[tuple[str, int, dict[str, Any]]] = [
        # target a: answered, asked again 5 minutes later: a re-ask
        ("a", 0, dict()),
        ("a", 5, dict()),
        # target b: applied, then asked again: accepted, not a re-ask
        ("b", 0, dict(applied=True)),
        ("b", 5, dict()),
        # target c: a cache hit asked again: no new answer was produced, not a complaint
        ("c", 0, dict(cache_hit=True)),
        ("c", 5, dict()),
        # target d: asked again after the escalation window (15 minutes): a new ask
        ("d", 0, dict()),
        ("d", 20, dict()),
        # target e: a declined cache hit asked again: seen and refused, a re-ask
        ("e", 0, dict(cache_hit=True, outcome="declined", applied=False)),
        ("e", 5, dict()),
    ]
    for target, minutes, extra in rows:
        fields: dict[str, Any] = dict(
            action="explain", language="python", tier="mid", cell_tier="mid", output_tokens=400
        )
        fields.update(extra)
        ledger.record(
            LedgerRow(ts=(start + timedelta(minutes=minutes)).isoformat(), target=target, **fields)
        )
    (found,) = judged(ledger).values()
    assert found.cell.requests == 10 and found.cell.reasked == 2  # a and e


def test_section_is_the_json_stats_and_the_cli_share(ledger: Ledger) -> None:
    from tierwise.engine.pricing import Pricing
    from tierwise.providers.catalogue import Catalogue
    from tierwise.providers.pool import ProviderPool

    config = Config()
    add(ledger, 80, start=datetime.now(UTC) - timedelta(days=3))
    pricing = Pricing(config, Catalogue.load(), ProviderPool(config))
    data = section(ledger, POLICY, pricing)
    assert data["window_days"] == 28 and data["min_sample"] == MIN_SAMPLE
    (cell,) = data["cells"]
    assert data["suggestions"] == [cell]
    assert cell["suggest"] == "budget" and cell["requests"] == 80 and cell["applied_rate"] == 1.0
    # The saving is priced at the catalogue's budget model against the ledger's own $0.01 a row.
    budget = pricing.availability.price_option(Tier.BUDGET)
    assert budget is not None
    each = budget.cost(600, 150)
    assert cell["weekly_usd"] == pytest.approx(80 * (each - 0.01) / 3 * 7, rel=1e-3)


def test_stats_and_tune_texts_print_the_suggestions_and_the_thin_cells(ledger: Ledger) -> None:
    from tierwise import report

    add(ledger, 80, start=NOW - timedelta(days=27), gap=timedelta(hours=8))
    add(ledger, 7, action="explain", prefix="e")
    found = judged(ledger).values()
    data: dict[str, Any] = {
        "window_days": 28,
        "min_sample": MIN_SAMPLE,
        "cells": [f.to_json() for f in found],
        "suggestions": [f.to_json() for f in found if f.to is not None],
    }
    lines = report.tune_text(data, source="the ledger").split("\n")
    assert lines[1].startswith("  docstring at mid: never re-asked") and "→ suggest" in lines[1]
    assert lines[2] == "  explain at mid: n=7, 27 days → not enough data (n=7 < 20)"
    assert lines[3] == "1 suggestion; the cells above spent $0.8700 (all-frontier: $4.35)"
    stats = report.stats_text({"tune": data})
    assert stats.split("\n") == [
        "tune (28 days; `tierwise tune` for every cell):",
        "  " + data["suggestions"][0]["text"],
    ]


def test_requests_in_no_cell_are_not_called_no_requests(ledger: Ledger) -> None:
    from tierwise import report
    from tierwise.engine.pricing import Pricing
    from tierwise.providers.catalogue import Catalogue
    from tierwise.providers.pool import ProviderPool

    config = Config()
    pricing = Pricing(config, Catalogue.load(), ProviderPool(config))
    empty = section(ledger, POLICY, pricing)
    assert (empty["requests"], empty["cells"]) == (0, [])
    assert report.tune_text(empty, source="l").endswith(
        "no requests in the window: nothing to judge yet"
    )
    # Without a key every docstring is a static answer below the budget tier the rules chose:
    # requests in the window, none in a cell.
    for i in range(3):
        ledger.record(
            LedgerRow(
                action="docstring",
                language="python",
                tier="static",
                cell_tier="budget",
                wanted_tier="budget",
                target=f"s{i}",
                model="",
                provider="",
            )
        )
    data = section(ledger, POLICY, pricing)
    assert (data["requests"], data["cells"]) == (3, [])
    text = report.tune_text(data, source="l")
    assert "no requests" not in text
    assert text.split("\n")[1].startswith("3 requests in the window, none answered by the tier")
