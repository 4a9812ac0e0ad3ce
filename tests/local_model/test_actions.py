"""Every action against the real local model (SmolLM2-135M on llama.cpp's server), on real
functions from the pinned packages, through the real engine and the official openai SDK.

A 135M model writes poor answers, and that is the point: each reply must either parse into a
valid result, or fail its check (handlers/checks.py) or be unusable (no answer in it) and be
escalated one tier up (to the wire fake, which answers well), or, on a tier the user picked,
be returned with the failed check stated or fail with a clear BadResponse. Never garbage
reported as success: every answer delivered as verified is judged again here without
tierwise's checks (harness.problems).
Its usage accounting must hold although the server leaves usage out of the stream.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from tests.fakes.wire import FakeProvider
from tests.local_model.conftest import config_text
from tests.local_model.harness import (
    Attempt,
    Target,
    attempt,
    build,
    engine_from,
    problems,
    target_of,
)
from tests.local_model.llama import LlamaServer
from tests.routing.corpus import load_cases
from tierwise.core.errors import BadResponse
from tierwise.core.tiers import Tier
from tierwise.engine import Engine

PER_ACTION = 3  # routed requests per action (each reaches the model once)


def routed_to_local(engine: Engine, action: str, count: int) -> list[Target]:
    """The first corpus cases of an action labelled low-stakes (local is acceptable) that the
    engine routes to the local tier, in corpus order."""
    out: list[Target] = []
    for case in load_cases():
        if case.action != action or case.min != "local" or case.language != "python":
            continue
        target = target_of(case)
        decision = engine.decide(build(engine, action, target))
        # Sent there by the local-first rule, not by a fallback (cloud keys missing).
        if decision.tier is Tier.LOCAL and "configured → local" in decision.reasons[-1]:
            out.append(target)
        if len(out) == count:
            return out
    raise AssertionError(f"fewer than {count} {action} cases of the corpus route to local")


def judge(a: Attempt, model_ref: str) -> str:
    """Assert the attempt kept every promise; returns how it ended."""
    first = a.first
    assert first["tier"] == "local" and first["model"] == model_ref, a.rows
    # The server sends no usage in the stream (it ignores stream_options.include_usage): the
    # tokens are counted from what was sent and received, labelled an estimate, and $0 is the
    # local tier's true marginal cost; the all-frontier baseline is priced from the estimate.
    assert first["input_tokens"] > 0 and first["usage_estimated"] == 1, first
    assert first["cost_usd"] == 0.0
    if a.error is not None:
        assert isinstance(a.error, BadResponse), f"{a.target.id}: {a.error!r}"
        message = str(a.error)
        assert message and "Traceback" not in message and len(message) < 600
        assert first["outcome"] == "error" and first["error"] and first["verified"] is None
        assert first["output_tokens"] >= 0 and len(a.rows) == 1  # no success recorded anywhere
        # Routed, an unusable reply is retried one tier up (below): only a tier the user
        # picked ends in the error.
        assert a.task.tier is Tier.LOCAL, a.rows
        return "BadResponse"
    outcome = a.outcome
    assert outcome is not None
    if first["outcome"] == "error":  # routed: an unusable reply, retried once one tier up
        assert a.task.tier is None and first["error"] and first["verified"] is None
        assert len(a.rows) == 2, a.rows
        retry = a.rows[1]
        assert retry["tier"] == "budget" and retry["escalated_from"] == "local"
        assert retry["baseline_usd"] > 0  # the served row: the first is an error row
        assert outcome.decision.tier is Tier.BUDGET and outcome.escalated_from == "local"
        assert any(
            w.startswith("local's answer could not be used") and "answered by budget" in w
            for w in outcome.warnings
        ), outcome.warnings
        assert problems(a.task, outcome.result) == []
        return "unusable, escalated"
    assert first["outcome"] == "ok" and first["verified"] in (0, 1), first  # always checked
    assert first["output_tokens"] > 0 and first["baseline_usd"] > 0
    if first["verified"] == 1:
        assert outcome.decision.tier is Tier.LOCAL and outcome.verified is True
        assert len(a.rows) == 1
        found = problems(a.task, outcome.result)
        assert found == [], f"{a.target.id}: verified, yet {found}: {outcome.result!r}"
        return "passed"
    assert first["failed_check"].startswith(a.action + "."), first
    if a.task.tier is None:  # routed: retried once, one tier up, visibly
        assert len(a.rows) == 2, a.rows
        retry = a.rows[1]
        assert retry["tier"] == "budget" and retry["escalated_from"] == "local"
        assert outcome.decision.tier is Tier.BUDGET and outcome.escalated_from == "local"
        assert outcome.verified is True
        assert any(
            w.startswith("local's answer failed the check") and "answered by budget" in w
            for w in outcome.warnings
        ), outcome.warnings
        assert problems(a.task, outcome.result) == []
        return "escalated"
    # The user picked the local tier: never exceeded; the flaw is stated with the answer.
    assert len(a.rows) == 1 and outcome.verified is False
    assert any("not retried: you asked for the local tier" in w for w in outcome.warnings)
    return "failed check, stated"


def run_all(engine: Engine, jobs: list[tuple[str, Target, str | None]]) -> list[Attempt]:
    async def go() -> list[Attempt]:
        try:
            return [await attempt(engine, action, t, tier=tier) for action, t, tier in jobs]
        finally:
            await engine.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("action", ["docstring", "rename", "explain", "review"])
def test_routed_low_stakes_requests_reach_the_model_and_keep_every_promise(
    action: str, llama: LlamaServer, cloud: FakeProvider, tmp_path: Path
) -> None:
    engine = engine_from(config_text(llama, cloud), tmp_path / "engine")
    picked = routed_to_local(engine, action, PER_ACTION)
    attempts = run_all(engine, [(action, t, None) for t in picked])
    ends = Counter(judge(a, f"local:{llama.model_id}") for a in attempts)
    assert sum(ends.values()) == PER_ACTION, ends


def test_designs_and_a_high_stakes_review_on_the_local_tier_the_user_picked(
    llama: LlamaServer, cloud: FakeProvider, tmp_path: Path
) -> None:
    """Design is never routed to local and high-stakes review never is: a user who picks the
    local tier for them gets a checked answer or a clear error, and nothing above local."""
    cases = load_cases()
    designs = [c for c in cases if c.action == "design" and c.stakes == "plain"][:2]
    review = next(c for c in cases if c.action == "review" and c.stakes == "high")
    jobs: list[tuple[str, Target, str | None]] = [
        ("design", target_of(c), "local") for c in designs
    ]
    jobs.append(("review", target_of(review), "local"))
    engine = engine_from(config_text(llama, cloud), tmp_path / "engine")
    attempts = run_all(engine, jobs)
    ends = Counter(judge(a, f"local:{llama.model_id}") for a in attempts)
    assert "escalated" not in ends and sum(ends.values()) == len(jobs), ends
    assert all(row["tier"] == "local" for a in attempts for row in a.rows)
