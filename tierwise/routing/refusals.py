"""What route() says when a request may not run as ruled: a tier asked for by name that is not
configured, nothing configured at all, and the daily, monthly and team spend caps (which warn,
demote or refuse)."""

from __future__ import annotations

from tierwise.core.task import Action
from tierwise.core.tiers import Tier
from tierwise.routing.policy import STATIC_ACTIONS, Policy
from tierwise.routing.rules import RouteState


# Refusals are shown by editors as well as the CLI, so they say "pick the X tier" and name no
# CLI flag: the CLI adds its own --tier hint (cli/main.py), an editor has its own tier picker.
def requested_unavailable(tier: Tier, action: Action, usable: list[Tier]) -> str:
    """Why a tier asked for by name cannot answer, and what to set or pick instead."""
    needs = (
        "a local server: set providers.local.base_url in your user config"
        if tier is Tier.LOCAL
        else "ANTHROPIC_API_KEY or OPENAI_API_KEY (or another provider in its models)"
    )
    others = [t.label for t in usable if t is not Tier.STATIC or action in STATIC_ACTIONS]
    instead = f"; set one, or pick the {others[-1]} tier" if others else ""
    return f"{tier.label} tier needs {needs}{instead}"


def nothing_configured(
    tier: Tier, action: Action, state: RouteState, *, asked_static: bool = False
) -> str:
    """Why no tier can answer at all, and what to configure (`asked_static`: the user picked
    the static tier for an action it does not do)."""
    if asked_static:
        return (
            f"the static tier has no {action.value} (it does docstring and review): "
            f"{action.value} needs a model tier: set ANTHROPIC_API_KEY or OPENAI_API_KEY, or "
            "configure providers.local.base_url for a local server"
        )
    if state.local_only:
        return (
            f"this path is local_only and no local server is configured for {action.value}: "
            "set providers.local.base_url in your user config (e.g. llama-server or Ollama)"
        )
    return (
        f"{tier.label} tier needs a provider: set ANTHROPIC_API_KEY or OPENAI_API_KEY, "
        "or configure providers.local.base_url for a local server"
        + (", or pick the static tier" if action in STATIC_ACTIONS else "")
    )


BUDGET_REFUSAL = "refused by the hard"  # how a budget refusal starts (engine: BudgetExceeded)


def _usd(value: float) -> str:
    """Dollars as the caps are written: cents above a dollar, four places below (a $0.50 team
    cap with $0.0007 spent must not read "$0.00 spent")."""
    return f"${value:.2f}" if value >= 1 or value == 0 else f"${value:.4f}"


def budget_guard(
    tier: Tier,
    estimate: float,
    estimates: dict[str, float],
    usable: list[Tier],
    policy: Policy,
    state: RouteState,
) -> tuple[Tier, float, str | None, str | None]:
    """Apply the daily, monthly and team caps: warn (soft), or demote or refuse (hard)."""
    caps = [
        (cap, spent, label, mode)
        for cap, spent, label, mode in (
            (policy.daily_usd, state.spent_today, "daily", policy.budget_mode),
            (policy.monthly_usd, state.spent_month, "monthly", policy.budget_mode),
            (policy.team_daily_usd, state.team_spent_today, "team daily", policy.team_mode),
        )
        if cap > 0
    ]
    over = [(cap, spent, label, mode) for cap, spent, label, mode in caps if spent + estimate > cap]
    if not over or estimate == 0:
        return tier, estimate, None, None
    hard = [entry for entry in over if entry[3] == "hard"]
    cap, spent, label, _ = hard[0] if hard else over[0]
    known = f" ({state.team_as_of})" if label == "team daily" and state.team_as_of else ""
    note = f"{label} budget {_usd(cap)}: {_usd(spent)} spent{known}, this request ~${estimate:.4f}"
    if not hard:
        return tier, estimate, f"over the {note}", None
    if policy.on_hard == "demote":
        for lower in sorted((t for t in usable if t < tier), reverse=True):
            cost = estimates[lower.label]
            if all(s + cost <= c for c, s, _, m in caps if m == "hard"):
                return lower, cost, f"demoted {tier.label} → {lower.label} by the hard {note}", None
    return tier, estimate, None, f"{BUDGET_REFUSAL} {note}"
