"""A request answered from the cache: L1, then the team's L2, with its ledger row."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tierwise.core.errors import TierwiseError
from tierwise.core.models import Usage
from tierwise.core.results import Result, result_from_dict
from tierwise.core.task import Task
from tierwise.core.tiers import Tier
from tierwise.engine.checking import checked_fields, verify
from tierwise.engine.memo import Memo
from tierwise.engine.outcome import Event, EventSink, Outcome
from tierwise.engine.sharing import Plan, Sharing
from tierwise.engine.stores import Stores
from tierwise.handlers.base import Handler
from tierwise.handlers.checks import CheckFailure
from tierwise.ledger import LedgerRow
from tierwise.routing.router import Decision

# Builds the ledger row of a request (the executor's, which knows the session).
RowFor = Callable[..., LedgerRow]


class CacheReader:
    """Looks a decided request up in L1 and L2 and rebuilds the answer found."""

    def __init__(self, stores: Stores, sharing: Sharing, row_for: RowFor) -> None:
        self.stores = stores
        self.sharing = sharing
        self.row_for = row_for
        # A hit checks the answer it rebuilt (parsing the target again): the check is a pure
        # function of the context, the tier and the answer, and hits repeat all three.
        self._verdicts: Memo[tuple[bool | None, CheckFailure | None]] = Memo()

    async def lookup(
        self,
        task: Task,
        decision: Decision,
        handler: Handler,
        keys: list[str],
        plan: Plan | None,
        started: float,
        emit: EventSink,
        *,
        lock_wait_s: float,
        escalated_from: str = "",
        keep_baseline: bool = False,
    ) -> Outcome | None:
        """L1, then L2 (waiting for a teammate who is computing it): a cached outcome, or None
        (a miss, counted) with the stampede lock taken when L2 is up."""
        cache = self.stores.cache
        assert cache is not None
        # Read without the LRU update, a write transaction (and at times a WAL checkpoint of
        # milliseconds): the entry is marked used off the reply's path.
        hit = cache.get_first(keys, touch=False)
        outcome = None
        if hit is not None:
            used = hit[0]
            self.stores.defer(lambda: cache.touch(used))
            outcome = self.from_cache(
                task,
                decision,
                handler,
                hit[1],
                started,
                escalated_from=escalated_from,
                keep_baseline=keep_baseline,
            )
        where = "cache"
        if outcome is None and plan is not None:
            found = await self.sharing.lookup(plan, emit, lock_wait_s)
            for warning in self.sharing.warnings():
                emit(Event("warning", warning))
            if found is not None:
                outcome = self.from_cache(
                    task,
                    decision,
                    handler,
                    found[1],
                    started,
                    plan=plan,
                    escalated_from=escalated_from,
                    keep_baseline=keep_baseline,
                )
                if outcome is not None:  # a teammate's answer: now on this machine too
                    self.stores.defer(lambda: cache.set(found[0], found[1]))
                    where = "the shared cache"
        if outcome is None:
            cache.record_miss()
            return None
        emit(Event("cached", f"from {where} · saved ~${outcome.saved_usd:.4f}"))
        return outcome

    def from_cache(
        self,
        task: Task,
        decision: Decision,
        handler: Handler,
        entry: dict[str, Any],
        started: float,
        *,
        plan: Plan | None = None,
        escalated_from: str = "",
        keep_baseline: bool = False,
    ) -> Outcome | None:
        """Rebuild a cached answer for this task, or None when the entry is unusable (a miss).
        With `plan`, the answer came from the shared cache (L2)."""
        try:
            result: Result = handler.adjust(task, result_from_dict(task.action, entry["result"]))
            cost = float(entry.get("cost_usd", 0.0))
        except Exception:  # an entry from an older format is a miss, not a crash
            return None
        saved = cost if entry.get("tier") == decision.tier.label else decision.estimate_usd
        assert self.stores.cache is not None
        self.stores.cache.record_hit(saved)
        if plan is not None:
            self.stores.cache.count("shared_hits")
            self.stores.cache.count("shared_saved_usd", saved)
        elapsed = time.perf_counter() - started
        model = str(entry.get("model") or decision.model or "")
        # Checked by the tier that wrote it: a frontier answer serving a budget request is not.
        try:
            answered_by = Tier.parse(str(entry.get("tier") or decision.tier.label))
        except TierwiseError:
            answered_by = decision.tier
        verified, failure = self._verdict(task, answered_by, result)
        row_id = self.stores.record(
            self.row_for(
                task,
                decision,
                outcome="ok",
                model=model or None,
                cache_hit=True,
                shared=plan is not None,
                saved_usd=saved,
                baseline_usd=decision.estimates["frontier"],
                latency_ms=int(elapsed * 1000),
                escalated_from=escalated_from,
                keep_baseline=keep_baseline,
                **checked_fields(verified, failure),
            )
        )
        return Outcome(
            task,
            decision,
            result,
            model or None,
            Usage(),
            0.0,
            0.0,
            True,
            elapsed,
            saved,
            decision.warnings,
            row_id,
            verified,
            failure,
            escalated_from,
        )

    def _verdict(
        self, task: Task, tier: Tier, result: Result
    ) -> tuple[bool | None, CheckFailure | None]:
        """`verify`, remembered by what it reads (the check reads the task's context only)."""
        key = (task.action, task.context, tier, result)
        try:
            hash(key)
        except TypeError:  # an answer holding a list: checked every time
            return verify(task, tier, result)
        return self._verdicts.get(key, lambda: verify(task, tier, result))
