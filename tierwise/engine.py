"""The pipeline: task -> signals -> route -> cache -> provider -> handler -> outcome + ledger row.

STUB: the signatures below are the contract the CLI and the server use; bodies land next.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from tierwise.config import Config
from tierwise.handlers.base import Action, Result, Task
from tierwise.providers.base import Usage
from tierwise.routing.tiers import Tier


@attrs.frozen
class Decision:
    """The router's answer: the tier, the model chain to try, reasons, and the estimate."""

    action: Action
    tier: Tier
    models: tuple[str, ...]  # "provider:model" fallback chain; empty for static
    reasons: tuple[str, ...]
    estimate_usd: float
    estimates: dict[str, float | None]  # tier label -> USD, None when unavailable
    warnings: tuple[str, ...] = ()
    refused: str | None = None  # set when a hard budget cap refuses the request

    @property
    def model(self) -> str | None:
        """The first model of the chain, or None for static."""
        return self.models[0] if self.models else None


@attrs.frozen
class Event:
    """Progress from a running request: kind is "start", "delta", "cached" or "done"."""

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


EventSink = Callable[[Event], None]


class Engine:
    """Owns config, cache, ledger and providers; one per CLI run or server."""

    def __init__(self, config: Config, *, workspace_root: str | None = None) -> None:
        self.config = config
        self.workspace_root = workspace_root

    def build_task(
        self,
        action: str | Action,
        path: str,
        source: str,
        line: int,
        col: int = 0,
        *,
        end_line: int | None = None,
        end_col: int | None = None,
        tier: str | None = None,
        refresh: bool = False,
        options: dict[str, str] | None = None,
        doc_version: int | None = None,
        uri: str | None = None,
    ) -> Task:
        """Extract the target at a 0-based position (or selection) and build a Task."""
        raise NotImplementedError

    def decide(self, task: Task, *, sticky: Tier | None = None) -> Decision:
        """Route a task with no I/O beyond reading the in-memory state."""
        raise NotImplementedError

    async def run(
        self, task: Task, *, sticky: Tier | None = None, on_event: EventSink | None = None
    ) -> Outcome:
        """Run a task end to end; cancelling the awaiting task closes the provider stream."""
        raise NotImplementedError

    def stats(self) -> dict[str, Any]:
        """Ledger summary (session and all time) and cache stats."""
        raise NotImplementedError

    def clear_cache(self) -> int:
        """Empty the response cache; returns the number of entries removed."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Close providers, cache and ledger."""
