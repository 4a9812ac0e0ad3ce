"""The policy's rules, in order: override, directive, sticky tier, base tier, risk, size,
trivial code, local-first, repeats, clamp. Pure: `route()` calls them before availability,
privacy and the budget move the tier."""

from __future__ import annotations

from tierwise.core.records import FrozenRecord, setfield
from tierwise.core.task import Action, Task
from tierwise.core.text import plural
from tierwise.core.tiers import Tier
from tierwise.routing.policy import Policy
from tierwise.routing.signals import Signals


class RouteState(FrozenRecord):
    """Session facts the router needs, passed in so that route() stays pure."""

    __slots__ = (
        "sticky",
        "repeats",
        "spent_today",
        "spent_month",
        "team_spent_today",
        "team_as_of",
        "local_only",
        "assume_available",
        "assume_local",
    )
    sticky: Tier | None
    repeats: int  # earlier asks for the same target within the escalation window
    spent_today: float
    spent_month: float
    # The team's spend today (all members); when the shared cache is unreachable, the last
    # known total plus this machine's spend since, and team_as_of says from when.
    team_spent_today: float
    team_as_of: str  # empty: a fresh figure; else e.g. "last known total at 14:02 UTC"
    local_only: bool  # the path is marked local-only in the privacy config
    assume_available: bool  # plan/dry runs: route as if every tier were configured
    # With assume_available: False assumes every tier but local, which counts only where it is
    # configured (plan's figure "without a local model"; a local_only path may then go nowhere).
    assume_local: bool

    def __init__(
        self,
        sticky: Tier | None = None,
        repeats: int = 0,
        spent_today: float = 0.0,
        spent_month: float = 0.0,
        team_spent_today: float = 0.0,
        team_as_of: str = "",
        local_only: bool = False,
        assume_available: bool = False,
        assume_local: bool = True,
    ) -> None:
        setfield(self, "sticky", sticky)
        setfield(self, "repeats", repeats)
        setfield(self, "spent_today", spent_today)
        setfield(self, "spent_month", spent_month)
        setfield(self, "team_spent_today", team_spent_today)
        setfield(self, "team_as_of", team_as_of)
        setfield(self, "local_only", local_only)
        setfield(self, "assume_available", assume_available)
        setfield(self, "assume_local", assume_local)


def _body(lines: int) -> str:
    """The size the rules weigh, as a reason says it: the body's lines of code (the docstring,
    comments and blank lines are not counted, so "3 lines" for a 5-line function was untrue)."""
    if lines == 0:
        return "no code in its body"
    spoken_vowel = str(lines).startswith("8") or lines in (11, 18)  # an 8-, an 11-, an 18-
    return f"{'an' if spoken_vowel else 'a'} {lines}-line body"


def size_class(signals: Signals, policy: Policy) -> str:
    """ "huge", "big" or "" for a target's size and complexity (the thresholds in
    routing.signals): complexity alone promotes only at twice its threshold, because a short
    function with many branches is still a short read."""
    t = policy.signals
    if signals.lines >= t.huge_lines or signals.cyclomatic >= 2 * t.complex_cyclomatic:
        return "huge"
    if (
        signals.lines >= t.large_lines
        or (signals.cyclomatic >= t.complex_cyclomatic and signals.lines >= t.large_lines // 2)
        or (signals.nesting >= t.deep_nesting and signals.lines >= t.large_lines // 2)
        or signals.cross_file_calls >= t.cross_file_calls
    ):
        return "big"
    return ""


class Ruled(FrozenRecord):
    """What the rules chose: the tier with a reason for every step, and the cell `tierwise
    tune` groups the request in (None when the user chose the tier, not the rules)."""

    __slots__ = ("tier", "reasons", "cell_tier", "risk")
    tier: Tier
    reasons: list[str]
    cell_tier: Tier | None  # the rules' tier before the repeat step and the clamp
    risk: str  # the risk category whose promotion applies to this action, or "none"

    def __init__(
        self, tier: Tier, reasons: list[str], cell_tier: Tier | None = None, risk: str = "none"
    ) -> None:
        setfield(self, "tier", tier)
        setfield(self, "reasons", reasons)
        setfield(self, "cell_tier", cell_tier)
        setfield(self, "risk", risk)


def risk_cell(action: Action, signals: Signals, policy: Policy) -> str:
    """The risk category a request is grouped under: the first category of a risky target
    whose action risk promotes (a docstring of SQL code is "none": risk does not move it)."""
    if signals.risks and not signals.test_code and action in policy.risk_promotes_to:
        return signals.category
    return "none"


def apply_rules(
    task: Task,
    signals: Signals,
    policy: Policy,
    state: RouteState,
    local_ready: bool = False,
    *,
    local_assumed: bool = False,
) -> Ruled:
    """The policy tier with a reason for every step, before availability and budget."""
    action = task.action
    reasons: list[str] = []
    if task.tier is not None:
        return Ruled(task.tier, [f"requested tier {task.tier.label}"])
    if signals.directive is not None:
        try:
            return Ruled(
                Tier.parse(signals.directive), [f"inline directive 'tierwise: {signals.directive}'"]
            )
        except Exception:
            reasons.append(f"ignored inline directive 'tierwise: {signals.directive}' (not a tier)")
    if state.sticky is not None:
        return Ruled(state.sticky, [*reasons, f"session tier {state.sticky.label}"])

    tier = policy.base_tier(action)
    reasons.append(f"{action.value} starts at {tier.label}")
    risk_target = policy.risk_promotes_to.get(action)
    evidence = "; ".join(hit.evidence for hit in signals.risks[:3])
    if signals.risks and signals.test_code:
        reasons.append(f"{evidence} (test code: no promotion)")
    elif signals.risks and risk_target is not None and risk_target > tier:
        tier = risk_target
        reasons.append(evidence)
    elif signals.risks:
        reasons.append(f"{evidence} (low stakes for {action.value}: no promotion)")

    low_stakes = action in (Action.DOCSTRING, Action.RENAME)
    size = size_class(signals, policy)
    if (size == "huge" or (size == "big" and not low_stakes)) and tier < Tier.FRONTIER:
        tier = tier.up()
        reasons.append(
            f"{_body(signals.lines)}, complexity {signals.cyclomatic}, nesting"
            f" {signals.nesting}, {plural(signals.cross_file_calls, 'cross-file call')}"
            f" → {tier.label}"
        )
    elif policy.demote_trivial and signals.trivial and not signals.risks and tier > Tier.LOCAL:
        tier = tier.down()
        reasons.append(f"trivial code ({_body(signals.lines)}) → {tier.label}")
    if (
        local_ready
        and tier > Tier.LOCAL
        and action in policy.local_first
        and not signals.risks
        and not size
        and signals.lines < policy.signals.large_lines // 2
        and signals.cyclomatic < policy.signals.complex_cyclomatic
        and signals.nesting < policy.signals.deep_nesting
    ):
        tier = Tier.LOCAL
        local = "assumed (none is configured)" if local_assumed else "is configured"
        reasons.append(
            f"low-stakes code ({_body(signals.lines)}, no risk) and a local tier {local} → local"
        )

    risk = risk_cell(action, signals, policy)
    # Clamped before and after the override, and the repeat step stops at max_tier: the tier a
    # request is answered at and judged by (tune's cell, the key of an override) is the clamped
    # one, and a repeat escalates from the tier that answered. Clamped only at the end, a
    # `min_tier = "mid"` user's re-ask "escalated budget → mid", to the same tier again, and
    # tune counted none of the clamped requests in any cell.
    tier = _override(action, risk, _clamp(tier, policy, reasons), policy, reasons)
    tier = _clamp(tier, policy, reasons)
    cell_tier = tier

    ceiling = min(Tier.FRONTIER, policy.max_tier)
    if state.repeats > 0 and tier < ceiling:
        before = tier
        tier = Tier(min(tier + state.repeats, ceiling))
        reasons.append(f"asked again within the window: escalated {before.label} → {tier.label}")
    elif state.repeats > 0 and tier < Tier.FRONTIER:
        reasons.append(f"asked again within the window: {tier.label} is routing.max_tier")
    return Ruled(tier, reasons, cell_tier, risk)


def _clamp(tier: Tier, policy: Policy, reasons: list[str]) -> Tier:
    """The tier within routing.min_tier … max_tier, with a reason when that moved it."""
    clamped = min(max(tier, policy.min_tier), policy.max_tier)
    if clamped != tier:
        reasons.append(f"clamped to {clamped.label} by routing.min_tier/max_tier")
    return clamped


def _override(action: Action, risk: str, tier: Tier, policy: Policy, reasons: list[str]) -> Tier:
    """A learned override of this cell (routing.overrides), never below a risk promotion."""
    to = policy.overrides.get((action, risk, tier))
    if to is None or to == tier:
        return tier
    floor = policy.risk_promotes_to.get(action) if risk != "none" else None
    if to < tier and floor is not None and to < floor:
        reasons.append(
            f"ignored routing.overrides {tier.label} → {to.label}: {risk} code stays at"
            f" {floor.label} or above for {action.value}"
        )
        return tier
    reasons.append(f"routing.overrides: {action.value} on {risk} code at {tier.label} → {to.label}")
    return to
