"""What a route reads besides the target's signals: the session's state (spend against the
caps, earlier asks of the same target, privacy), the prompt's size, and what sizes it (the
context budget and the action's configured options)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from tierwise.config import Config
from tierwise.core.code import budget_tokens, tokens_of_chars
from tierwise.core.task import Action, Task
from tierwise.core.tiers import Tier
from tierwise.engine.asks import repeats
from tierwise.engine.paths import PathRules
from tierwise.engine.stores import Stores
from tierwise.handlers.registry import get_handler
from tierwise.handlers.sizing import prompt_chars
from tierwise.routing.policy import Policy
from tierwise.routing.router import RouteState, TokenEstimate
from tierwise.routing.signals import Signals


def route_state(
    stores: Stores,
    policy: Policy,
    paths: PathRules,
    task: Task,
    signals: Signals,
    *,
    sticky: Tier | None = None,
    assume_available: bool = False,
) -> RouteState:
    """The session facts a route of this task reads: spend, repeats, privacy."""
    today, month = _spent(stores, policy)
    team = stores.team if policy.team_daily_usd > 0 else None
    team_today, team_as_of = team.spent_today() if team is not None else (0.0, "")
    return RouteState(
        sticky=sticky,
        repeats=_repeats(stores, policy, task, signals),
        spent_today=today,
        spent_month=month,
        team_spent_today=team_today,
        team_as_of=team_as_of,
        local_only=paths.is_local_only(task.context.target.path),
        assume_available=assume_available,
    )


def context_budget(config: Config, policy: Policy, action: Action, tier: Tier | None) -> int:
    """Context tokens allowed for an action: the requested tier's, else its base tier's."""
    tier_config = config.tiers.get((tier or policy.base_tier(action)).label)
    return tier_config.context_tokens if tier_config else 2000


def action_options(
    config: Config, action: Action, options: dict[str, str] | None
) -> dict[str, str]:
    """The configured options of an action (docstring style, rename candidates, prompt
    additions), then the request's own."""
    opts: dict[str, str] = {}
    if action is Action.DOCSTRING:
        opts["style"] = config.actions.docstring_style
    if action is Action.RENAME:
        opts["candidates"] = str(config.actions.rename_candidates)
    if extra := config.prompts.get(action.value):
        opts["extra"] = extra
    opts.update(options or {})
    return opts


def token_estimate(task: Task, target_tokens: int | None = None) -> TokenEstimate:
    """The task's prompt and reply sizes; `target_tokens`: the target's budget size when the
    caller has it (it is the same for every action)."""
    handler = get_handler(task.action)
    return TokenEstimate(
        tokens_of_chars(prompt_chars(handler, task)),
        handler.expected_output_tokens(task),
        budget_tokens(task.context.target.text) if target_tokens is None else target_tokens,
    )


def _repeats(stores: Stores, policy: Policy, task: Task, signals: Signals) -> int:
    """Earlier asks that count for escalation (engine/asks.py says which); none for a
    refresh, which asks for a fresh answer rather than a better tier, nor with a window of 0
    (escalation on repeat turned off: no earlier ask is within it, so nothing is read)."""
    held = stores.held
    window = policy.escalate_window_s
    if task.refresh or window <= 0 or (held is not None and not held.rows):
        return 0  # (a plan run over a ledger with no request in the window: none)
    now = time.time()
    since = datetime.fromtimestamp(now - window, UTC)
    found = stores.asks(stores.target_id(signals.target_key), task.action.value, since)
    return repeats(found, now=now, window_s=window)


def _spent(stores: Stores, policy: Policy) -> tuple[float, float]:
    if policy.daily_usd <= 0 and policy.monthly_usd <= 0:
        return 0.0, 0.0
    from tierwise.engine.spending import spent_today_and_month

    return spent_today_and_month(stores.ledger)
