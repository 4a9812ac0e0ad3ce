"""Escalation on repeat: only the same action on the same target, asked again after a model's
answer, moves a request up (docs/routing.md, "Escalation on repeat")."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.lsp_helpers import FAKE_KEY, fake_reply, user_config
from tests.fakes.wire import FakeProvider
from tierwise.config import Config, load_config
from tierwise.core.errors import ProviderError
from tierwise.core.records import evolve
from tierwise.engine import Engine, Outcome

SOURCE = """\
def verify_password(password, encoded):
    if not encoded:
        return False, False
    ok = check(password, encoded)
    return ok, not ok


def other(x):
    if x:
        return x + 1
    return 0
"""
ESCALATED = "asked again within the window"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        server.responder = fake_reply
        yield server


@pytest.fixture
def config(tmp_path: Path, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("TIERWISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TIERWISE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    path = tmp_path / "config.toml"
    path.write_text(user_config(fake), encoding="utf-8")
    loaded, _ = load_config(config_path=path, workspace_root=tmp_path)
    return loaded


def ask(engine: Engine, action: str, needle: str = "return x + 1", **options: object) -> Outcome:
    line = next(i for i, text in enumerate(SOURCE.split("\n")) if needle in text)
    task = engine.build_task(action, "auth.py", SOURCE, line, 4, **options)  # type: ignore[arg-type]

    async def go() -> Outcome:
        try:
            return await engine.run(task)
        finally:
            await engine.stores.drain()

    return asyncio.run(go())


def escalated(outcome: Outcome) -> bool:
    return any(ESCALATED in reason for reason in outcome.decision.reasons)


def test_a_different_action_on_the_same_target_is_not_a_repeat(config: Config) -> None:
    engine = Engine(config)
    first = ask(engine, "review")
    assert not escalated(first)
    for action in ("docstring", "rename", "explain"):
        assert not escalated(ask(engine, action)), action
    again = ask(engine, "review")
    assert escalated(again) and again.decision.tier > first.decision.tier


def test_cache_hits_do_not_count_as_asks(config: Config) -> None:
    engine = Engine(config)
    ask(engine, "docstring", tier="budget")
    hit = ask(engine, "docstring", tier="budget")
    assert hit.cache_hit
    auto = ask(engine, "docstring")
    # One answer a model gave (the first), not two: budget → mid, one step.
    assert escalated(auto) and auto.decision.reasons[-1].endswith("escalated budget → mid")


def test_a_refusal_or_a_failure_before_any_answer_does_not_count(
    config: Config, fake: FakeProvider
) -> None:
    engine = Engine(config)
    with pytest.raises(ProviderError):
        ask(engine, "review", tier="local")  # refused: no local server configured
    fake.script(("status", 500), ("status", 500))  # every model of the chain fails
    with pytest.raises(ProviderError):
        ask(engine, "review", refresh=True)
    assert not escalated(ask(engine, "review"))


def test_refresh_asks_again_at_the_routed_tier_then_counts(config: Config) -> None:
    engine = Engine(config)
    first = ask(engine, "review")
    fresh = ask(engine, "review", refresh=True)
    assert not escalated(fresh) and fresh.decision.tier == first.decision.tier
    assert not fresh.cache_hit
    later = ask(engine, "review")
    assert escalated(later)  # two answers asked again: two steps up (clamped at frontier)


def test_an_applied_answer_resets_and_a_declined_one_counts(config: Config) -> None:
    engine = Engine(config)
    first = ask(engine, "docstring", "def other")
    engine.edit_outcome(first, "applied")
    after_applied = ask(engine, "docstring", "def other")
    assert not escalated(after_applied)
    assert after_applied.decision.tier == first.decision.tier
    engine.edit_outcome(after_applied, "declined", "the editor declined the edit")
    after_declined = ask(engine, "docstring", "def other")
    assert escalated(after_declined)
    assert after_declined.decision.tier > first.decision.tier


def test_an_edit_that_could_not_be_applied_does_not_count(config: Config) -> None:
    engine = Engine(config)
    first = ask(engine, "docstring", "def other")
    engine.edit_outcome(first, "apply_failed", "app.py changed while the model was working")
    assert not escalated(ask(engine, "docstring", "def other", refresh=False))


def test_the_memory_is_the_ledger_so_a_second_process_remembers(config: Config) -> None:
    ask(Engine(config), "review")
    assert escalated(ask(Engine(config), "review"))  # like two `tierwise run` commands


def test_without_a_ledger_the_engine_remembers_its_own_answers(config: Config) -> None:

    engine = Engine(evolve(config, ledger=evolve(config.ledger, enabled=False)))
    first = ask(engine, "review")
    assert engine.stores.ledger is None
    assert escalated(ask(engine, "review"))
    engine.edit_outcome(first, "applied")  # an older answer: the later one still counts
    assert escalated(ask(engine, "review"))


def test_only_asks_inside_the_window_count() -> None:
    from tierwise.engine.asks import Ask, repeats

    def answered(ts: float) -> Ask:
        return Ask(ts, cache_hit=False, tier="budget", output_tokens=40, outcome="ok", applied=None)

    now, window = 10_000.0, 900.0
    asks = [answered(now - 5_000), answered(now - 600), answered(now - 30)]
    # Two asks inside the last 15 minutes, one an hour and more ago.
    assert repeats(asks, now=now, window_s=window) == 2
    assert repeats(asks[:1], now=now, window_s=window) == 0
    assert repeats([answered(now - window)], now=now, window_s=window) == 1  # the edge is in


@pytest.mark.parametrize("ledger", [True, False], ids=["ledger", "engine-memory"])
def test_a_quick_fix_the_user_chose_accepts_the_review(config: Config, ledger: bool) -> None:
    if not ledger:
        config = evolve(config, ledger=evolve(config.ledger, enabled=False))
    engine = Engine(config)
    first = ask(engine, "review")
    assert first.ledger_id is not None
    # The editor applied one of its fixes, but the text never arrived: the review still counts.
    engine.stores.edit_event(first.ledger_id, "fix", "apply_failed", "finding 0")
    second = ask(engine, "review")
    assert escalated(second) and second.decision.tier > first.decision.tier
    # A fix the document holds (tierwise.fixChosen, "applied") accepts that review's answer.
    assert second.ledger_id is not None
    engine.stores.edit_event(second.ledger_id, "fix", "applied", "finding 0")
    third = ask(engine, "review")
    assert not escalated(third)
    assert third.decision.tier == first.decision.tier
