"""One request's execution: static, cache hit or streamed provider call, each with a ledger row."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import attrs

from tierwise import privacy
from tierwise.cache.keys import LOCAL_NAMESPACE, cache_key, context_digest, normalise
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
from tierwise.core.results import Result, result_from_dict, result_to_dict
from tierwise.core.task import Task
from tierwise.core.tiers import MODEL_TIERS, Tier
from tierwise.engine.answers import redact_result
from tierwise.engine.memo import Memo
from tierwise.engine.outcome import Event, EventSink, Outcome
from tierwise.engine.pricing import Pricing
from tierwise.engine.sharing import Plan, Sharing
from tierwise.engine.stores import Stores
from tierwise.handlers.base import Handler, Prompt
from tierwise.handlers.checks import CheckFailure, check
from tierwise.handlers.registry import get_handler
from tierwise.ledger import LedgerRow
from tierwise.providers.base import Completion, Delta, ProviderRequest
from tierwise.providers.pool import ProviderPool, Spent
from tierwise.routing.router import BUDGET_REFUSAL, Decision
from tierwise.routing.signals import target_key

# Report streaming progress at most this often, so a fast stream does not flood the editor.
PROGRESS_EVERY_S = 0.1
# The sampling temperature every request is sent with (part of the key's generation parameters).
TEMPERATURE = float(attrs.fields(ProviderRequest).temperature.default or 0.0)
# The tiers whose answers are checked (docs/routing.md, "Verified answers"): static answers are
# deterministic and frontier has no tier above it to retry on.
CHECKED_TIERS = frozenset({Tier.LOCAL, Tier.BUDGET, Tier.MID})


def verify(task: Task, tier: Tier, result: Result) -> tuple[bool | None, CheckFailure | None]:
    """Whether a tier's answer passed its action's check (None: not checked), and why not."""
    if tier not in CHECKED_TIERS:
        return None, None
    failure = check(task, result)
    return failure is None, failure


def _checked(verified: bool | None, failure: CheckFailure | None) -> dict[str, Any]:
    return {"verified": verified, "failed_check": failure.name if failure else ""}


def _usage_row(usage: Usage) -> dict[str, int]:
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
    }


class Executor:
    """Runs decided requests for the engine that owns it; reads the engine's current setup."""

    config: Config
    pool: ProviderPool
    pricing: Pricing

    def __init__(self, stores: Stores, session: str) -> None:
        self.stores = stores
        self.session = session
        self.sharing = Sharing(stores)
        # Why a path's answers must stay on this machine (local_only, excluded), or None; the
        # engine sets it (it knows the workspace root the globs are relative to).
        self.never_shared: Callable[[str], str | None] = lambda _path: None
        # Tokenizing the target for its key is a good part of a cache hit: once per input.
        self._normal_forms: Memo[tuple[str, str]] = Memo()

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
        """(tier, model ref, key) of every lookup, in order: the decided tier's chain first,
        then (when allowed) every higher tier's models. An answer is stored under the key of
        the model that actually gave it, so it is found again whichever model asks."""
        target = task.context.target
        ctx = task.context

        def forms() -> tuple[str, str]:
            # Docstrings stay in the key, for the docstring action too: its prompt carries the
            # existing docstring, so a different one may get a different answer.
            return normalise(target.language, target.text), context_digest(
                target.language, imports=ctx.imports, enclosing=ctx.enclosing, callees=ctx.callees
            )

        key = (target.language, target.text, ctx.imports, ctx.enclosing, ctx.callees)
        normalised, context = self._normal_forms.get(key, forms)
        options = {k: v for k, v in task.options.items() if k != "hints"}
        shared = self.config.cache.shared
        namespace = shared.team if shared.url is not None else LOCAL_NAMESPACE
        tiers = [decision.tier]
        if self.config.cache.serve_from_higher:
            tiers += [t for t in MODEL_TIERS if t > decision.tier]
        keys: list[tuple[Tier, str, str]] = []
        for tier in tiers:
            tier_config = self.config.tiers.get(tier.label)
            refs = decision.models if tier is decision.tier else ()
            refs = tuple(dict.fromkeys([*refs, *(tier_config.models if tier_config else [])]))
            # What the request to these models is sent with (request_for): an answer computed
            # under another output limit or temperature is another answer.
            params: dict[str, str | int | float] = {
                "max_output_tokens": tier_config.max_output_tokens if tier_config else 0,
                "temperature": TEMPERATURE,
            }
            for ref in refs:
                keys.append(
                    (
                        tier,
                        ref,
                        cache_key(
                            namespace=namespace,
                            action=task.action.value,
                            prompt_version=handler.prompt_version,
                            model=ref,
                            params=params,
                            language=target.language,
                            normalised_target=normalised,
                            context_digest=context,
                            options=options,
                        ),
                    )
                )
        return keys

    async def execute(
        self, task: Task, decision: Decision, emit: EventSink, *, escalated_from: str = ""
    ) -> Outcome:
        """Run the decided request and record exactly one ledger row for it (its answer checked
        on a cheap tier; `escalated_from` names the tier of a failed answer this one retries)."""
        import asyncio  # here, not at import: `tierwise route` never runs a request

        started = time.perf_counter()
        handler = get_handler(task.action)
        if decision.refused:
            self.stores.record(self._row(task, decision, outcome="refused", error=decision.refused))
            exc: TierwiseError = (
                BudgetExceeded(decision.refused)
                if decision.refused.startswith(BUDGET_REFUSAL)
                else MissingKey(decision.refused)
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
            cached = await self._lookup(
                task, decision, handler, keys, plan, started, emit, escalated_from
            )
            if cached is not None:
                return cached

        emit(Event("start", f"{task.action.value} · {decision.tier.label} · {decision.model}"))
        task = await _with_hints(task, handler)
        prompt = handler.build_prompt(task)
        tier_config = self.config.tiers[decision.tier.label]
        redactions: list[privacy.Redaction] = []
        redacted: tuple[str, str, str] | None = None
        if self.config.privacy.redact and any(
            not self.pool.is_local(ModelRef.parse(ref).provider) for ref in decision.models
        ):
            # Scanning the prompt for secrets is CPU work: in a thread, once for the chain.
            redacted = await asyncio.to_thread(_redact, prompt, redactions)
        spent: Spent = []  # attempts that failed over or were retried, with what they used
        asked: list[str] = []  # refs requested so far: the last one is the one answering
        caps = [min(prompt.max_output_tokens, tier_config.max_output_tokens)]

        def request_for(ref: str) -> ProviderRequest:
            asked.append(ref)
            model = ModelRef.parse(ref)
            system, context, question = prompt.system, prompt.context, prompt.question
            if self.config.privacy.redact and not self.pool.is_local(model.provider):
                system, context, question = redacted or _redact(prompt, redactions)
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
                    completion = await self._stream(decision, request_for, spent, streamed, emit)
                    break
                except Truncated as cut:
                    if cut.usage is not None:
                        spent.append((cut.ref or asked[-1], cut.usage))
                    larger = min(tier_config.max_output_tokens, caps[-1] * 2)
                    if len(caps) > 1 or larger <= caps[-1]:
                        if cut.usage is not None:
                            spent.pop()  # the error below carries it
                        raise Truncated(
                            _cut_message(decision, cut.ref or asked[-1], caps),
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
            answered = _ref_for(decision, completion.model)
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
            )
            ref = asked[-1] if asked else decision.model or ""
            self._record_spend(task, decision, started, ref, partial, spent, outcome="cancelled")
            raise
        except TierwiseError as error:
            if plan is not None:  # teammates waiting on us ask the model now
                self.sharing.release(plan)
            if completion is not None:
                usage, ref = completion.usage, _ref_for(decision, completion.model)
            else:
                usage = (error.usage if isinstance(error, ProviderError) else None) or Usage()
                ref = (isinstance(error, ProviderError) and error.ref) or (
                    asked[-1] if asked else decision.model or ""
                )
            self._record_spend(
                task, decision, started, ref, usage, spent, outcome="error", error=str(error)
            )
            raise

        ref = _ref_for(decision, completion.model)
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
                **_usage_row(usage),
                cost_usd=cost,
                baseline_usd=baseline,
                latency_ms=int(elapsed * 1000),
                escalated_from=escalated_from,
                **_checked(verified, failure),
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

    async def _stream(
        self,
        decision: Decision,
        request_for: Callable[[str], ProviderRequest],
        spent: Spent,
        streamed: list[str],
        emit: EventSink,
    ) -> Completion:
        """One pass over the tier's chain: progress events, then the final Completion."""
        completion: Completion | None = None
        last_report = 0.0
        async for item in self.pool.stream_chain(decision.models, request_for, spent):
            if isinstance(item, Delta):
                streamed.append(item.text)
                now = time.perf_counter()
                if now - last_report >= PROGRESS_EVERY_S:
                    last_report = now
                    tokens = estimate_tokens("".join(streamed))
                    emit(Event("delta", f"{tokens} tokens", tokens, decision.estimate_usd))
            elif isinstance(item, Completion):
                completion = item
        if completion is None:
            raise BadResponse("the provider stream ended without a final message")
        return completion

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
    ) -> None:
        """The ledger row of a request that failed or was cancelled, with what it used."""
        total, cost, baseline = self._totals(ref, usage, spent)
        self.stores.record(
            self._row(
                task,
                decision,
                outcome=outcome,
                error=error[:300] if error else None,
                model=ref or None,
                **_usage_row(total),
                cost_usd=cost,
                baseline_usd=baseline,
                latency_ms=int((time.perf_counter() - started) * 1000),
            )
        )

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

    async def _lookup(
        self,
        task: Task,
        decision: Decision,
        handler: Handler,
        keys: list[str],
        plan: Plan | None,
        started: float,
        emit: EventSink,
        escalated_from: str = "",
    ) -> Outcome | None:
        """L1, then L2 (waiting for a teammate who is computing it): a cached outcome, or None
        (a miss, counted) with the stampede lock taken when L2 is up."""
        cache = self.stores.cache
        assert cache is not None
        hit = cache.get_first(keys)
        outcome = None
        if hit is not None:
            outcome = self._from_cache(
                task, decision, handler, hit[1], started, escalated_from=escalated_from
            )
        where = "cache"
        if outcome is None and plan is not None:
            found = await self.sharing.lookup(plan, emit, self.config.cache.shared.lock_wait_s)
            for warning in self.sharing.warnings():
                emit(Event("warning", warning))
            if found is not None:
                outcome = self._from_cache(
                    task,
                    decision,
                    handler,
                    found[1],
                    started,
                    plan=plan,
                    escalated_from=escalated_from,
                )
                if outcome is not None:  # a teammate's answer: now on this machine too
                    self.stores.defer(lambda: cache.set(found[0], found[1]))
                    where = "the shared cache"
        if outcome is None:
            cache.record_miss()
            return None
        emit(Event("cached", f"from {where} · saved ~${outcome.saved_usd:.4f}"))
        return outcome

    def _row(self, task: Task, decision: Decision, **fields: Any) -> LedgerRow:
        model = fields.pop("model", None) or decision.model
        if fields.get("escalated_from"):
            fields["baseline_usd"] = 0.0  # the request's baseline is on its first answer's row
        target = task.context.target
        return LedgerRow(
            target=self.stores.target_id(target_key(target.path, target.kind, target.name)),
            ts=datetime.now(UTC).isoformat(timespec="seconds"),
            action=task.action.value,
            language=task.context.target.language,
            tier=decision.tier.label,
            model=model,
            provider=ModelRef.parse(model).provider if model else None,
            reasons=list(decision.reasons),
            session=self.session,
            wanted_tier=decision.wanted.label if decision.wanted is not None else "",
            **fields,
        )

    def _from_cache(
        self,
        task: Task,
        decision: Decision,
        handler: Handler,
        entry: dict[str, Any],
        started: float,
        *,
        plan: Plan | None = None,
        escalated_from: str = "",
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
        verified, failure = verify(task, answered_by, result)
        row_id = self.stores.record(
            self._row(
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
                **_checked(verified, failure),
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


def _ref_for(decision: Decision, model: str | None) -> str:
    """The chain ref whose model answered (providers report the model id they used)."""
    if model:
        for ref in decision.models:
            if ModelRef.parse(ref).model == model or model.startswith(ModelRef.parse(ref).model):
                return ref
    return decision.model or ""


def _redact(prompt: Prompt, found: list[privacy.Redaction]) -> tuple[str, str, str]:
    """Redacted system prompt, context and question; `found` keeps the latest attempt's
    redactions for the note. The system prompt holds workspace [prompts] text, which a cloned
    repository controls, so it is redacted like the code."""
    parts = [privacy.redact(text) for text in (prompt.system, prompt.context, prompt.question)]
    found[:] = parts
    return parts[0].text, parts[1].text, parts[2].text


def _cut_message(decision: Decision, ref: str, caps: list[int]) -> str:
    """Why a reply cut at its output limit was not used, and what the user can do."""
    tier = decision.tier.label
    tries = (
        f"its {caps[0]}-token limit, and again at {caps[-1]}"
        if len(caps) > 1
        else f"its {caps[-1]}-token limit"
    )
    return (
        f"{ref}'s reply stopped at {tries} (tiers.{tier}.max_output_tokens) before it was "
        "complete: an incomplete answer is never applied; raise that limit, or escalate to "
        "the next tier"
    )


async def _with_hints(task: Task, handler: Handler) -> Task:
    """Give model reviews the static (ruff) findings as hints, when the handler can make them."""
    import asyncio

    hints_fn = getattr(handler, "static_findings_text", None)
    if hints_fn is None or task.context.target.language != "python":
        return task
    try:
        hints = await asyncio.to_thread(hints_fn, task)
    except TierwiseError:
        return task
    if not hints:
        return task
    import attrs

    return attrs.evolve(task, options={**task.options, "hints": hints})
