"""The Engine: builds a task, routes it, and hands it to its executor; one per CLI run or server."""

from __future__ import annotations

import secrets
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierwise.config import Config
from tierwise.context.extract import extract, prune
from tierwise.core.code import CodeContext
from tierwise.core.errors import TierwiseError, UsageError
from tierwise.core.models import Usage
from tierwise.core.records import evolve
from tierwise.core.task import Action, Task
from tierwise.core.tiers import Tier
from tierwise.engine.apart import ApartParser
from tierwise.engine.documents import ParsedFiles
from tierwise.engine.memo import Memo
from tierwise.engine.paths import PathRules
from tierwise.engine.pricing import Pricing
from tierwise.engine.route_inputs import (
    action_options,
    context_budget,
    route_state,
    token_estimate,
)
from tierwise.engine.stores import Stores
from tierwise.handlers.registry import get_handler
from tierwise.providers.catalogue import Catalogue
from tierwise.providers.pool import ProviderPool
from tierwise.routing.policy import Policy
from tierwise.routing.router import Decision, RouteState, TokenEstimate, route
from tierwise.routing.signals import Signals, compute_signals

EDIT_STATUSES = ("applied", "declined", "apply_failed")

if TYPE_CHECKING:
    from tierwise.cache.store import ResponseCache
    from tierwise.engine.execution import Executor
    from tierwise.engine.outcome import EventSink, Outcome
    from tierwise.handlers.base import Handler
    from tierwise.ledger import Ledger


class Engine:
    """Owns config, cache, ledger and providers; one per CLI run or server."""

    def __init__(
        self,
        config: Config,
        *,
        workspace_root: str | None = None,
        pool: ProviderPool | None = None,
        session: str | None = None,
        parse_apart: bool = False,
    ) -> None:
        self.workspace_root = workspace_root
        # The server parses big files in a child process (engine/apart.py); the CLI has no
        # event loop to keep free, so it parses them here.
        self.apart = ApartParser() if parse_apart else None
        self.session = session or secrets.token_hex(6)  # uuid4's 12 hex digits, without uuid
        self._pool_override = pool
        self.files = ParsedFiles(self.apart)
        self.paths = PathRules(config, workspace_root)
        # Pure work on unchanged input, asked for again by every listing and cursor move.
        self._signals: Memo[Signals] = Memo()
        self._prompt_sizes: Memo[TokenEstimate] = Memo()
        self._styles: Memo[str] = Memo()  # a file text's docstring style (the same text, 0.1 µs)
        self.stores = Stores(config)
        self.notices: list[str] = self.stores.notices  # one-off messages (e.g. a rebuilt cache)
        self._executor: Executor | None = None
        # Worker threads route (and key) requests: the first ones may all ask for it at once.
        self._executor_lock = threading.Lock()
        self.reconfigure(config)

    # -- configuration -------------------------------------------------------------------------

    def reconfigure(self, config: Config) -> None:
        """Adopt a new configuration (hot reload), all of it or none of it.

        Everything new is built before anything is replaced: a price table, tier name or model
        reference that fails leaves the running configuration whole, which is what the server
        tells the user ("keeping the previous configuration").
        """
        catalogue = Catalogue.load(config.models)
        policy = Policy.from_config(config)
        pool = self._pool_override or ProviderPool(config)
        old = getattr(self, "pool", None)
        try:
            pricing = Pricing(config, catalogue, pool)
        except BaseException:
            if pool is not old and pool is not self._pool_override:
                self._close_later(pool)
            raise
        if old is not None and old is not pool:
            # The old pool's HTTP clients hold sockets; close them once in-flight calls end.
            self._close_later(old)
        if getattr(self, "config", config).cache != config.cache:
            self.stores.forget_shared()  # another server, team or secret variable: reopen
        self.config = config
        self.stores.config = config
        self.catalogue = catalogue
        self.pool = pool
        self.policy = policy
        self.pricing = pricing
        with self._executor_lock:
            if self._executor is not None:
                self._executor.reconfigure(config, pool, self.pricing)
        self._prompt_sizes.clear()  # prompt additions and options come from the config
        self.paths.reconfigure(config)

    @property
    def executor(self) -> Executor:
        """What runs decided requests, built on first use: routing alone (`tierwise route`,
        `plan`, code-action listings) never imports the execution, cache-key and check code."""
        with self._executor_lock:
            if self._executor is None:
                from tierwise.engine.execution import Executor

                executor = Executor(self.stores, self.session)
                executor.never_shared = self.never_shared
                executor.reconfigure(self.config, self.pool, self.pricing)
                self._executor = executor
            return self._executor

    def configured_tiers(self) -> list[str]:
        """Model tier labels with at least one usable provider right now."""
        return self.pricing.configured_tiers()

    def unusable_tiers(self) -> dict[str, str]:
        """Model tier label -> what to set to make it usable, in ladder order."""
        return self.pricing.unusable_tiers()

    @property
    def ledger_path(self) -> Path:
        """Where the ledger lives (whether or not it exists yet)."""
        return self.stores.ledger_path

    @property
    def cache(self) -> ResponseCache | None:
        """The response cache, opened on first use (None when disabled)."""
        return self.stores.cache

    @property
    def ledger(self) -> Ledger | None:
        """The request ledger, opened on first use (None when disabled)."""
        return self.stores.ledger

    # -- tasks and decisions --------------------------------------------------------------------

    def is_excluded(self, path: str) -> str | None:
        """The privacy.exclude pattern that matches the path, or None (remembered per path)."""
        return self.paths.is_excluded(path)

    def never_shared(self, path: str) -> str | None:
        """Why answers for this path must stay on this machine (never the shared cache)."""
        return self.paths.never_shared(path)

    def check_size(self, path: str, source: str) -> None:
        """UsageError for a text over server.max_file_bytes (its size in UTF-8 bytes)."""
        self.paths.check_size(path, source)

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
        self.check_size(path, source)
        ctx = extract(
            path,
            source,
            line,
            col,
            end_line=end_line,
            end_col=end_col,
            budget_tokens=self.context_budget(act, requested),
            parsed=self.files.get(path, source),
        )
        return self.task_for(
            act,
            ctx,
            tier=requested,
            refresh=refresh,
            options=options,
            doc_version=doc_version,
            uri=uri,
            source=source,
        )

    def has_parsed(self, path: str, source: str) -> bool:
        """Whether this very text of the file is parsed already (routing it again is cheap)."""
        return self.files.has(path, source)

    def parse_ahead(self, path: str, source: str) -> bool:
        """Parse a text before any request needs it (the one parse every request then shares);
        False for a file tierwise would refuse (excluded, or over server.max_file_bytes)."""
        if self.is_excluded(path) is not None:
            return False
        try:
            self.check_size(path, source)
        except TierwiseError:
            return False
        self.files.get(path, source)
        return True

    def context_budget(self, action: Action, tier: Tier | None = None) -> int:
        """Context tokens allowed for an action: the requested tier's, else its base tier's."""
        return context_budget(self.config, self.policy, action, tier)

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
        source: str | None = None,
    ) -> Task:
        """A Task for an already extracted context, with the configured action options;
        `source`: the file's text, which docstring_style = "auto" reads the style from."""
        opts = action_options(self.config, action, options)
        if opts.get("style") == "auto" and ctx.target.language == "python":
            # (imported here: only a docstring request reads a file's style)
            from tierwise.handlers.docstring_styles import AUTO, resolved_style

            text = source
            opts["style"] = (
                self._styles.get(text, lambda: resolved_style(AUTO, text))
                if text is not None
                else resolved_style(AUTO, None)
            )
        return Task(
            action, ctx, tier=tier, refresh=refresh, options=opts, doc_version=doc_version, uri=uri
        )

    def edit_outcome(self, outcome: Outcome, status: str, reason: str | None = None) -> None:
        """Record what became of an answer's edit. `status` is "applied" (an accepted answer:
        the next ask starts over), "declined" (the editor or the user said no), or
        "apply_failed" (it could not be applied: a changed document, a client that cannot
        apply edits); `reason` says why it was not applied."""
        if outcome.ledger_id is None:
            return
        if status not in EDIT_STATUSES:
            raise ValueError(f"edit status {status!r} is not one of {', '.join(EDIT_STATUSES)}")
        applied = status == "applied"
        kind = "ok" if applied else status
        self.stores.mark_edit(outcome.ledger_id, applied=applied, outcome=kind, note=reason)

    def _tokens(self, task: Task, remember: bool = True) -> TokenEstimate:
        if not remember:
            return self.token_estimate(task)
        # Sizing the prompt is a large part of a decision: once per input.
        key = (task.action, task.context, tuple(sorted(task.options.items())))
        return self._prompt_sizes.get(key, lambda: self.token_estimate(task))

    def token_estimate(self, task: Task, target_tokens: int | None = None) -> TokenEstimate:
        """The task's prompt and reply sizes, not remembered (engine/route_inputs.py)."""
        return token_estimate(task, target_tokens)

    def prompt_tokens(self, task: Task) -> int:
        """Input tokens of the task's prompt (remembered from routing it)."""
        return self._tokens(task).input_tokens

    def signals(self, ctx: CodeContext) -> Signals:
        """The routing signals of a context (remembered: listings ask for the same target)."""
        return self._signals.get(ctx, lambda: compute_signals(ctx))

    def decide(
        self,
        task: Task,
        *,
        sticky: Tier | None = None,
        assume_available: bool = False,
        assume_local: bool = True,
        signals: Signals | None = None,
        remember: bool = True,
    ) -> Decision:
        """Route a task: pure routing over in-memory state (spend is read only with a cap set).

        `assume_local=False` with `assume_available`: every tier but an unconfigured local.
        `remember=False` keeps no prompt size (`plan` sizes each task once: keying the memory
        by the whole context cost more than it saved)."""
        signals = signals or self.signals(task.context)
        state = self.route_state(task, signals, sticky=sticky, assume_available=assume_available)
        if not assume_local:
            state = evolve(state, assume_local=False)
        tokens = self._tokens(task, remember)
        return route(task, signals, self.policy, self.pricing.availability, state, tokens)

    def route_state(
        self,
        task: Task,
        signals: Signals,
        *,
        sticky: Tier | None = None,
        assume_available: bool = False,
    ) -> RouteState:
        """The session facts a route of this task reads: spend, repeats, privacy."""
        return route_state(
            self.stores, self.policy, self.paths, task, signals,
            sticky=sticky, assume_available=assume_available,
        )  # fmt: skip

    # -- running --------------------------------------------------------------------------------

    def prepare(self, task: Task, *, sticky: Tier | None = None) -> tuple[Task, Decision]:
        """Decide, and the task as it will run: the CPU work before a provider call (the server
        runs it in a worker thread, then `run(..., prepared=...)` on the event loop)."""
        decision = self.decide(task, sticky=sticky, signals=self.signals(task.context))
        tier_config = self.config.tiers.get(decision.tier.label)
        if tier_config is not None and decision.tier is not Tier.STATIC:
            # The context was fitted to the base tier; the decided one may allow less.
            task = evolve(task, context=prune(task.context, tier_config.context_tokens))
            if self.config.cache.enabled and not decision.refused:
                # Normalising the target for its key is remembered: the lookup reuses it.
                self.executor.cache_keys(task, get_handler(task.action), decision)
        return task, decision

    async def run(
        self,
        task: Task,
        *,
        sticky: Tier | None = None,
        on_event: EventSink | None = None,
        prepared: tuple[Task, Decision] | None = None,
    ) -> Outcome:
        """Run a task end to end; cancelling the awaiting task closes the provider stream.

        `prepared` is `prepare(task, sticky=sticky)` done already (off the event loop)."""
        team = self.stores.team if self.policy.team_daily_usd > 0 else None
        if team is not None:
            if prepared is None:
                await team.refresh_if_stale()  # one round trip: the CLI's figure is fresh
            else:  # the server routed it off the loop already: the next request gets the figure
                import asyncio

                self.stores.track(asyncio.get_running_loop().create_task(team.refresh_if_stale()))
        from tierwise.engine.verified import run_verified

        ran, decision = prepared if prepared is not None else self.prepare(task, sticky=sticky)
        emit = on_event or (lambda _e: None)
        return await run_verified(
            self.executor, ran, decision, emit, lambda t, d: self._retry(t, d, sticky)
        )

    def _retry(self, task: Task, decision: Decision, sticky: Tier | None) -> Decision | str:
        """The decision for retrying a failed answer one tier up, or why there is none."""
        from tierwise.engine.verified import retry_decision

        return retry_decision(task, decision, sticky, self.policy.max_tier, self.decide)

    def model_cost(self, ref: str, usage: Usage) -> float:
        """USD for a usage on a model ref ($0 for local providers)."""
        return self.pricing.model_cost(ref, usage)

    def cache_keys(self, task: Task, handler: Handler, decision: Decision) -> list[str]:
        """Keys for the decided tier first, then (when allowed) every higher tier's models."""
        return self.executor.cache_keys(task, handler, decision)

    def _close_later(self, pool: ProviderPool) -> None:
        try:
            import asyncio

            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop, so no HTTP client of that pool was ever opened
        self.stores.track(loop.create_task(pool.aclose_when_idle()))

    # -- stats and lifecycle --------------------------------------------------------------------

    def stats(self, *, session: bool = True) -> dict[str, Any]:
        """Ledger summaries (this session, today since local midnight, all time), cache stats,
        and spend against the caps. The CLI passes session=False: each `tierwise` command is
        its own process, so a CLI "session" would always be empty."""
        from tierwise.engine.spending import stats_view

        return stats_view(self.ledger, self.cache, self.config, self.session if session else None)

    def clear_cache(self) -> int:
        """Empty the response cache; returns the number of entries removed."""
        return self.cache.clear() if self.cache is not None else 0

    async def team_stats(self, *, days: int = 1, patient: bool = False) -> dict[str, Any] | None:
        """The team section of stats (team counters today, the team budget), or None without
        a shared cache; `patient`: wait longer than a request would (the CLI)."""
        from tierwise.engine.team import team_section

        return await team_section(self.stores, self.config, days=days, patient=patient)

    def close(self) -> None:
        """Close cache and ledger without an event loop: for runs that never called a
        provider nor deferred a write (`tierwise route`); otherwise use aclose()."""
        if self.stores.pending:
            raise RuntimeError("deferred writes are pending: use aclose()")
        self.stores.close()

    async def aclose(self) -> None:
        """Wait for deferred writes, then close providers, cache and ledger."""
        await self.stores.drain()
        await self.stores.aclose_shared()
        await self.pool.aclose()
        self.stores.close()
        if self.apart is not None:
            self.apart.close()
