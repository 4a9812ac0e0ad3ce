"""The ledger row of one request: what the engine writes for every outcome."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tierwise.core.models import ModelRef, Usage
from tierwise.core.task import Task
from tierwise.ledger import LedgerRow
from tierwise.routing.router import Decision


def usage_fields(usage: Usage) -> dict[str, int | bool]:
    """The ledger row's token columns for a usage (and whether they are an estimate)."""
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "usage_estimated": usage.estimated,
    }


def ledger_row(
    task: Task, decision: Decision, *, target: str, session: str, **fields: Any
) -> LedgerRow:
    """A row for the task as decided; `target` is the target's ledger id (an HMAC). A retry's
    row (`escalated_from`) has no baseline of its own unless `keep_baseline`: the first
    answer's row carries it, except when that answer was unusable (an error row, not served)."""
    model = fields.pop("model", None) or decision.model
    if fields.get("escalated_from") and not fields.pop("keep_baseline", False):
        fields["baseline_usd"] = 0.0  # the request's baseline is on its first answer's row
    fields.pop("keep_baseline", None)
    return LedgerRow(
        target=target,
        ts=datetime.now(UTC).isoformat(timespec="seconds"),
        action=task.action.value,
        language=task.context.target.language,
        tier=decision.tier.label,
        model=model,
        provider=ModelRef.parse(model).provider if model else None,
        reasons=list(decision.reasons),
        session=session,
        wanted_tier=decision.wanted.label if decision.wanted is not None else "",
        cell_tier=decision.cell_tier.label if decision.cell_tier is not None else "",
        risk=decision.risk,
        **fields,
    )
