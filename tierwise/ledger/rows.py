"""One ledger row (`LedgerRow`), the outcomes a row may have, and its SQL values."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from tierwise.core.records import FrozenRecord, setfield

# ok: answered; error: failed (a provider error, a reply that could not be used); cancelled:
# stopped by the user; declined: an edit the editor (or the user) did not apply; apply_failed:
# an edit that could not be applied (the document changed, the client cannot apply edits);
# refused: never sent (a requested tier not configured, a hard budget cap, a target too long).
# Served requests are ok, declined and apply_failed: only they carry a baseline and savings.
OUTCOMES = ("ok", "error", "cancelled", "declined", "apply_failed", "refused")
# What an edit event is: an answer's workspace/applyEdit result (docstring, rename), or a review
# quick fix the user chose; its status is applied, declined or apply_failed.
EDIT_KINDS = ("edit", "fix")
EDIT_STATUSES = ("applied", "declined", "apply_failed")
ERROR_MAX_CHARS = 500
LOCK_TIMEOUT_S = 5.0


def utc_iso(value: str | datetime) -> str:
    """Fixed-width UTC ISO text, so that string order in SQL is time order. Naive means UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _reasons(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(reason) for reason in value)


def _check_outcome(value: str) -> None:
    if value not in OUTCOMES:
        raise ValueError(f"ledger outcome {value!r} is not one of {', '.join(OUTCOMES)}")


class LedgerRow(FrozenRecord):
    """One request as the ledger records it (results, counts and money; never code)."""

    __slots__ = (
        "action",
        "language",
        "tier",
        "ts",
        "model",
        "provider",
        "reasons",
        "cache_hit",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "cost_usd",
        "baseline_usd",
        "saved_usd",
        "latency_ms",
        "outcome",
        "error",
        "session",
        "target",
        "applied",
        "wanted_tier",
        "shared",
        "verified",
        "escalated_from",
        "failed_check",
        "usage_estimated",
        "cell_tier",
        "risk",
    )
    action: str
    language: str
    tier: str
    ts: str  # ISO 8601; stored normalised to UTC
    model: str | None  # "provider:model"
    provider: str | None
    reasons: tuple[str, ...]
    cache_hit: bool
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float
    baseline_usd: float  # what the frontier tier would have cost
    saved_usd: float  # for cache hits: the cost avoided
    latency_ms: int
    outcome: str
    error: str | None
    session: str
    target: str  # Ledger.target_id of the target: repeats are found by it, never by path
    applied: bool | None  # for edits: applied (True) or not (False); None otherwise
    wanted_tier: str  # the tier the routing rules chose; `tier` below it is a downgrade
    shared: bool  # a cache hit served by the team's shared cache (L2), waited for or not
    verified: bool | None  # the answer passed its action's check; None: not checked
    escalated_from: str  # a retry one tier up: the tier whose answer failed its check
    failed_check: str  # the name of the check this row's answer failed (docstring.params)
    # The tokens (and the cost and baseline priced from them) are tierwise's estimate: the server
    # reported no usage (a compatible server that ignores stream_options.include_usage).
    usage_estimated: bool
    # The cell `tierwise tune` counts the row in: the rules' tier before the repeat step ("" when
    # the user chose the tier) and the risk category whose promotion applies ("none").
    cell_tier: str
    risk: str

    def __init__(
        self,
        *,
        action: str,
        language: str,
        tier: str,
        ts: str | None = None,
        model: str | None = None,
        provider: str | None = None,
        reasons: Iterable[str] = (),
        cache_hit: bool = False,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        cost_usd: float = 0.0,
        baseline_usd: float = 0.0,
        saved_usd: float = 0.0,
        latency_ms: int = 0,
        outcome: str = "ok",
        error: str | None = None,
        session: str = "",
        target: str = "",
        applied: bool | None = None,
        wanted_tier: str = "",
        shared: bool = False,
        verified: bool | None = None,
        escalated_from: str = "",
        failed_check: str = "",
        usage_estimated: bool = False,
        cell_tier: str = "",
        risk: str = "none",
    ) -> None:
        setfield(self, "action", action)
        setfield(self, "language", language)
        setfield(self, "tier", tier)
        setfield(self, "ts", _now() if ts is None else ts)
        setfield(self, "model", model)
        setfield(self, "provider", provider)
        setfield(self, "reasons", _reasons(reasons))
        setfield(self, "cache_hit", cache_hit)
        setfield(self, "input_tokens", input_tokens)
        setfield(self, "output_tokens", output_tokens)
        setfield(self, "cache_read_tokens", cache_read_tokens)
        setfield(self, "cache_write_tokens", cache_write_tokens)
        setfield(self, "cost_usd", cost_usd)
        setfield(self, "baseline_usd", baseline_usd)
        setfield(self, "saved_usd", saved_usd)
        setfield(self, "latency_ms", latency_ms)
        _check_outcome(outcome)
        setfield(self, "outcome", outcome)
        setfield(self, "error", error)
        setfield(self, "session", session)
        setfield(self, "target", target)
        setfield(self, "applied", applied)
        setfield(self, "wanted_tier", wanted_tier)
        setfield(self, "shared", shared)
        setfield(self, "verified", verified)
        setfield(self, "escalated_from", escalated_from)
        setfield(self, "failed_check", failed_check)
        setfield(self, "usage_estimated", usage_estimated)
        setfield(self, "cell_tier", cell_tier)
        setfield(self, "risk", risk)


class TuneRow(FrozenRecord):
    """What `tierwise tune` reads of one request (no code, no path: the target is its HMAC)."""

    __slots__ = (
        "id",
        "ts",
        "action",
        "tier",
        "cell_tier",
        "risk",
        "target",
        "cache_hit",
        "output_tokens",
        "outcome",
        "applied",
        "verified",
        "cost_usd",
        "baseline_usd",
        "input_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "fixes_offered",
        "fixes_chosen",
    )
    id: int
    ts: float  # Unix time
    action: str
    tier: str
    cell_tier: str
    risk: str
    target: str
    cache_hit: bool
    output_tokens: int
    outcome: str
    applied: bool | None
    verified: bool | None
    cost_usd: float
    baseline_usd: float
    input_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    fixes_offered: int
    fixes_chosen: int

    def __init__(
        self,
        id: int,
        ts: float,
        action: str,
        tier: str,
        cell_tier: str,
        risk: str,
        target: str,
        cache_hit: bool,
        output_tokens: int,
        outcome: str,
        applied: bool | None,
        verified: bool | None,
        cost_usd: float,
        baseline_usd: float,
        input_tokens: int,
        cache_read_tokens: int,
        cache_write_tokens: int,
        fixes_offered: int,
        fixes_chosen: int,
    ) -> None:
        setfield(self, "id", id)
        setfield(self, "ts", ts)
        setfield(self, "action", action)
        setfield(self, "tier", tier)
        setfield(self, "cell_tier", cell_tier)
        setfield(self, "risk", risk)
        setfield(self, "target", target)
        setfield(self, "cache_hit", cache_hit)
        setfield(self, "output_tokens", output_tokens)
        setfield(self, "outcome", outcome)
        setfield(self, "applied", applied)
        setfield(self, "verified", verified)
        setfield(self, "cost_usd", cost_usd)
        setfield(self, "baseline_usd", baseline_usd)
        setfield(self, "input_tokens", input_tokens)
        setfield(self, "cache_read_tokens", cache_read_tokens)
        setfield(self, "cache_write_tokens", cache_write_tokens)
        setfield(self, "fixes_offered", fixes_offered)
        setfield(self, "fixes_chosen", fixes_chosen)

    @classmethod
    def from_sql(cls, row: Any) -> TuneRow:
        """From the columns Ledger.tune_rows selects, in its order."""
        (rid, ts, action, tier, cell, risk, target, hit, out, outcome, applied, verified) = row[:12]
        cost, baseline, inp, cread, cwrite, offered, chosen = row[12:]
        return cls(
            id=int(rid),
            ts=datetime.fromisoformat(ts).timestamp(),
            action=str(action),
            tier=str(tier),
            cell_tier=str(cell),
            risk=str(risk or "none"),
            target=str(target),
            cache_hit=bool(hit),
            output_tokens=int(out),
            outcome=str(outcome),
            applied=None if applied is None else bool(applied),
            verified=None if verified is None else bool(verified),
            cost_usd=float(cost),
            baseline_usd=float(baseline),
            input_tokens=int(inp),
            cache_read_tokens=int(cread),
            cache_write_tokens=int(cwrite),
            fixes_offered=int(offered),
            fixes_chosen=int(chosen),
        )


COLUMNS = (
    "ts",
    "action",
    "language",
    "tier",
    "model",
    "provider",
    "reasons",
    "cache_hit",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
    "baseline_usd",
    "saved_usd",
    "latency_ms",
    "outcome",
    "error",
    "session",
    "target",
    "applied",
    "wanted_tier",
    "shared",
    "verified",
    "escalated_from",
    "failed_check",
    "usage_estimated",
    "cell_tier",
    "risk",
)
INSERT = f"INSERT INTO requests ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"


def values(row: LedgerRow) -> tuple[Any, ...]:
    error = row.error[:ERROR_MAX_CHARS] if row.error else row.error
    return (
        utc_iso(row.ts),
        row.action,
        row.language,
        row.tier,
        row.model,
        row.provider,
        json.dumps(list(row.reasons), ensure_ascii=False),
        int(row.cache_hit),
        int(row.input_tokens),
        int(row.output_tokens),
        int(row.cache_read_tokens),
        int(row.cache_write_tokens),
        float(row.cost_usd),
        float(row.baseline_usd),
        float(row.saved_usd),
        int(row.latency_ms),
        row.outcome,
        error,
        row.session,
        row.target,
        None if row.applied is None else int(row.applied),
        row.wanted_tier,
        int(row.shared),
        None if row.verified is None else int(row.verified),
        row.escalated_from,
        row.failed_check,
        int(row.usage_estimated),
        row.cell_tier,
        row.risk,
    )
