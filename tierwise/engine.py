"""The pipeline: task -> signals -> route -> cache -> provider -> handler -> outcome + ledger row.

The engine is the only stage that wires the others together; the CLI and the server call it.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from tierwise import privacy
from tierwise.cache.keys import cache_key, digest, normalise
from tierwise.cache.store import ResponseCache
from tierwise.config import Config, cache_dir, data_dir
from tierwise.context.extract import SourceFile, extract, load
from tierwise.context.types import CodeContext, estimate_tokens
from tierwise.errors import UsageError
from tierwise.handlers.base import Action, Handler, Result, Task
from tierwise.handlers.registry import get_handler
from tierwise.ledger import Ledger, LedgerRow
from tierwise.providers.base import ModelRef, Usage
from tierwise.providers.catalogue import Catalogue
from tierwise.providers.pool import ProviderPool
from tierwise.routing.policy import Policy
from tierwise.routing.router import (
    Availability,
    Decision,
    ModelOption,
    RouteState,
    TokenEstimate,
    route,
)
from tierwise.routing.signals import Signals, compute_signals
from tierwise.routing.tiers import MODEL_TIERS, Tier

__all__ = ["Decision", "Engine", "Event", "EventSink", "Outcome"]

# Parsed files kept per engine: enough for the files open side by side in an editor.
PARSED_FILES_KEPT = 16


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


EventSink = Callable[[Event], None]


class Engine:
    """Owns config, cache, ledger and providers; one per CLI run or server."""

    def __init__(
        self,
        config: Config,
        *,
        workspace_root: str | None = None,
        pool: ProviderPool | None = None,
        session: str | None = None,
    ) -> None:
        self.workspace_root = workspace_root
        self.session = session or uuid.uuid4().hex[:12]
        self._pool_override = pool
        self._history: dict[str, deque[float]] = {}
        self._files: OrderedDict[str, SourceFile] = OrderedDict()
        self._files_lock = threading.Lock()  # code-action listing routes in a worker thread
        self._cache: ResponseCache | None = None
        self._ledger: Ledger | None = None
        self._pending: set[asyncio.Future[Any]] = set()
        self.notices: list[str] = []  # one-off messages for the user (e.g. a rebuilt cache)
        self.reconfigure(config)

    # -- configuration -------------------------------------------------------------------------

    def reconfigure(self, config: Config) -> None:
        """Adopt a new configuration (hot reload); validates model prices up front."""
        catalogue = Catalogue.load(config.models)
        pool = self._pool_override or ProviderPool(config)
        old = getattr(self, "pool", None)
        if old is not None and old is not pool:
            # The old pool's HTTP clients hold sockets; close them once in-flight calls end.
            self._close_later(old)
        self.config = config
        self.catalogue = catalogue
        self.pool = pool
        self.policy = Policy.from_config(config)
        self._availability = self._build_availability()

    def _option(self, ref: str) -> ModelOption:
        model = ModelRef.parse(ref)
        if self.pool.is_local(model.provider):
            return ModelOption(ref, 0.0, 0.0)
        price = self.catalogue.price(model.model)
        return ModelOption(ref, price.input, price.output)

    def _build_availability(self) -> Availability:
        chains: dict[Tier, tuple[ModelOption, ...]] = {}
        reference: dict[Tier, ModelOption] = {}
        missing: dict[Tier, str] = {}
        for tier in MODEL_TIERS:
            tier_config = self.config.tiers.get(tier.label)
            if tier_config is None:
                continue
            # Pricing every configured model now makes an unknown model a config error at load.
            options = [self._option(ref) for ref in tier_config.models]
            if options:
                reference[tier] = options[0]
            usable = set(self.pool.available_models(tier.label))
            chains[tier] = tuple(o for o in options if o.ref in usable)
            if not chains[tier]:
                needs = self.pool.needs(tier_config.models)
                missing[tier] = f"needs {' or '.join(needs)}" if needs else "no models configured"
        return Availability(chains=chains, reference=reference, missing=missing)

    def configured_tiers(self) -> list[str]:
        """Model tier labels with at least one usable provider right now."""
        return [t.label for t in MODEL_TIERS if self._availability.chains.get(t)]

    @property
    def cache(self) -> ResponseCache | None:
        """The response cache, opened on first use (None when disabled)."""
        if self._cache is None and self.config.cache.enabled:
            self._cache = ResponseCache(cache_dir(self.config), max_mb=self.config.cache.max_mb)
            if self._cache.rebuilt_reason:
                self.notices.append(f"response cache was rebuilt: {self._cache.rebuilt_reason}")
        return self._cache

    @property
    def ledger(self) -> Ledger | None:
        """The request ledger, opened on first use (None when disabled)."""
        if self._ledger is None and self.config.ledger.enabled:
            path = Path(self.config.ledger.path or data_dir() / "ledger.sqlite3")
            self._ledger = Ledger(path)
            if getattr(self._ledger, "rebuilt_reason", None):
                self.notices.append(f"ledger was rebuilt: {self._ledger.rebuilt_reason}")
        return self._ledger

    # -- tasks and decisions --------------------------------------------------------------------

    def is_excluded(self, path: str) -> str | None:
        """The privacy.exclude pattern that matches the path, or None."""
        return privacy.is_excluded(path, self.config.privacy.exclude, root=self.workspace_root)

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
        act = Action.parse(action)
        requested = Tier.parse(tier) if tier not in (None, "", "auto") else None
        pattern = self.is_excluded(path)
        if pattern is not None:
            raise UsageError(
                f"{path} is excluded by privacy.exclude pattern {pattern!r}:"
                " tierwise never sends it"
            )
        ctx = extract(
            path,
            source,
            line,
            col,
            end_line=end_line,
            end_col=end_col,
            budget_tokens=self.context_budget(act, requested),
            parsed=self._parsed(path, source),
        )
        return self.task_for(
            act,
            ctx,
            tier=requested,
            refresh=refresh,
            options=options,
            doc_version=doc_version,
            uri=uri,
        )

    def _parsed(self, path: str, source: str) -> SourceFile:
        """The parse of this text, reused while the text is unchanged (code actions ask often)."""
        with self._files_lock:
            known = self._files.get(path)
            if known is not None and known.source == source:
                self._files.move_to_end(path)
                return known
        parsed = load(path, source)
        with self._files_lock:
            self._files[path] = parsed
            self._files.move_to_end(path)
            while len(self._files) > PARSED_FILES_KEPT:
                self._files.popitem(last=False)
        return parsed

    def context_budget(self, action: Action, tier: Tier | None = None) -> int:
        """Context tokens allowed for an action: the requested tier's, else its base tier's."""
        tier_config = self.config.tiers.get((tier or self.policy.base_tier(action)).label)
        return tier_config.context_tokens if tier_config else 2000

    def task_for(
        self,
        action: Action,
        ctx: CodeContext,
        *,
        tier: Tier | None = None,
        refresh: bool = False,
        options: dict[str, str] | None = None,
        doc_version: int | None = None,
        uri: str | None = None,
    ) -> Task:
        """A Task for an already extracted context, with the configured action options."""
        opts: dict[str, str] = {}
        if action is Action.DOCSTRING:
            opts["style"] = self.config.actions.docstring_style
        if action is Action.RENAME:
            opts["candidates"] = str(self.config.actions.rename_candidates)
        if extra := self.config.prompts.get(action.value):
            opts["extra"] = extra
        opts.update(options or {})
        return Task(
            action, ctx, tier=tier, refresh=refresh, options=opts, doc_version=doc_version, uri=uri
        )

    def _repeats(self, signals: Signals, now: float) -> int:
        window = self.policy.escalate_window_s
        asks = self._history.get(signals.target_key, deque())
        while asks and now - asks[0] > window:
            asks.popleft()
        return len(asks)

    def _spent(self) -> tuple[float, float]:
        if self.ledger is None or (self.policy.daily_usd <= 0 and self.policy.monthly_usd <= 0):
            return 0.0, 0.0
        now = datetime.now(UTC)
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return self.ledger.spent_since(day), self.ledger.spent_since(day.replace(day=1))

    def _tokens(self, handler: Handler, task: Task) -> TokenEstimate:
        prompt = handler.build_prompt(task)
        text = prompt.system + prompt.context + prompt.question
        return TokenEstimate(estimate_tokens(text), handler.expected_output_tokens(task))

    def decide(
        self,
        task: Task,
        *,
        sticky: Tier | None = None,
        assume_available: bool = False,
        signals: Signals | None = None,
    ) -> Decision:
        """Route a task: pure routing over in-memory state (spend is read only with a cap set)."""
        signals = signals or compute_signals(task.context)
        today, month = self._spent()
        state = RouteState(
            sticky=sticky,
            repeats=self._repeats(signals, time.monotonic()),
            spent_today=today,
            spent_month=month,
            local_only=privacy.matches_any(
                task.context.target.path, self.config.privacy.local_only, root=self.workspace_root
            ),
            assume_available=assume_available,
        )
        handler = get_handler(task.action)
        return route(
            task, signals, self.policy, self._availability, state, self._tokens(handler, task)
        )

    # -- running --------------------------------------------------------------------------------

    async def run(
        self, task: Task, *, sticky: Tier | None = None, on_event: EventSink | None = None
    ) -> Outcome:
        """Run a task end to end; cancelling the awaiting task closes the provider stream."""
        from tierwise.engine_run import execute

        signals = compute_signals(task.context)
        decision = self.decide(task, sticky=sticky, signals=signals)
        self._history.setdefault(signals.target_key, deque()).append(time.monotonic())
        return await execute(self, task, decision, on_event or (lambda _e: None))

    def frontier_cost(self, usage: Usage) -> float:
        """What the same tokens would have cost on the frontier tier's reference model."""
        option = self._availability.price_option(Tier.FRONTIER)
        if option is None or self.pool.is_local(ModelRef.parse(option.ref).provider):
            return 0.0
        return self.catalogue.cost(ModelRef.parse(option.ref).model, usage)

    def model_cost(self, ref: str, usage: Usage) -> float:
        """USD for a usage on a model ref ($0 for local providers)."""
        model = ModelRef.parse(ref)
        return self.catalogue.cost(model.model, usage, local=self.pool.is_local(model.provider))

    def cache_keys(self, task: Task, handler: Handler, decision: Decision) -> list[str]:
        """Keys for the decided tier first, then (when allowed) every higher tier's models."""
        target = task.context.target
        normalised = normalise(
            target.language, target.text, drop_docstrings=task.action is Action.DOCSTRING
        )
        context_digest = digest(" ".join(task.context.render().split()))
        options = {k: v for k, v in task.options.items() if k != "hints"}
        tiers = [decision.tier]
        if self.config.cache.serve_from_higher:
            tiers += [t for t in MODEL_TIERS if t > decision.tier]
        keys: list[str] = []
        for tier in tiers:
            tier_config = self.config.tiers.get(tier.label)
            refs = decision.models if tier is decision.tier else ()
            refs = tuple(dict.fromkeys([*refs, *(tier_config.models if tier_config else [])]))
            for ref in refs:
                keys.append(
                    cache_key(
                        action=task.action.value,
                        prompt_version=handler.prompt_version,
                        model=ref,
                        tier=tier.label,
                        normalised_target=normalised,
                        context_digest=context_digest,
                        options=options,
                    )
                )
        return keys

    def record(self, row: LedgerRow) -> None:
        """Append a ledger row (never raises: the ledger must not break a request)."""
        if self.ledger is not None:
            try:
                self.ledger.record(row)
            except Exception as exc:  # a full disk must not lose the user's answer
                self.notices.append(f"ledger write failed: {exc}")

    def defer(self, fn: Callable[[], Any]) -> None:
        """Run a slow write (cache set) off the request's critical path; aclose() waits for it."""
        future = asyncio.get_running_loop().run_in_executor(None, fn)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    def _close_later(self, pool: ProviderPool) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop, so no HTTP client of that pool was ever opened
        task = loop.create_task(pool.aclose_when_idle())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    # -- stats and lifecycle --------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Ledger summary (session and all time) and cache stats."""
        out: dict[str, Any] = {"session": self.session}
        if self.ledger is not None:
            out["this_session"] = self.ledger.summary(session=self.session)
            out["all_time"] = self.ledger.summary()
        if self.cache is not None:
            out["cache"] = attrs.asdict(self.cache.stats(), value_serializer=_jsonable)
        return out

    def clear_cache(self) -> int:
        """Empty the response cache; returns the number of entries removed."""
        return self.cache.clear() if self.cache is not None else 0

    async def aclose(self) -> None:
        """Wait for deferred writes, then close providers, cache and ledger."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        await self.pool.aclose()
        if self._cache is not None:
            self._cache.close()
            self._cache = None
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None


def _jsonable(_inst: Any, _field: Any, value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value
