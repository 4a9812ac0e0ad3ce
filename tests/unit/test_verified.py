"""Verified cheap answers (docs/routing.md, "Verified answers"): flawed replies from the wire
fakes, through the real engine and SDKs, fail their action's check and are retried once one
tier up, visibly, and never above the user's tier, the routing ceiling or the budget."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.lsp_helpers import FAKE_KEY, user_config
from tests.fakes.wire import FakeProvider
from tests.fakes.wire_formats import text_of
from tierwise.config import Config, load_config
from tierwise.core.errors import BadResponse
from tierwise.core.tiers import Tier
from tierwise.engine import Engine, Event, Outcome

SOURCE = """\
def order_total(price, qty, discount=0):
    total = price * qty
    if discount:
        total -= discount
    return total
"""
GOOD_DOC = (
    "Compute the total of an order line.\n\nArgs:\n    price: Unit price.\n"
    "    qty: Number of units.\n    discount: Amount taken off.\n\nReturns:\n    The total."
)
# qty is missing: the example in issue 10.
FLAWED_DOC = (
    "Compute the total of an order line.\n\nArgs:\n    price: Unit price.\n"
    "    discount: Amount taken off.\n\nReturns:\n    The total."
)
TIER_OF = {
    "claude-haiku-4-5": "budget",
    "gpt-5-nano": "budget",
    "claude-sonnet-4-6": "mid",
    "gpt-5-mini": "mid",
    "claude-opus-5": "frontier",
    "gpt-5": "frontier",
}
Replies = dict[str, dict[str, str]]  # action -> tier -> reply


def answer(replies: Replies) -> Callable[[dict[str, Any]], str]:
    """A responder answering each action by the tier of the model asked."""

    def respond(body: dict[str, Any]) -> str:
        prompt = text_of(body.get("messages", []))
        tier = TIER_OF[body["model"]]
        if '{"findings"' in prompt:
            return replies["review"][tier]
        if '{"candidates"' in prompt:
            return replies["rename"][tier]
        if "Explain" in prompt:
            return replies["explain"][tier]
        return replies["docstring"][tier]

    return respond


REPLIES: Replies = {
    "docstring": {"budget": FLAWED_DOC, "mid": GOOD_DOC, "frontier": GOOD_DOC},
    "rename": {
        # `total` is a local of the function: the renamed definition would shadow it.
        "budget": json.dumps({"candidates": [{"name": "total", "reason": "short"}]}),
        "mid": json.dumps({"candidates": [{"name": "line_total", "reason": "says which"}]}),
        "frontier": json.dumps({"candidates": [{"name": "line_total", "reason": "x"}]}),
    },
    "review": {
        "mid": json.dumps(
            {"findings": [{"line": 4, "severity": "warning", "message": "may go negative",
                           "replacement": "total = max(0, total - discount"}]}
        ),
        "frontier": json.dumps(
            {"findings": [{"line": 4, "severity": "warning", "message": "may go negative",
                           "replacement": "total = max(0, total - discount)"}]}
        ),
    },
    "explain": {
        "mid": "It multiplies `price` by `qty`, then calls `apply_tax` on the result.",
        "frontier": "It multiplies `price` by `qty` and subtracts `discount` when given.",
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        server.responder = answer(REPLIES)
        yield server


def make_config(tmp_path: Path, fake: FakeProvider, extra: str = "") -> Config:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "config.toml"
    path.write_text(user_config(fake, extra), encoding="utf-8")
    loaded, _ = load_config(config_path=path, workspace_root=tmp_path)
    return loaded


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERWISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TIERWISE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)


def ask(
    engine: Engine, action: str, *, sticky: Tier | None = None, **options: Any
) -> tuple[Outcome, list[Event]]:
    task = engine.build_task(action, "shop.py", SOURCE, 0, 4, **options)
    events: list[Event] = []

    async def go() -> Outcome:
        try:
            return await engine.run(task, sticky=sticky, on_event=events.append)
        finally:
            await engine.stores.drain()

    return asyncio.run(go()), events


def rows(engine: Engine) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(engine.ledger_path)
    try:
        return con.execute(
            "SELECT tier, outcome, verified, failed_check, escalated_from, cost_usd, baseline_usd"
            " FROM requests ORDER BY id"
        ).fetchall()
    finally:
        con.close()


def warnings_of(events: list[Event]) -> list[str]:
    return [e.message for e in events if e.kind == "warning"]


def test_a_docstring_missing_a_parameter_is_retried_one_tier_up(
    tmp_path: Path, fake: FakeProvider
) -> None:
    engine = Engine(make_config(tmp_path, fake))
    outcome, events = ask(engine, "docstring")
    note = "budget's answer failed the check 'parameter qty not documented'; answered by mid"
    assert note in outcome.warnings
    assert note in warnings_of(events)
    assert any("asking mid" in w for w in warnings_of(events))  # said before the retry ran
    assert outcome.decision.tier is Tier.MID and outcome.escalated_from == "budget"
    assert outcome.verified is True
    assert "qty: Number of units." in outcome.result.docstring  # type: ignore[union-attr]
    (first, second) = rows(engine)
    assert first[:5] == ("budget", "ok", 0, "docstring.params", "")
    assert second[:5] == ("mid", "ok", 1, "", "budget")
    # Both calls are paid for and shown; the all-frontier baseline counts one answer, not two.
    assert outcome.cost_usd == pytest.approx(first[5] + second[5]) and first[5] > 0 < second[5]
    assert second[6] == 0.0 and outcome.baseline_usd == pytest.approx(first[6])
    assert outcome.decision.reasons[-1] == "budget's answer failed its check → mid"


def test_a_tier_the_user_asked_for_is_never_exceeded(tmp_path: Path, fake: FakeProvider) -> None:
    engine = Engine(make_config(tmp_path, fake))
    outcome, events = ask(engine, "docstring", tier="budget")
    note = (
        "budget's answer failed the check 'parameter qty not documented'; "
        "not retried: you asked for the budget tier"
    )
    assert note in outcome.warnings and note in warnings_of(events)
    assert outcome.decision.tier is Tier.BUDGET and outcome.verified is False
    assert rows(engine) == [("budget", "ok", 0, "docstring.params", "", *rows(engine)[0][5:])]


def test_a_sticky_session_tier_is_never_exceeded(tmp_path: Path, fake: FakeProvider) -> None:
    engine = Engine(make_config(tmp_path, fake))
    outcome, _ = ask(engine, "docstring", sticky=Tier.BUDGET)
    assert any("not retried: the session tier is set to budget" in w for w in outcome.warnings)
    assert [row[0] for row in rows(engine)] == ["budget"]


def test_the_routing_ceiling_is_never_exceeded(tmp_path: Path, fake: FakeProvider) -> None:
    engine = Engine(make_config(tmp_path, fake, '\n[routing]\nmax_tier = "budget"\n'))
    outcome, _ = ask(engine, "docstring")
    assert any("not retried: budget is the highest tier" in w for w in outcome.warnings)
    assert [row[0] for row in rows(engine)] == ["budget"]


def test_the_budget_is_never_exceeded(tmp_path: Path, fake: FakeProvider) -> None:
    probe = Engine(make_config(tmp_path, fake))
    estimates = probe.decide(probe.build_task("docstring", "shop.py", SOURCE, 0, 4)).estimates
    cap = (estimates["budget"] + estimates["mid"]) / 2  # room for a budget answer, not a mid one
    extra = f'\n[budget]\ndaily_usd = {cap}\nmode = "hard"\non_hard = "refuse"\n'
    engine = Engine(make_config(tmp_path / "capped", fake, extra))
    outcome, _ = ask(engine, "docstring")
    assert outcome.decision.tier is Tier.BUDGET and outcome.verified is False
    assert any("not retried: refused by the hard daily budget" in w for w in outcome.warnings)
    assert [row[0] for row in rows(engine)] == ["budget"]


def test_a_rename_that_collides_with_a_name_in_scope_is_retried(
    tmp_path: Path, fake: FakeProvider
) -> None:
    engine = Engine(make_config(tmp_path, fake))
    outcome, _ = ask(engine, "rename")
    assert "budget's answer failed the check ''total' is already a name in scope'" in (
        " ".join(outcome.warnings)
    )
    assert [c.name for c in outcome.result.candidates] == ["line_total"]  # type: ignore[union-attr]
    assert [row[:5] for row in rows(engine)] == [
        ("budget", "ok", 0, "rename.collision", ""),
        ("mid", "ok", 1, "", "budget"),
    ]


def test_a_review_replacement_that_does_not_parse_is_retried_on_frontier(
    tmp_path: Path, fake: FakeProvider
) -> None:
    engine = Engine(make_config(tmp_path, fake))
    outcome, _ = ask(engine, "review")
    assert any("the replacement suggested at line 4 does not parse" in w for w in outcome.warnings)
    assert outcome.decision.tier is Tier.FRONTIER
    # Frontier has no tier above it to retry on: its answer is not checked.
    assert [row[:5] for row in rows(engine)] == [
        ("mid", "ok", 0, "review.replacement", ""),
        ("frontier", "ok", None, "", "mid"),
    ]


def test_an_explain_citing_a_name_not_in_the_code_is_retried(
    tmp_path: Path, fake: FakeProvider
) -> None:
    engine = Engine(make_config(tmp_path, fake))
    outcome, _ = ask(engine, "explain")
    assert (
        "mid's answer failed the check 'cites `apply_tax`, which is not in the code'; "
        "answered by frontier"
    ) in outcome.warnings
    assert [row[3] for row in rows(engine)] == ["explain.names", ""]


def test_a_cached_answer_is_checked_again_when_served(tmp_path: Path, fake: FakeProvider) -> None:
    engine = Engine(make_config(tmp_path, fake))
    ask(engine, "docstring", tier="budget")  # flawed, returned as asked for, and cached
    hit, _ = ask(engine, "docstring", tier="budget")
    assert hit.cache_hit and hit.verified is False
    assert any("not retried: you asked for the budget tier" in w for w in hit.warnings)
    assert [row[2:4] for row in rows(engine)] == [(0, "docstring.params")] * 2


def test_a_budget_that_demotes_the_retry_means_no_retry(tmp_path: Path, fake: FakeProvider) -> None:
    probe = Engine(make_config(tmp_path, fake))
    estimates = probe.decide(probe.build_task("docstring", "shop.py", SOURCE, 0, 4)).estimates
    cap = (estimates["budget"] + estimates["mid"]) / 2
    extra = f'\n[budget]\ndaily_usd = {cap}\nmode = "hard"\non_hard = "demote"\n'
    engine = Engine(make_config(tmp_path / "demoting", fake, extra))
    outcome, _ = ask(engine, "docstring")
    assert any("not retried: nothing above budget may answer it" in w for w in outcome.warnings)
    assert [row[0] for row in rows(engine)] == ["budget"]


UNUSABLE: Replies = {
    **REPLIES,
    "rename": {**REPLIES["rename"], "budget": "Sure! A better name would be nice here."},
}


@pytest.fixture
def garbling() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        server.responder = answer(UNUSABLE)
        yield server


def test_a_reply_that_cannot_be_used_is_retried_one_tier_up(
    tmp_path: Path, garbling: FakeProvider
) -> None:
    engine = Engine(make_config(tmp_path, garbling))
    outcome, events = ask(engine, "rename")
    assert outcome.decision.tier is Tier.MID and outcome.escalated_from == "budget"
    assert [c.name for c in outcome.result.candidates] == ["line_total"]  # type: ignore[union-attr]
    said = warnings_of(events)
    assert any(
        w.startswith("budget's answer could not be used (") and "asking mid" in w for w in said
    )
    assert any(w.endswith("; answered by mid") for w in outcome.warnings)
    (first, second) = rows(engine)
    assert first[:5] == ("budget", "error", None, "", "")
    assert second[:5] == ("mid", "ok", 1, "", "budget")
    # Both calls are paid for and shown; the served (second) row carries the baseline, since
    # the first is an error row that stats never credit.
    assert first[5] > 0 < second[5] and outcome.cost_usd == pytest.approx(first[5] + second[5])
    assert second[6] > 0


def test_an_unusable_reply_on_the_tier_the_user_chose_is_an_error_saying_why(
    tmp_path: Path, garbling: FakeProvider
) -> None:
    engine = Engine(make_config(tmp_path, garbling))
    task = engine.build_task("rename", "shop.py", SOURCE, 0, 4, tier="budget")
    events: list[Event] = []
    with pytest.raises(BadResponse):
        asyncio.run(engine.run(task, on_event=events.append))
    assert any(
        w.startswith("budget's answer could not be used (")
        and w.endswith("; not retried: you asked for the budget tier")
        for w in warnings_of(events)
    )
    assert [row[:2] for row in rows(engine)] == [("budget", "error")]
