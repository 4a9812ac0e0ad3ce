"""What a request remembers between its steps (its cache keys, a hit's check) is what computing
it afresh gives, and follows every input it is made of: the configuration edited in place too."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierwise.config import Config
from tierwise.core.code import Span
from tierwise.core.results import Finding, ReviewResult
from tierwise.core.tiers import Tier
from tierwise.engine import Engine
from tierwise.engine.cached import CacheReader
from tierwise.engine.checking import verify
from tierwise.engine.keying import NormalForms, keyed_lookups
from tierwise.handlers.registry import get_handler

SOURCE = (
    "def pay(amount, rate):\n    total = amount * rate\n    return total\n\n\n"
    "def other():\n    return 1\n"
)


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("TIERWISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TIERWISE_CACHE_DIR", str(tmp_path / "cache"))
    return Engine(Config(), workspace_root=str(tmp_path))


def test_remembered_keys_follow_the_configuration_edited_in_place(engine: Engine) -> None:
    task = engine.build_task("review", "m.py", SOURCE, 1, 4, tier="budget")
    decision = engine.decide(task, assume_available=True)
    handler = get_handler(task.action)
    memory = NormalForms()

    def fresh() -> list[tuple[Tier, str, str]]:
        return keyed_lookups(engine.config, NormalForms(), task, handler, decision)

    first = keyed_lookups(engine.config, memory, task, handler, decision)
    assert first == fresh() and len(first) > 1
    assert keyed_lookups(engine.config, memory, task, handler, decision) is first  # remembered
    engine.config.cache.serve_from_higher = False
    only = keyed_lookups(engine.config, memory, task, handler, decision)
    assert only == fresh() and {tier for tier, _, _ in only} == {decision.tier}
    engine.config.cache.serve_from_higher = True
    engine.config.tiers["frontier"].max_output_tokens += 1  # another answer: other keys
    raised = keyed_lookups(engine.config, memory, task, handler, decision)
    assert raised == fresh() and raised[-1][2] != first[-1][2]
    assert raised[0] == first[0]  # the decided tier's own limit did not change
    engine.config.tiers["mid"].models = ["openai:gpt-5-mini"]
    assert keyed_lookups(engine.config, memory, task, handler, decision) == fresh()
    other = engine.build_task("review", "m.py", SOURCE, 6, 4, tier="budget")
    other_keys = keyed_lookups(engine.config, memory, other, handler, decision)
    assert other_keys == keyed_lookups(engine.config, NormalForms(), other, handler, decision)
    assert other_keys[0][2] != first[0][2]


def test_a_hits_remembered_check_follows_the_context(engine: Engine) -> None:
    """One answer, two targets: a finding inside the first is outside the second."""
    pay = engine.build_task("review", "m.py", SOURCE, 1, 4)
    other = engine.build_task("review", "m.py", SOURCE, 6, 4)
    finding = Finding(Span(1, 4, 1, 25), "warning", "money in floats")
    answer = ReviewResult((finding,))
    reader = CacheReader(engine.stores, engine.executor.sharing, engine.executor._row)
    for task in (pay, other, pay, other):
        assert reader._verdict(task, Tier.BUDGET, answer) == verify(task, Tier.BUDGET, answer)
    assert reader._verdict(pay, Tier.BUDGET, answer)[0] is True
    assert reader._verdict(other, Tier.BUDGET, answer)[0] is False
    assert reader._verdict(pay, Tier.FRONTIER, answer) == (None, None)  # frontier: unchecked
