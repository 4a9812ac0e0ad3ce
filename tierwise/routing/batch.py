"""`tierwise plan`'s routes: one choice per distinct input of the rules, each row priced alone.

`route()` builds, for every request, the rules' reasons, the tiers usable, every tier's
estimate and a picker option for each tier. A plan of a large tree routes tens of thousands
of targets whose rules see far fewer distinct inputs (the action, the signals but the target's
identity, the route state, which tiers' context budgets hold the target), and its rows show
only the tier, the reasons and three estimates. A `Decider` keeps the `Choice` of each
distinct input and prices each row from its own prompt size; a choice that names the target
(its size moved or refused it) is not kept, and under a spend cap, where the price itself may
move the tier, every row is routed in full.
"""

from __future__ import annotations

import bisect
from typing import Any

from tierwise.core.records import FrozenRecord, evolve, setfield
from tierwise.core.task import Action, Task
from tierwise.core.tiers import Tier
from tierwise.routing.policy import Policy
from tierwise.routing.router import (
    Availability,
    Choice,
    Decision,
    TokenEstimate,
    choose,
    route,
    tier_cost,
)
from tierwise.routing.rules import RouteState
from tierwise.routing.signals import Signals

_TIERS = tuple(Tier)


class Routed(FrozenRecord):
    """What a plan row shows of a decision: the tier, its reasons and three estimates."""

    __slots__ = (
        "action", "tier", "reasons", "estimate_usd", "frontier_usd", "budget_usd", "refused",
    )  # fmt: skip
    action: Action
    tier: Tier
    reasons: tuple[str, ...]
    estimate_usd: float
    frontier_usd: float
    budget_usd: float
    refused: str | None  # why the request could not run as routed (the decision's refusal)

    def __init__(
        self,
        action: Action,
        tier: Tier,
        reasons: tuple[str, ...],
        estimate_usd: float,
        frontier_usd: float,
        budget_usd: float,
        refused: str | None = None,
    ) -> None:
        setfield(self, "action", action)
        setfield(self, "tier", tier)
        setfield(self, "reasons", reasons)
        setfield(self, "estimate_usd", estimate_usd)
        setfield(self, "frontier_usd", frontier_usd)
        setfield(self, "budget_usd", budget_usd)
        setfield(self, "refused", refused)

    @classmethod
    def of(cls, decision: Decision) -> Routed:
        """The plan row's part of a full decision."""
        return cls(
            decision.action,
            decision.tier,
            decision.reasons,
            decision.estimate_usd,
            decision.estimates["frontier"],
            decision.estimates["budget"],
            decision.refused,
        )


class Decider:
    """`route()` for the many tasks of one plan run, under one policy and availability."""

    def __init__(self, policy: Policy, availability: Availability) -> None:
        self.policy = policy
        self.availability = availability
        # A cap compares each request's own estimate with the spend: nothing is shared then.
        self.capped = policy.daily_usd > 0 or policy.monthly_usd > 0 or policy.team_daily_usd > 0
        # Which tiers' budgets hold a target follows from where its size falls among them.
        self._limits = sorted({policy.context_tokens.get(t, 0) for t in _TIERS})
        self._choices: dict[tuple[Any, ...], Choice] = {}
        self._bare_states: dict[RouteState, RouteState] = {}  # without_local's states

    def route(
        self, task: Task, signals: Signals, state: RouteState, tokens: TokenEstimate
    ) -> Routed:
        """What `route(task, signals, ...)` decides, as a plan row shows it."""
        if self.capped:
            return Routed.of(route(task, signals, self.policy, self.availability, state, tokens))
        choice = self._choice(task, signals, state, tokens.target_tokens)
        availability = self.availability
        return Routed(
            task.action,
            choice.tier,
            choice.reasons,
            tier_cost(choice.tier, availability, tokens),
            tier_cost(Tier.FRONTIER, availability, tokens),
            tier_cost(Tier.BUDGET, availability, tokens),
            choice.refused,
        )

    def without_local(
        self,
        routed: Routed,
        task: Task,
        signals: Signals,
        state: RouteState,
        tokens: TokenEstimate,
    ) -> Routed | None:
        """The same request routed with no local tier assumed, when `routed` is on local only
        because plan assumes one (None otherwise: its tier needs no model it assumes)."""
        if (
            routed.tier is not Tier.LOCAL
            or not state.assume_available
            or not state.assume_local
            or self.availability.available(Tier.LOCAL, task.action)
        ):
            return None
        bare = self._bare_states.get(state)
        if bare is None:
            bare = self._bare_states[state] = evolve(state, assume_local=False)
        if self.capped:
            return self.route(task, signals, bare, tokens)
        choice = self._choice(task, signals, bare, tokens.target_tokens)
        # The same prompt: only the chosen tier's estimate differs from the row's.
        return Routed(
            task.action,
            choice.tier,
            choice.reasons,
            tier_cost(choice.tier, self.availability, tokens),
            routed.frontier_usd,
            routed.budget_usd,
            choice.refused,
        )

    def _choice(self, task: Task, signals: Signals, state: RouteState, size: int) -> Choice:
        """`choose(...)`, kept for the next row with the same input of the rules."""
        # Everything `choose` reads: the size only through these comparisons; the target's
        # name only in a reason about its size (such a choice is not kept).
        key = (
            task.action,
            task.tier,
            signals.lines,
            signals.cyclomatic,
            signals.nesting,
            signals.cross_file_calls,
            signals.risks[:3],  # the reasons' evidence; the first one's category
            signals.trivial,
            signals.directive,
            signals.test_code,
            state,
            bisect.bisect_left(self._limits, size),
        )
        choice = self._choices.get(key)
        if choice is None:
            choice = choose(task, signals, self.policy, self.availability, state, size)
            if not choice.sized:
                self._choices[key] = choice
        return choice
