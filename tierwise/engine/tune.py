"""Learning from use: per action, tier and risk category, what the ledger says about the answers
(re-asked, applied, declined, checks failed, cost), and the rules that turn it into suggestions
(docs/routing.md, "Tune rules"). Pure: rows, policy and prices in, cells and suggestions out.

A request is counted in the cell the rules put it in (`cell_tier`: the rules' tier before the
repeat step, `risk`: the category whose promotion applies to its action), and only when that
tier answered it: a request the user sent to a tier, one escalated because it was asked again,
or one answered below its tier (no key, the budget, local_only) is no evidence about the cell.
It still counts as the next ask of the request before it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from tierwise.core.models import Usage
from tierwise.core.task import Action
from tierwise.core.text import plural
from tierwise.core.tiers import Tier
from tierwise.engine.asks import Ask
from tierwise.engine.pricing import Pricing
from tierwise.engine.tune_findings import Cell, Finding
from tierwise.ledger import Ledger, TuneRow
from tierwise.routing.policy import Policy

# Tune rules (docs/routing.md, "Tune rules"). A cell needs MIN_SAMPLE served requests: below 20
# one re-ask moves the rate by 5 points or more, and "never re-asked" in 20 still allows a true
# rate up to 15% (the rule of three), the most a lowering may risk.
MIN_SAMPLE = 20
RAISE_REASK = 0.25  # re-asked this often: the tier is not doing the job
RAISE_CHECK_FAIL = 0.20  # its answers fail their deterministic check this often
RAISE_DECLINE = 0.30  # its edits are declined this often
LOWER_REASK = 0.05  # at most this often re-asked to lower ("never", give or take one in 20)
LOWER_CHECK_FAIL = 0.05  # and its checked answers pass at least 95% of the time
LOWER_APPLIED = 0.90  # and, for edits (docstring, rename), at least 90% applied
MIN_JUDGED = 10  # edits applied or declined (and answers checked) before their rate counts
DEFAULT_WINDOW_DAYS = 28
EDIT_ACTIONS = frozenset({Action.DOCSTRING.value, Action.RENAME.value})
_SERVED = frozenset({"ok", "declined", "apply_failed"})

# The cost of a row's tokens on a tier, at the catalogue's prices.
PriceFn = Callable[[Tier, TuneRow], float]


def _counts(row: TuneRow) -> bool:
    """Whether an ask followed by another says its answer was not good enough (engine/asks)."""
    ask = Ask(row.ts, row.cache_hit, row.tier, row.output_tokens, row.outcome, row.applied)
    return ask.counts and not row.applied and not row.fixes_chosen  # a fix taken: accepted


def reasked_ids(rows: Sequence[TuneRow], window_s: float) -> set[int]:
    """Rows followed by another ask of the same action on the same target within the window
    (the escalation window), when the row is an ask that counts (docs/routing.md)."""
    last: dict[tuple[str, str], TuneRow] = {}
    out: set[int] = set()
    for row in sorted(rows, key=lambda r: (r.ts, r.id)):
        if not row.target:
            continue
        key = (row.target, row.action)
        before = last.get(key)
        if before is not None and row.ts - before.ts <= window_s and _counts(before):
            out.add(before.id)
        if row.outcome != "refused":  # a refused request was never answered: no next ask
            last[key] = row
    return out


def cells(rows: Sequence[TuneRow], window_s: float) -> list[Cell]:
    """Every action, tier and risk category with a served request its own tier answered."""
    reasked = reasked_ids(rows, window_s)
    groups: dict[tuple[str, str, str], list[TuneRow]] = defaultdict(list)
    for row in rows:
        if row.cell_tier and row.tier == row.cell_tier and row.outcome in _SERVED:
            groups[(row.action, row.cell_tier, row.risk)].append(row)
    out = []
    for (action, tier, risk), group in groups.items():
        out.append(
            Cell(
                action=action,
                tier=tier,
                risk=risk,
                requests=len(group),
                reasked=sum(1 for r in group if r.id in reasked),
                # Edits are docstrings and renames; a review's accepted part is its quick fixes.
                applied=sum(1 for r in group if r.applied and action in EDIT_ACTIONS),
                declined=sum(
                    1 for r in group if r.outcome == "declined" and action in EDIT_ACTIONS
                ),
                fixes_offered=sum(r.fixes_offered for r in group),
                fixes_chosen=sum(min(r.fixes_chosen, r.fixes_offered) for r in group),
                checked=sum(1 for r in group if r.verified is not None),
                check_failed=sum(1 for r in group if r.verified is False),
                cost_usd=sum(r.cost_usd for r in group),
                baseline_usd=sum(r.baseline_usd for r in group),
            )
        )
    return sorted(out, key=lambda c: (c.action, int(Tier.parse(c.tier)), c.risk))


def evidence(cell: Cell, window_days: float) -> str:
    """The figures a verdict rests on, in words."""
    parts = [
        "never re-asked"
        if cell.reasked == 0
        else f"re-asked {cell.reask_rate:.0%} of the time ({cell.reasked} of {cell.requests})"
    ]
    if cell.applied_rate is not None:
        parts.append(f"applied {cell.applied_rate:.0%} ({cell.applied} of {cell.judged} edits)")
    if cell.fix_rate is not None:
        parts.append(f"{cell.fixes_chosen} of {cell.fixes_offered} quick fixes chosen")
    if cell.check_fail_rate is not None:
        parts.append(
            f"checks failed {cell.check_fail_rate:.0%} ({cell.check_failed} of {cell.checked})"
        )
    return f"{', '.join(parts)} (n={cell.requests}, {_days(window_days)})"


def _days(value: float) -> str:
    return plural(max(round(value), 1), "day")


@attrs.frozen(kw_only=True)
class Rules:
    """What bounds a suggestion: the policy (risk floors, min and max tier) and the tiers that
    can answer (a suggestion never names a tier nobody configured)."""

    policy: Policy
    configured: frozenset[Tier]
    min_sample: int = MIN_SAMPLE


def _step(tier: Tier, direction: int, rules: Rules) -> Tier | None:
    """The next configured model tier up (+1) or down (-1) within min_tier..max_tier."""
    value = int(tier) + direction
    while Tier.LOCAL <= value <= Tier.FRONTIER:
        candidate = Tier(value)
        if not rules.policy.min_tier <= candidate <= rules.policy.max_tier:
            return None
        if candidate in rules.configured:
            return candidate
        value += direction
    return None


def judge(
    cell: Cell, rules: Rules, window_days: float, price: PriceFn, answered: Sequence[TuneRow]
) -> Finding:
    """Apply the tune rules to one cell; `answered`: its rows a model answered (the ones
    whose price moves with the tier)."""
    said = evidence(cell, window_days)

    def base(verdict: str, to: Tier | None, note: str, weekly_usd: float = 0.0) -> Finding:
        label = to.label if to is not None else None
        return Finding(
            cell=cell,
            verdict=verdict,
            to=label,
            evidence=said,
            note=note,
            weekly_usd=weekly_usd,
            window_days=window_days,
        )

    if cell.requests < rules.min_sample:
        return Finding(
            cell=cell,
            verdict="thin",
            to=None,
            evidence=f"n={cell.requests}, {_days(window_days)}",
            note=f"not enough data (n={cell.requests} < {rules.min_sample})",
            weekly_usd=0.0,
            window_days=window_days,
        )
    tier = Tier.parse(cell.tier)
    fail = cell.check_fail_rate if cell.checked >= MIN_JUDGED else None
    declines = (
        1 - cell.applied_rate
        if cell.judged >= MIN_JUDGED and cell.applied_rate is not None
        else None
    )
    raise_why = [
        w
        for w, hit in (
            ("re-asked often", cell.reask_rate >= RAISE_REASK),
            ("checks fail often", fail is not None and fail >= RAISE_CHECK_FAIL),
            ("edits declined often", declines is not None and declines >= RAISE_DECLINE),
        )
        if hit
    ]
    weeks = max(window_days, 1.0) / 7
    if raise_why:
        up = _step(tier, +1, rules)
        if up is None:
            limit = (
                "already the top tier"
                if tier is Tier.FRONTIER
                else "no higher tier is configured within routing.max_tier"
            )
            return base("keep", None, f"keep: {'; '.join(raise_why)}, but {limit}")
        return base("raise", up, "", _delta(up, price, answered) / weeks)
    lower_ok = (
        cell.reask_rate <= LOWER_REASK
        and (cell.check_fail_rate is None or cell.check_fail_rate <= LOWER_CHECK_FAIL)
        and (
            cell.action not in EDIT_ACTIONS
            or (cell.judged >= MIN_JUDGED and (cell.applied_rate or 0.0) >= LOWER_APPLIED)
        )
    )
    if not lower_ok:
        why = "keep: within the thresholds"
        if cell.action in EDIT_ACTIONS and cell.judged < MIN_JUDGED:
            why = f"keep: too few edits judged to lower it ({cell.judged} < {MIN_JUDGED})"
        return base("keep", None, why)
    down = _step(tier, -1, rules)
    floor = rules.policy.risk_promotes_to.get(Action(cell.action)) if cell.risk != "none" else None
    if down is not None and floor is not None and down < floor:
        return base(
            "keep",
            None,
            f"keep: {cell.risk} code stays at {floor.label} or above for {cell.action}"
            " (risk promotion)",
        )
    if down is None:
        return base("keep", None, "keep: no lower tier is configured within routing.min_tier")
    return base("lower", down, "", _delta(down, price, answered) / weeks)


def _delta(to: Tier, price: PriceFn, answered: Sequence[TuneRow]) -> float:
    """What the cell's model answers would have cost on `to` minus what they cost (the
    ledger's own figures; cache hits cost nothing either way)."""
    return sum(price(to, r) - r.cost_usd for r in answered)


def _answered(rows: Sequence[TuneRow]) -> dict[tuple[str, str, str], list[TuneRow]]:
    """Each cell's rows its own tier answered with a model call (no cache hit), in one pass:
    filtering all rows for each suggestion made tune quadratic in the ledger."""
    out: dict[tuple[str, str, str], list[TuneRow]] = defaultdict(list)
    for r in rows:
        if r.cell_tier and r.tier == r.cell_tier and r.outcome in _SERVED and not r.cache_hit:
            out[(r.action, r.cell_tier, r.risk)].append(r)
    return out


def tune(
    rows: Sequence[TuneRow],
    rules: Rules,
    *,
    window_days: float,
    now: float,
    price: PriceFn,
) -> list[Finding]:
    """Every cell of the window with its verdict. The weekly figures divide by the days the
    window really covers (since its first row, at least one day), not the days asked for."""
    if rows:
        covered = min(window_days, max((now - min(r.ts for r in rows)) / 86400, 1.0))
    else:
        covered = window_days
    answered = _answered(rows)
    return [
        judge(cell, rules, covered, price, answered.get((cell.action, cell.tier, cell.risk), []))
        for cell in cells(rows, rules.policy.escalate_window_s)
    ]


def section(
    ledger: Ledger | None,
    policy: Policy,
    pricing: Pricing,
    *,
    window_days: float = DEFAULT_WINDOW_DAYS,
    now: float | None = None,
) -> dict[str, Any]:
    """The tune figures as `tierwise tune --json`, `tierwise stats` and `tierwise.stats` give
    them: the window, the rules' thresholds and every cell with its verdict."""
    import time

    moment = time.time() if now is None else now
    found: list[Finding] = []
    requests = 0
    if ledger is not None:
        since = datetime.fromtimestamp(moment - window_days * 86400, UTC)
        # Tiers with models in the config (a key may be set later, the CLI may run without
        # one); the local tier only when its server is configured.
        usable = pricing.availability
        configured = frozenset(
            t for t in usable.reference if t is not Tier.LOCAL or usable.chains.get(t)
        )
        rules = Rules(policy=policy, configured=configured)
        rows = ledger.tune_rows(since)
        requests = len(rows)
        found = tune(
            rows,
            rules,
            window_days=window_days,
            now=moment,
            price=lambda tier, row: pricing.tier_cost(tier, _usage(row)),
        )
    return {
        "window_days": window_days,
        "min_sample": MIN_SAMPLE,
        "requests": requests,  # in the window, whether or not any fell in a cell
        "cells": [f.to_json() for f in found],
        "suggestions": [f.to_json() for f in found if f.to is not None],
    }


def _usage(row: TuneRow) -> Usage:
    return Usage(row.input_tokens, row.output_tokens, row.cache_read_tokens, row.cache_write_tokens)
