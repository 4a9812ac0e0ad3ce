"""What a running request reports (events) and what it returns (the outcome)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tierwise.core.records import FrozenRecord, setfield

if TYPE_CHECKING:  # annotations only: `tierwise.engine` is imported by every command
    from tierwise.core.models import Usage
    from tierwise.core.results import Result
    from tierwise.core.task import Task
    from tierwise.handlers.checks import CheckFailure
    from tierwise.routing.router import Decision


class Event(FrozenRecord):
    """Progress from a running request: kind is "start", "warning", "delta", "cached" or "done"."""

    __slots__ = ("kind", "message", "output_tokens", "cost_usd")
    kind: str
    message: str
    output_tokens: int
    cost_usd: float

    def __init__(
        self, kind: str, message: str, output_tokens: int = 0, cost_usd: float = 0.0
    ) -> None:
        setfield(self, "kind", kind)
        setfield(self, "message", message)
        setfield(self, "output_tokens", output_tokens)
        setfield(self, "cost_usd", cost_usd)


class Outcome(FrozenRecord):
    """What one request produced and cost."""

    __slots__ = (
        "task",
        "decision",
        "result",
        "model",
        "usage",
        "cost_usd",
        "baseline_usd",
        "cache_hit",
        "latency_s",
        "saved_usd",
        "warnings",
        "ledger_id",
        "verified",
        "failed_check",
        "escalated_from",
    )
    task: Task
    decision: Decision
    result: Result
    model: str | None
    usage: Usage
    cost_usd: float
    baseline_usd: float  # what the frontier tier would have cost for the same tokens
    cache_hit: bool
    latency_s: float
    saved_usd: float
    warnings: tuple[str, ...]
    ledger_id: int | None  # its ledger row, for recording what became of its edit
    verified: bool | None  # passed its action's check; None: not checked (static, frontier)
    failed_check: CheckFailure | None  # the check the answer failed, when it failed one
    escalated_from: str  # answered by a retry one tier up: the tier whose answer failed

    def __init__(
        self,
        task: Task,
        decision: Decision,
        result: Result,
        model: str | None,
        usage: Usage,
        cost_usd: float,
        baseline_usd: float,
        cache_hit: bool,
        latency_s: float,
        saved_usd: float = 0.0,
        warnings: tuple[str, ...] = (),
        ledger_id: int | None = None,
        verified: bool | None = None,
        failed_check: CheckFailure | None = None,
        escalated_from: str = "",
    ) -> None:
        setfield(self, "task", task)
        setfield(self, "decision", decision)
        setfield(self, "result", result)
        setfield(self, "model", model)
        setfield(self, "usage", usage)
        setfield(self, "cost_usd", cost_usd)
        setfield(self, "baseline_usd", baseline_usd)
        setfield(self, "cache_hit", cache_hit)
        setfield(self, "latency_s", latency_s)
        setfield(self, "saved_usd", saved_usd)
        setfield(self, "warnings", warnings)
        setfield(self, "ledger_id", ledger_id)
        setfield(self, "verified", verified)
        setfield(self, "failed_check", failed_check)
        setfield(self, "escalated_from", escalated_from)


EventSink = Callable[[Event], None]
