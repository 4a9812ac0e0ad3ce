"""Verified cheap answers: an answer that fails its check, or cannot be used at all (a
BadResponse), is retried once, one tier up.

The rules (docs/routing.md, "Verified answers"): only an answer of a checked tier (local,
budget, mid) is retried; never more than once; never above a tier the user chose (a per-request
tier, the session's sticky tier or an inline directive: then the answer is returned with the
failed check stated); never above `routing.max_tier`; and never past the budget (the retry is
routed like any request, so a hard cap refuses or demotes it, and then there is no retry).
"""

from __future__ import annotations

from collections.abc import Callable

from tierwise.core.errors import BadResponse, TierwiseError
from tierwise.core.models import Usage
from tierwise.core.records import evolve
from tierwise.core.task import Task
from tierwise.core.tiers import Tier
from tierwise.engine.checking import CHECKED_TIERS
from tierwise.engine.execution import Executor
from tierwise.engine.outcome import Event, EventSink, Outcome
from tierwise.routing.router import Decision

# Decides the retry of a failed answer: the decision to retry with, or why there is none.
RetryPlan = Callable[[Task, Decision], "Decision | str"]


def failed_note(tier: str, outcome: Outcome) -> str:
    """ "budget's answer failed the check 'parameter qty not documented'"."""
    assert outcome.failed_check is not None
    return f"{tier}'s answer failed the check '{outcome.failed_check.detail}'"


def no_retry_reason(task: Task, decision: Decision, sticky: Tier | None, ceiling: Tier) -> str:
    """Why an answer that failed its check is not retried a tier up, or "" when it may be."""
    if task.tier is not None:
        return f"you asked for the {task.tier.label} tier"
    if sticky is not None:
        return f"the session tier is set to {sticky.label}"
    if any(reason.startswith("inline directive") for reason in decision.reasons):
        return "an inline directive chose the tier"
    if decision.tier >= ceiling:
        return f"{decision.tier.label} is the highest tier routing may use (routing.max_tier)"
    return ""


def retry_decision(
    task: Task,
    decision: Decision,
    sticky: Tier | None,
    ceiling: Tier,
    decide: Callable[[Task], Decision],
) -> Decision | str:
    """The decision for retrying a failed answer one tier up (routed by `decide` like any
    request, so the budget guard and local_only apply), or why there is none."""
    why = no_retry_reason(task, decision, sticky, ceiling)
    if why:
        return why
    ups = [t for t in map(Tier.parse, decision.available) if decision.tier < t]
    ups = [t for t in ups if t <= ceiling]
    if not ups:
        return f"no tier above {decision.tier.label} is configured"
    retry = decide(evolve(task, tier=ups[0]))
    if retry.refused:
        return retry.refused
    if retry.tier <= decision.tier:  # the budget guard or local_only moved it back down
        why = "; ".join(retry.warnings) or "; ".join(retry.reasons[-1:])
        return f"nothing above {decision.tier.label} may answer it ({why})"
    reason = f"{decision.tier.label}'s answer failed its check → {retry.tier.label}"
    return evolve(retry, reasons=(*decision.reasons, reason), wanted=decision.wanted)


async def run_verified(
    executor: Executor, task: Task, decision: Decision, emit: EventSink, plan: RetryPlan
) -> Outcome:
    """Run the request; if its answer fails its check, or cannot be used at all, retry once
    one tier up when allowed."""
    try:
        first = await executor.execute(task, decision, emit)
    except BadResponse as error:
        if decision.tier not in CHECKED_TIERS:
            raise
        return await _after_unusable(executor, task, decision, emit, plan, error)
    if first.failed_check is None:
        return first
    tier = decision.tier.label
    failed = failed_note(tier, first)
    retry = plan(task, decision)
    if isinstance(retry, str):
        note = f"{failed}; not retried: {retry}"
        emit(Event("warning", note))
        return evolve(first, warnings=(*first.warnings, note))
    emit(Event("warning", f"{failed}: asking {retry.tier.label}"))
    try:
        second = await executor.execute(task, retry, emit, escalated_from=tier)
    except TierwiseError as error:
        # The retry failing loses nothing: the first answer is returned, its flaw stated.
        note = f"{failed}; the retry on {retry.tier.label} failed: {error}"
        emit(Event("warning", note))
        return evolve(first, warnings=(*first.warnings, note))
    note = f"{failed}; answered by {retry.tier.label}"
    if second.failed_check is not None:
        note += f", whose answer failed it too: '{second.failed_check.detail}'"
    emit(Event("warning", note))
    return evolve(
        second,
        usage=first.usage + second.usage,
        cost_usd=first.cost_usd + second.cost_usd,
        baseline_usd=first.baseline_usd,  # all-frontier would have answered once
        latency_s=first.latency_s + second.latency_s,
        warnings=(*second.warnings, note),
    )


async def _after_unusable(
    executor: Executor,
    task: Task,
    decision: Decision,
    emit: EventSink,
    plan: RetryPlan,
    error: BadResponse,
) -> Outcome:
    """A cheap tier's reply that could not be used at all (no answer in it, cut at its limit)
    fails its check as surely as a flawed one: retried once one tier up on the same terms, or
    the error raised, with why there was no retry. Its spend stays in its own ledger row."""
    tier = decision.tier.label
    failed = f"{tier}'s answer could not be used ({_first_clause(str(error))})"
    retry = plan(task, decision)
    if isinstance(retry, str):
        emit(Event("warning", f"{failed}; not retried: {retry}"))
        raise error
    emit(Event("warning", f"{failed}: asking {retry.tier.label}"))
    second = await executor.execute(task, retry, emit, escalated_from=tier, keep_baseline=True)
    note = f"{failed}; answered by {retry.tier.label}"
    if second.failed_check is not None:
        note += f", whose answer failed its check: '{second.failed_check.detail}'"
    emit(Event("warning", note))
    usage, cost = error.spent or (error.usage or Usage(), 0.0)
    return evolve(
        second,
        usage=usage + second.usage,
        cost_usd=cost + second.cost_usd,
        latency_s=second.latency_s,
        warnings=(*second.warnings, note),
    )


def _first_clause(message: str, limit: int = 120) -> str:
    """The start of an error message, for a one-line note (the whole one is in the log)."""
    head = message.split(": ", 1)[0] if len(message) > limit else message
    return head if len(head) <= limit else head[: limit - 1] + "…"
