"""The cost replay in CI: the first actions of bench/replay.jsonl through the real engine and
the provider fakes, checking behaviour only (no timings, no dollar targets): the savings
ordering of the configurations, and that no labelled high-stakes request is routed below
frontier. `python -m bench.replay` measures the whole workload (docs/routing.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench.replay import SETUPS, Summary, load_workload, replay, summarise

ACTIONS = 110  # enough for re-runs, a moved function and labelled high-stakes reviews
NAMES = ("all-frontier", "routed, no cache", "routed + cache", "the same with a local tier")


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the routed + cache replay leaves its ledger (bench.replay --keep-ledger)."""
    return tmp_path_factory.mktemp("replay") / "ledger.sqlite3"


@pytest.fixture(scope="module")
def summaries(kept: Path) -> dict[str, Summary]:
    """The chosen setups, one long-lived engine each, as the server runs."""
    workload = load_workload(ACTIONS)
    out = {}
    for setup in SETUPS:
        if setup.name in NAMES:
            keep = kept if setup.name == "routed + cache" else None
            rows = asyncio.run(replay(workload, setup, "server", keep))
            out[setup.name] = summarise(setup, "server", rows, 0.0)
    return out


def test_the_kept_ledger_is_what_tune_reads(summaries: dict[str, Summary], kept: Path) -> None:
    from datetime import UTC, datetime

    from tierwise.config import Config
    from tierwise.core.tiers import Tier
    from tierwise.engine.tune import Rules, cells, tune
    from tierwise.ledger import Ledger
    from tierwise.routing.policy import Policy

    ledger = Ledger(kept)
    try:
        rows = ledger.tune_rows(datetime(2000, 1, 1, tzinfo=UTC))
    finally:
        ledger.close()
    assert len(rows) >= ACTIONS  # a row per action, and one per retry after a failed check
    policy = Policy.from_config(Config())
    found = cells(rows, policy.escalate_window_s)
    # The workload's re-runs are repeats and its declines are declined edits.
    assert sum(c.reasked for c in found) > 0 and sum(c.declined for c in found) > 0

    rules = Rules(policy=policy, configured=frozenset({Tier.BUDGET, Tier.MID, Tier.FRONTIER}))
    judged = tune(rows, rules, window_days=28, now=rows[-1].ts, price=lambda _t, _r: 0.0)
    for f in judged:
        if f.to is not None:
            assert f.cell.requests >= 20 and f"n={f.cell.requests}" in f.evidence
        if f.verdict == "lower" and f.cell.risk != "none":
            assert Tier.parse(f.to or "") >= Tier.FRONTIER  # never below a risk promotion


def test_the_slice_holds_what_the_checks_need() -> None:
    workload = load_workload(ACTIONS)
    assert sum(e["stakes"] == "high" for e in workload) >= 10
    assert {e["kind"] for e in workload} >= {"first", "rerun"}
    assert {e["action"] for e in workload} == {"docstring", "rename", "explain", "review", "design"}


def test_every_action_is_answered(summaries: dict[str, Summary]) -> None:
    for s in summaries.values():
        assert s.actions == ACTIONS and not s.failed, (s.setup.name, s.failed)


def test_routing_then_the_cache_then_a_local_tier_each_cost_less(
    summaries: dict[str, Summary],
) -> None:
    costs = [summaries[name].cost for name in NAMES]
    assert costs[0] > costs[1] >= costs[2] > costs[3] >= 0.0, costs
    assert summaries["routed + cache"].hit_rate > 0.0
    assert summaries["routed, no cache"].hit_rate == 0.0


def test_no_labelled_high_stakes_request_is_routed_below_frontier(
    summaries: dict[str, Summary],
) -> None:
    for name in NAMES[1:]:
        s = summaries[name]
        assert s.high >= 10 and not s.high_below, (name, s.high_below)


def test_the_replay_fake_answers_each_action_as_a_passing_model_would(
    summaries: dict[str, Summary], kept: Path
) -> None:
    """docs/routing.md's replay figures assume answers of each action's length (a reply the
    fake did not recognise the ask of is "An answer.", 3 tokens) and cheap docstrings that name
    their parameters; the retries a failed check costs are the separate, bounding row."""
    import sqlite3

    con = sqlite3.connect(kept)
    try:
        checked, failed = con.execute(
            "SELECT COUNT(*), COALESCE(SUM(failed_check = 'docstring.params'), 0) FROM requests"
            " WHERE action = 'docstring' AND verified IS NOT NULL"
        ).fetchone()
        shortest = dict(
            con.execute(
                "SELECT action, MIN(output_tokens) FROM requests"
                " WHERE outcome = 'ok' AND cache_hit = 0 AND tier != 'static' GROUP BY action"
            ).fetchall()
        )
    finally:
        con.close()
    assert checked > 20 and failed == 0, (checked, failed)
    assert set(shortest) == {"docstring", "rename", "explain", "review", "design"}, shortest
    assert all(tokens >= 20 for tokens in shortest.values()), shortest
