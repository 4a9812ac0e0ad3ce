"""What a running request reports (events) and what it returns (the outcome)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:  # annotations only: `tierwise.engine` is imported by every command
    from tierwise.core.models import Usage
    from tierwise.core.results import Result
    from tierwise.core.task import Task
    from tierwise.handlers.checks import CheckFailure
    from tierwise.routing.router import Decision


@attrs.frozen
class Event:
    """Progress from a running request: kind is "start", "warning", "delta", "cached" or "done"."""

    kind: str
    message: str
    output_tokens: int = 0
    cost_usd: float = 0.0


@attrs.frozen
class Outcome:
    """What one request produced and cost."""

    task: Task
    decision: Decision
    result: Result
    model: str | None
    usage: Usage
    cost_usd: float
    baseline_usd: float  # what the frontier tier would have cost for the same tokens
    cache_hit: bool
    latency_s: float
    saved_usd: float = 0.0
    warnings: tuple[str, ...] = ()
    ledger_id: int | None = None  # its ledger row, for recording what became of its edit
    verified: bool | None = None  # passed its action's check; None: not checked (static, frontier)
    failed_check: CheckFailure | None = None  # the check the answer failed, when it failed one
    escalated_from: str = ""  # answered by a retry one tier up: the tier whose answer failed


EventSink = Callable[[Event], None]
