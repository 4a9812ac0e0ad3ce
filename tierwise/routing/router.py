"""route(): a pure function of (task, signals, policy, availability, state) -> Decision.

No I/O and no clock: everything it needs arrives as arguments, so it is trivially testable.
"""

from __future__ import annotations

from tierwise.core.task import Action, Task
from tierwise.core.tiers import Tier
from tierwise.routing.decision import (
    Availability,
    Choice,
    Decision,
    ModelOption,
    TierOption,
    TokenEstimate,
)
from tierwise.routing.policy import STATIC_ACTIONS, Policy
from tierwise.routing.refusals import budget_guard, nothing_configured, requested_unavailable
from tierwise.routing.rules import RouteState, apply_rules
from tierwise.routing.signals import Signals

# The records are route()'s vocabulary: its callers import them from here with it.
__all__ = [
    "Availability",
    "Choice",
    "Decision",
    "ModelOption",
    "RouteState",
    "TierOption",
    "TokenEstimate",
    "choose",
    "priced",
    "route",
    "tier_cost",
]

_TIERS = tuple(Tier)  # iterating the enum itself builds a generator each time (a plan: 20 a row)


def tier_cost(tier: Tier, availability: Availability, tokens: TokenEstimate) -> float:
    """The estimate of a tier for a prompt of this size (static and local cost nothing)."""
    option = availability.price_option(tier)
    if tier in (Tier.STATIC, Tier.LOCAL) or option is None:
        return 0.0
    return option.cost(tokens.input_tokens, tokens.output_tokens)


def _fallback(
    tier: Tier,
    usable: list[Tier],
    state: RouteState,
    policy: Policy,
    risk: str,
) -> tuple[Tier | None, str | None]:
    """The nearest usable tier, upward first; downward moves always carry a warning."""
    ceiling = Tier.LOCAL if state.local_only else Tier.FRONTIER
    ups = [Tier(v) for v in range(tier + 1, ceiling + 1)]
    downs = [Tier(v) for v in range(min(tier, ceiling + 1) - 1, -1, -1)]
    for candidate in ups:
        if candidate in usable:
            return candidate, f"{tier.label} is not configured: using {candidate.label} instead"
    for candidate in downs:
        if candidate in usable:
            # "High-stakes" only where the rules found risk they act on: a docstring moved to
            # mid for its size said "high-stakes request" beside "low stakes for docstring".
            stakes = ""
            if tier >= policy.high_stakes_floor:
                why = f"high-stakes {risk} code" if risk != "none" else f"ruled {tier.label}"
                stakes = f" ({why}: expect a weaker answer)"
            return (
                candidate,
                f"{tier.label} is not configured: downgraded to {candidate.label}{stakes}",
            )
    return None, None


def route(
    task: Task,
    signals: Signals,
    policy: Policy,
    availability: Availability,
    state: RouteState,
    tokens: TokenEstimate,
) -> Decision:
    """Choose the tier and model chain for a task, with a reason for every step."""
    choice = choose(task, signals, policy, availability, state, tokens.target_tokens)
    return priced(choice, task.action, policy, availability, state, tokens)


def choose(
    task: Task,
    signals: Signals,
    policy: Policy,
    availability: Availability,
    state: RouteState,
    target_tokens: int,
) -> Choice:
    """The tier before pricing: the rules, privacy, availability and the target's size (the
    prompt's size only prices it, and moves it only under a spend cap: `priced`)."""
    action = task.action
    local_configured = availability.available(Tier.LOCAL, action)
    # Assumed: every tier counts as configured, local too unless state.assume_local is off.
    assumed = state.assume_available and (state.assume_local or local_configured)
    local_ready = (
        not state.local_only
        and (assumed or local_configured)
        and policy.context_tokens.get(Tier.LOCAL, 0) >= target_tokens
    )
    # plan/route with no tier configured route as if every tier were: the reason must not say
    # a local tier is configured when none is.
    local_assumed = local_ready and not local_configured
    ruled = apply_rules(task, signals, policy, state, local_ready, local_assumed=local_assumed)
    tier, reasons = ruled.tier, ruled.reasons
    wanted = tier
    warnings: list[str] = []
    refused: str | None = None

    if state.local_only and tier > Tier.LOCAL:
        tier = Tier.LOCAL
        reasons.append("path is marked local_only → local")
    if tier is Tier.STATIC and action not in STATIC_ACTIONS:
        tier = Tier.LOCAL
        reasons.append(f"{action.value} has no static implementation → local")

    really = [t for t in _TIERS if availability.available(t, action)]
    if state.local_only:
        really = [t for t in really if t <= Tier.LOCAL]
    if assumed:
        usable = list(_TIERS)
    elif state.assume_available:
        # Every cloud tier assumed, local not (none is configured): a request the rules put
        # on local moves as a run with cloud keys only would move it, and static is usable
        # only for the actions it does, as when nothing is assumed.
        usable = [t for t in _TIERS if t > Tier.LOCAL or availability.available(t, action)]
    else:
        usable = really
    if state.local_only:
        usable = [t for t in usable if t <= Tier.LOCAL]
    if not assumed and tier not in usable and tier is task.tier:
        # A tier the user asked for by name is never silently swapped for another.
        refused = requested_unavailable(tier, action, usable)
    elif not assumed and tier not in usable:
        fallback, warning = _fallback(tier, usable, state, policy, ruled.risk)
        if fallback is None:
            asked_static = task.tier is Tier.STATIC and action not in STATIC_ACTIONS
            refused = nothing_configured(tier, action, state, asked_static=asked_static)
        else:
            tier = fallback
            warnings.append(warning or "")

    sized = False
    if refused is None and tier is not Tier.STATIC:
        limit = policy.context_tokens.get(tier)
        sized = limit is not None and target_tokens > limit
        tier, refused = _fit_target(tier, task, target_tokens, policy, usable, reasons)
    return Choice(
        tier,
        tuple(reasons),
        wanted,
        tuple(warnings),
        refused,
        ruled.cell_tier,
        ruled.risk,
        tuple(really),
        tuple(usable),
        sized,
    )


def priced(
    choice: Choice,
    action: Action,
    policy: Policy,
    availability: Availability,
    state: RouteState,
    tokens: TokenEstimate,
) -> Decision:
    """The decision of a choice: every tier's estimate for this prompt, the spend caps, and
    the model chain."""
    tier, refused, warnings = choice.tier, choice.refused, list(choice.warnings)
    estimates = {t.label: tier_cost(t, availability, tokens) for t in _TIERS}
    estimate = estimates[tier.label]

    if refused is None:
        roomy = [
            t
            for t in choice.usable
            if t is Tier.STATIC or policy.context_tokens.get(t, 0) >= tokens.target_tokens
        ]
        tier, estimate, budget_note, refused = budget_guard(
            tier, estimate, estimates, roomy, policy, state
        )
        if budget_note:
            warnings.append(budget_note)

    chain = availability.chains.get(tier, ()) if tier is not Tier.STATIC else ()
    if state.assume_available and not chain and tier is not Tier.STATIC:
        ref = availability.price_option(tier)
        chain = (ref,) if ref else ()
    really = list(choice.really)
    return Decision(
        action=action,
        tier=tier,
        models=tuple(option.ref for option in chain),
        reasons=choice.reasons,
        estimate_usd=estimate,
        estimates=estimates,
        available=tuple(t.label for t in really),
        warnings=tuple(warnings),
        refused=refused,
        tiers=_tier_options(action, really, estimates, availability, state),
        wanted=choice.wanted,
        cell_tier=choice.cell_tier,
        risk=choice.risk,
    )


def _tier_options(
    action: Action,
    usable: list[Tier],
    estimates: dict[str, float],
    availability: Availability,
    state: RouteState,
) -> tuple[TierOption, ...]:
    """Each tier with the model that would answer it and, when unusable, why."""
    out: list[TierOption] = []
    for tier in _TIERS:
        option = availability.price_option(tier) if tier is not Tier.STATIC else None
        why: str | None = None
        if tier not in usable:
            if tier is Tier.STATIC:
                why = f"{action.value} has no static (model-free) implementation"
            elif state.local_only:
                why = "this path is local_only: only the local tier may see it"
            else:
                why = availability.missing.get(tier, f"no {tier.label} model is configured")
        model = option.ref if option is not None else None
        out.append(TierOption(tier.label, model, estimates[tier.label], why is None, why))
    return tuple(out)


def _fit_target(
    tier: Tier,
    task: Task,
    size: int,
    policy: Policy,
    usable: list[Tier],
    reasons: list[str],
) -> tuple[Tier, str | None]:
    """Move up to a tier whose context budget holds the whole target, or refuse.

    The target is never cut (the model would not see its tail, and the cache key would not
    cover it); its context is pruned first (the engine does that), so only the target counts.
    """
    limit = policy.context_tokens.get(tier)
    if limit is None or size <= limit:
        return tier, None
    name = task.context.target.name
    over = (
        f"{name} is about {size} tokens, over the {tier.label} tier's context budget of "
        f"{limit} (tiers.{tier.label}.context_tokens)"
    )
    roomy = [
        t for t in usable if tier < t <= policy.max_tier and policy.context_tokens.get(t, 0) >= size
    ]
    if tier is task.tier:  # asked for by name: never swapped
        instead = f"pick the {roomy[0].label} tier, " if roomy else ""
        return tier, f"{over}; {instead}select a part of it, or raise that budget"
    if not roomy:
        return tier, (
            f"{over}, and no available tier up to {policy.max_tier.label} has room for it: "
            "select a part of it, or raise tiers.<tier>.context_tokens (nothing is cut "
            "silently)"
        )
    reasons.append(f"{over} → {roomy[0].label}")
    return roomy[0], None
