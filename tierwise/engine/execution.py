"""One request's execution: static, cache hit or streamed provider call, each with a ledger row."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tierwise import privacy
from tierwise.config import Config
from tierwise.core.code import estimate_tokens
from tierwise.core.errors import (
    BadResponse,
    BudgetExceeded,
    MissingKey,
    ProviderError,
    TierwiseError,
    Truncated,
)
from tierwise.core.models import ModelRef, Usage
from tierwise.core.results import result_to_dict
from tierwise.core.task import Task
from tierwise.core.tiers import Tier
from tierwise.engine.answers import redact_result
from tierwise.engine.cached import CacheReader
from tierwise.engine.calling import (
    INLINE_REDACT_CHARS,
    REDACTION_MEMORY,
    cut_message,
    redact_prompt,
    ref_for,
    stream_once,
    with_hints,
)
from tierwise.engine.checking import checked_fields, verify
from tierwise.engine.keying import NormalForms, keyed_lookups
from tierwise.engine.memo import Memo
from tierwise.engine.outcome import Event, EventSink, Outcome
from tierwise.engine.pricing import Pricing
from tierwise.engine.rows import ledger_row, usage_fields
from tierwise.engine.sharing import Plan, Sharing
from tierwise.engine.stores import Stores
from tierwise.handlers.base import Handler
from tierwise.handlers.registry import get_handler
from tierwise.ledger import LedgerRow
from tierwise.providers.base import Completion, ProviderRequest
from tierwise.providers.pool import ProviderPool, Spent
from tierwise.routing.refusals import BUDGET_REFUSAL
from tierwise.routing.router import Decision
from tierwise.routing.signals import target_key


class Executor:
    """Runs decided requests for the engine that owns it; reads the engine's current setup."""

    config: Config
    pool: ProviderPool
    pricing: Pricing

    def __init__(self, stores: Stores, session: str) -> None:
        self.stores = stores
        self.session = session
        self.sharing = Sharing(stores)
        self.reader = CacheReader(stores, self.sharing, self._row)
        # Why a path's answers must stay on this machine (local_only, excluded), or None; the
        # engine sets it (it knows the workspace root the globs are relative to).
        self.never_shared: Callable[[str], str | None] = lambda _path: None
        # Tokenizing the target for its key is a good part of a cache hit: once per input.
        self._normal_forms = NormalForms()
        # Every prompt carries the action's system text, and a burst over one file repeats
        # contexts (a class's methods share theirs): each distinct text is scanned once.
        self._redactions: Memo[privacy.Redaction] = Memo(REDACTION_MEMORY)

    def reconfigure(self, config: Config, pool: ProviderPool, pricing: Pricing) -> None:
        """Adopt the engine's new configuration, providers and prices (hot reload)."""
        self.config = config
        self.pool = pool
        self.pricing = pricing

    def cache_keys(self, task: Task, handler: Handler, decision: Decision) -> list[str]:
        """Keys for the decided tier first, then (when allowed) every higher tier's models."""
        return [key for _tier, _ref, key in self.keyed(task, handler, decision)]

    def keyed(
        self, task: Task, handler: Handler, decision: Decision
    ) -> list[tuple[Tier, str, str]]:
        """(tier, model ref, key) of every lookup, in order (engine/keying.py)."""
        return keyed_lookups(self.config, self._normal_forms, task, handler, decision)

    async def execute(
        self,
        task: Task,
        decision: Decision,
        emit: EventSink,
        *,
        escalated_from: str = "",
        keep_baseline: bool = False,
    ) -> Outcome:
        """Run the decided request and record exactly one ledger row for it (its answer checked
        on a cheap tier; `escalated_from` names the tier of a failed answer this one retries, and
        `keep_baseline` says that answer was unusable, so this row is the request's served one
        and carries its all-frontier baseline)."""
        import asyncio  # here, not at import: `tierwise route` never runs a request

        started = time.perf_counter()
        handler = get_handler(task.action)
        if decision.refused:
            self.stores.record(self._row(task, decision, outcome="refused", error=decision.refused))
            exc: TierwiseError = (
                BudgetExceeded(decision.refused)
                if decision.refused.startswith(BUDGET_REFUSAL)
                else MissingKey(decision.refused, other_tiers=bool(decision.available))
            )
            raise exc
        for warning in decision.warnings:
            emit(Event("warning", warning))

        if decision.tier is Tier.STATIC:
            emit(Event("start", f"{task.action.value} · static · no model"))
            result = await asyncio.to_thread(handler.run_static, task)
            elapsed = time.perf_counter() - started
            baseline = decision.estimates["frontier"]  # what the ledger and the answer both say
            row_id = self.stores.record(
                self._row(
                    task,
                    decision,
                    outcome="ok",
                    latency_ms=int(elapsed * 1000),
                    cost_usd=0.0,
                    baseline_usd=baseline,
                )
            )
            emit(Event("done", "static · $0"))
            return Outcome(
                task,
                decision,
                result,
                None,
                Usage(),
                0.0,
                baseline,
                False,
                elapsed,
                0.0,
                decision.warnings,
                row_id,
            )

        keyed = [] if self.stores.cache is None else self.keyed(task, handler, decision)
        keys = [key for _tier, _ref, key in keyed]
        store_warnings = tuple(self.stores.take_warnings())  # an unusable cache, said once
        for warning in store_warnings:
            emit(Event("warning", warning))
        plan = self._plan(task, keyed)
        for warning in self.sharing.warnings():
            emit(Event("warning", warning))
        if keys and not task.refresh and self.stores.cache is not None:
            cached = await self.reader.lookup(
                task,
                decision,
                handler,
                keys,
                plan,
                started,
                emit,
                lock_wait_s=self.config.cache.shared.lock_wait_s,
                escalated_from=escalated_from,
                keep_baseline=keep_baseline,
            )
            if cached is not None:
                return cached

        emit(Event("start", f"{task.action.value} · {decision.tier.label} · {decision.model}"))
        task = await with_hints(task, handler)
        prompt = handler.build_prompt(task)
        tier_config = self.config.tiers[decision.tier.label]
        redactions: list[privacy.Redaction] = []
        redacted: tuple[str, str, str] | None = None
        if self.config.privacy.redact and any(
            not self.pool.is_local(ModelRef.parse(ref).provider) for ref in decision.models
        ):
            # Scanning the prompt for secrets is CPU work, once for the chain: a large prompt in
            # a thread so the loop keeps answering; a small one here, where the scan costs less
            # than the thread hop (fifty at once paid fifty hops before their requests left).
            if prompt.chars < INLINE_REDACT_CHARS:
                redacted = redact_prompt(prompt, redactions, self._redactions)
            else:
                redacted = await asyncio.to_thread(
                    redact_prompt, prompt, redactions, self._redactions
                )
        spent: Spent = []  # attempts that failed over or were retried, with what they used
        asked: list[str] = []  # refs requested so far: the last one is the one answering
        caps = [min(prompt.max_output_tokens, tier_config.max_output_tokens)]

        def request_for(ref: str) -> ProviderRequest:
            asked.append(ref)
            model = ModelRef.parse(ref)
            system, context, question = prompt.system, prompt.context, prompt.question
            if self.config.privacy.redact and not self.pool.is_local(model.provider):
                system, context, question = redacted or redact_prompt(
                    prompt, redactions, self._redactions
                )
            return ProviderRequest(
                model=model.model,
                system=system,
                context=context,
                prompt=question,
                max_tokens=caps[-1],
                timeout=tier_config.timeout,
                cache_key=f"tierwise-{task.action.value}",
            )

        streamed: list[str] = []
        completion: Completion | None = None
        try:
            while True:
                streamed.clear()
                try:
                    completion = await stream_once(
                        self.pool, decision, request_for, spent, streamed, emit
                    )
                    break
                except Truncated as cut:
                    if cut.usage is not None:
                        spent.append((cut.ref or asked[-1], cut.usage))
                    larger = min(tier_config.max_output_tokens, caps[-1] * 2)
                    if len(caps) > 1 or larger <= caps[-1]:
                        if cut.usage is not None:
                            spent.pop()  # the error below carries it
                        raise Truncated(
                            cut_message(decision, cut.ref or asked[-1], caps),
                            usage=cut.usage,
                            ref=cut.ref,
                        ) from cut
                    caps.append(larger)
                    emit(
                        Event(
                            "warning",
                            f"the reply stopped at its {caps[-2]}-token limit before it was "
                            f"complete: asking again with {larger} tokens",
                        )
                    )
            answered = ref_for(decision, completion.model)
            if not completion.text.strip():
                raise BadResponse(
                    f"{answered} sent an empty answer: nothing to use; try again, or escalate",
                    usage=completion.usage,
                    ref=answered,
                )
            result = handler.parse(task, completion.text)
        except asyncio.CancelledError:
            if plan is not None:  # teammates waiting on us ask the model now
                self.sharing.release(plan)
            partial = Usage(
                estimate_tokens(prompt.system + prompt.context + prompt.question),
                estimate_tokens("".join(streamed)),
                estimated=True,
            )
            ref = asked[-1] if asked else decision.model or ""
            self._record_spend(task, decision, started, ref, partial, spent, outcome="cancelled")
            raise
        except TierwiseError as error:
            if plan is not None:  # teammates waiting on us ask the model now
                self.sharing.release(plan)
            if completion is not None:
                usage, ref = completion.usage, ref_for(decision, completion.model)
            else:
                usage = (error.usage if isinstance(error, ProviderError) else None) or Usage()
                ref = (isinstance(error, ProviderError) and error.ref) or (
                    asked[-1] if asked else decision.model or ""
                )
            recorded = self._record_spend(
                task, decision, started, ref, usage, spent, outcome="error", error=str(error)
            )
            if isinstance(error, ProviderError):
                error.spent = recorded  # what its ledger row holds: a retry adds it to its own
            raise

        ref = ref_for(decision, completion.model)
        cleaned = redact_result(result)
        result = cleaned.result
        verified, failure = verify(task, decision.tier, result)
        usage, cost, baseline = self._totals(ref, completion.usage, spent)
        elapsed = time.perf_counter() - started
        row_id = self.stores.record(
            self._row(
                task,
                decision,
                outcome="ok",
                model=ref,
                **usage_fields(usage),
                cost_usd=cost,
                baseline_usd=baseline,
                latency_ms=int(elapsed * 1000),
                escalated_from=escalated_from,
                keep_baseline=keep_baseline,
                **checked_fields(verified, failure),
            )
        )
        if keys and self.stores.cache is not None:
            entry = {
                "result": result_to_dict(handler.relativize(task, result)),
                "model": ref,
                "tier": decision.tier.label,
                "cost_usd": cost,
            }
            cache = self.stores.cache
            # Under the model that answered (a fallback's answer is its own, not the first's).
            stored = next((k for t, r, k in keyed if t is decision.tier and r == ref), keys[0])
            self.stores.defer(lambda: cache.set(stored, entry))
            if plan is not None and cleaned.count:
                self.sharing.release(plan)  # the scanner found a secret in the answer: L1 only
            elif plan is not None:
                self.sharing.publish(plan, stored, entry)
        notes: tuple[str, ...] = ()
        count = sum(r.count for r in redactions)
        if count:
            kinds = ", ".join(sorted({k for r in redactions for k in r.kinds}))
            notes += (f"redacted {count} secret(s) before sending: {kinds}",)
        if cleaned.count:
            notes += (
                f"redacted {cleaned.count} secret(s) in the answer: {', '.join(cleaned.kinds)}",
            )
        for note in notes:
            emit(Event("warning", note))
        warnings = (*decision.warnings, *store_warnings, *notes)
        emit(Event("done", f"{ref} · ${cost:.4f}", usage.output_tokens, cost))
        return Outcome(
            task,
            decision,
            result,
            ref,
            usage,
            cost,
            baseline,
            False,
            elapsed,
            0.0,
            warnings,
            row_id,
            verified,
            failure,
            escalated_from,
        )

    def _totals(self, ref: str, usage: Usage, spent: Spent) -> tuple[Usage, float, float]:
        """All tokens the request used (the answer and every failed attempt), their cost on the
        models that used them, and the frontier baseline for the same tokens."""
        total = usage
        cost = self.pricing.model_cost(ref, usage) if ref else 0.0
        for other, used in spent:
            total = total + used
            cost += self.pricing.model_cost(other, used)
        return total, cost, self.pricing.frontier_cost(total)

    def _record_spend(
        self,
        task: Task,
        decision: Decision,
        started: float,
        ref: str,
        usage: Usage,
        spent: Spent,
        *,
        outcome: str,
        error: str | None = None,
    ) -> tuple[Usage, float]:
        """The ledger row of a request that failed or was cancelled, with what it used (all
        its tokens and their cost, returned)."""
        total, cost, baseline = self._totals(ref, usage, spent)
        self.stores.record(
            self._row(
                task,
                decision,
                outcome=outcome,
                error=error[:300] if error else None,
                model=ref or None,
                **usage_fields(total),
                cost_usd=cost,
                baseline_usd=baseline,
                latency_ms=int((time.perf_counter() - started) * 1000),
            )
        )
        return total, cost

    def _plan(self, task: Task, keyed: list[tuple[Tier, str, str]]) -> Plan | None:
        """The request's L2 plan (None: L2 off, or this request must stay on this machine)."""
        if not keyed or task.refresh:
            return None
        first = [(ref, key) for tier, ref, key in keyed]
        return self.sharing.plan(
            task.context,
            first,
            never=self.never_shared(task.context.target.path),
            is_local=self.pool.is_local,
        )

    def _row(self, task: Task, decision: Decision, **fields: Any) -> LedgerRow:
        target = task.context.target
        target_id = self.stores.target_id(target_key(target.path, target.kind, target.name))
        return ledger_row(task, decision, target=target_id, session=self.session, **fields)
