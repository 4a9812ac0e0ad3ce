"""The engine's disk state: the response cache and the ledger, opened on first use, and the
slow writes kept off the request path until the engine closes."""

from __future__ import annotations

import collections
import itertools
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierwise.config import Config, cache_dir, data_dir
from tierwise.core.errors import TierwiseError
from tierwise.core.records import FrozenRecord, evolve, setfield
from tierwise.engine.asks import Ask
from tierwise.engine.recent_asks import RecentAsks
from tierwise.ledger import Ledger, LedgerRow

if TYPE_CHECKING:
    import asyncio

    from tierwise.cache.shared import SharedCache
    from tierwise.cache.store import ResponseCache
    from tierwise.engine.team import TeamSpend

# Rows kept in memory for escalation when the ledger is disabled.
MEMORY_ROWS = 512

AskRow = tuple[float, bool, str, int, str, bool | None]


class HeldAsks(FrozenRecord):
    """The ledger's requests since a time, read once (a plan run routes thousands of targets,
    one query each otherwise): `asks` for any later window start is answered from them."""

    __slots__ = ("since", "rows")
    since: float  # Unix time
    rows: dict[tuple[str, str], list[AskRow]]  # (target id, action) -> asks rows, oldest first

    def __init__(self, since: float, rows: dict[tuple[str, str], list[AskRow]]) -> None:
        setfield(self, "since", since)
        setfield(self, "rows", rows)


class Stores:
    """Cache and ledger for the current configuration; notices say when one was rebuilt."""

    def __init__(self, config: Config) -> None:
        self.config = config  # the engine replaces it on reconfigure
        self._cache: ResponseCache | None = None
        self._ledger: Ledger | None = None
        # The ledger's recent asks as this process knows them (engine/recent_asks.py).
        self._recent: RecentAsks | None = None
        self._pending: set[asyncio.Future[Any]] = set()
        # Deferred writes waiting for the one worker-thread hop that runs them in turn.
        self._writes: collections.deque[Callable[[], Any]] = collections.deque()
        self._writing: asyncio.Future[None] | None = None
        self.notices: list[str] = []  # one-off messages for the user (e.g. a rebuilt cache)
        # Without a ledger, escalation remembers this process's rows (by memory id).
        self._memory: dict[int, LedgerRow] = {}
        self._memory_ids = itertools.count(1)
        # Requests are routed in worker threads: the first ones may all open the stores at once.
        self._opening = threading.Lock()
        self._unusable: Path | None = None  # a cache directory that failed to open
        self._unusable_ledger: Path | None = None
        self._warnings: list[str] = []  # for the next request's outcome, once each
        # The team's shared cache (L2) and spend counters, opened on first use when configured.
        self._shared: SharedCache | None = None
        self._shared_tried = False
        self._shared_notes: list[str] = []
        self.shared_off: str | None = None  # why a configured L2 is off (no secret)
        self._team: TeamSpend | None = None
        # Set by a plan run: the ledger's earlier asks, read once (its start is a snapshot).
        self.held: HeldAsks | None = None

    @property
    def cache(self) -> ResponseCache | None:
        """The response cache, opened on first use (None when disabled or unusable).

        A directory that cannot be used (read-only, full, not a directory) turns the cache off
        for the session with one warning: the request runs, and is recorded, without it.
        """
        if self._cache is None and self.config.cache.enabled:
            # Imported here: commands that never look up an answer (route) skip diskcache.
            from tierwise.cache.store import ResponseCache

            directory = cache_dir(self.config)
            with self._opening:
                if self._cache is None and directory != self._unusable:
                    try:
                        cache = ResponseCache(directory, max_mb=self.config.cache.max_mb)
                    except TierwiseError as exc:
                        self._unusable = directory
                        self._warnings.append(
                            f"{exc}; running without a response cache this session"
                        )
                        return None
                    if cache.rebuilt_reason:
                        self.notices.append(f"response cache was rebuilt: {cache.rebuilt_reason}")
                    self._cache = cache
        return self._cache

    def take_warnings(self) -> list[str]:
        """Warnings not yet shown (an unusable cache), each handed out once."""
        out, self._warnings = self._warnings, []
        return out

    @property
    def shared(self) -> SharedCache | None:
        """The team's shared cache (L2), opened on first use; None when off or unusable (the
        reason is in the shared notes, once)."""
        if not self._shared_tried:
            from tierwise.engine.sharing import open_shared

            with self._opening:
                if not self._shared_tried:
                    self._shared, self.shared_off = open_shared(self.config)
                    if self.shared_off:
                        self._shared_notes.append(self.shared_off)
                    self._shared_tried = True
        return self._shared

    def forget_shared(self) -> None:
        """Drop L2 after its settings changed (reopened on next use with the new ones)."""
        self._shared, self._team, self._shared_tried = None, None, False
        self.shared_off = None

    @property
    def shared_if_open(self) -> SharedCache | None:
        """L2 if it was opened already (never opens it)."""
        return self._shared

    def take_shared_notes(self) -> list[str]:
        """Why L2 is off, handed out once."""
        out, self._shared_notes = self._shared_notes, []
        return out

    @property
    def team(self) -> TeamSpend | None:
        """The team's spend counters in L2 (None without a shared cache)."""
        l2 = self.shared  # opened outside the lock below: it takes that lock itself
        if self._team is None and l2 is not None:
            from tierwise.engine.team import TeamSpend, user_name

            with self._opening:
                if self._team is None:
                    shared = self.config.cache.shared
                    state = self.ledger_path.parent / f"team-spend-{shared.team}.json"
                    self._team = TeamSpend(l2, user_name(shared.user), state)
        return self._team

    @property
    def ledger_path(self) -> Path:
        """Where the ledger lives (whether or not it exists yet)."""
        return Path(self.config.ledger.path or data_dir() / "ledger.sqlite3")

    @property
    def ledger(self) -> Ledger | None:
        """The request ledger, opened on first use (None when disabled or unusable)."""
        if self._ledger is None and self.config.ledger.enabled:
            path = self.ledger_path
            with self._opening:
                if self._ledger is None and path != self._unusable_ledger:
                    try:
                        ledger = Ledger(path)
                    except TierwiseError as exc:  # a read-only data directory: requests still run
                        self._unusable_ledger = path
                        self.notices.append(f"{exc}; requests are not recorded this session")
                        return None
                    if getattr(ledger, "rebuilt_reason", None):
                        self.notices.append(f"ledger was rebuilt: {ledger.rebuilt_reason}")
                    self._recent = RecentAsks(ledger)
                    self._ledger = ledger
        return self._ledger

    def target_id(self, raw: str) -> str:
        """How rows name a target: the ledger's keyed hash, or the raw key in memory."""
        return self.ledger.target_id(raw) if self.ledger is not None else raw

    def record(self, row: LedgerRow) -> int | None:
        """Append a ledger row (and add it to the team's counters); its id, or None (never
        raises: the ledger must not break a request)."""
        self._take_notes()
        team = self.team
        if team is not None and team.count(row):
            from tierwise.engine.team import track_flush

            track_flush(team, self.track)
        ledger = self.ledger
        if ledger is None:
            memory_id = next(self._memory_ids)
            self._memory[memory_id] = row
            while len(self._memory) > MEMORY_ROWS:
                del self._memory[next(iter(self._memory))]
            return memory_id
        try:
            return ledger.record(row)
        except Exception as exc:  # a full disk must not lose the user's answer
            self.notices.append(f"ledger write failed: {exc}")
            return None
        finally:
            self._take_notes()

    def _take_notes(self) -> None:
        """What happened to the cache or ledger while in use (e.g. deleted), for the notices."""
        for store in (self._ledger, self._cache):
            if store is not None and store.notes:
                self.notices.extend(store.notes)
                store.notes.clear()

    def mark_edit(self, row_id: int, *, applied: bool, outcome: str, note: str | None) -> None:
        """Record whether a request's edit was applied (never raises)."""
        if self.ledger is None:
            row = self._memory.get(row_id)
            if row is not None:
                self._memory[row_id] = evolve(row, applied=applied, outcome=outcome)
            return
        try:
            self.ledger.mark_edit(row_id, applied=applied, outcome=outcome, note=note)
        except Exception as exc:
            self.notices.append(f"ledger write failed: {exc}")

    def edit_event(self, row_id: int, kind: str, status: str, detail: str = "") -> None:
        """Record a quick fix chosen or an edit result against its request (never raises)."""
        if self.ledger is None:
            row = self._memory.get(row_id)
            if row is not None and kind == "fix" and status == "applied":
                self._memory[row_id] = evolve(row, applied=True)  # as Ledger.edit_event
            return
        try:
            self.ledger.edit_event(row_id, kind, status, detail)
        except Exception as exc:
            self.notices.append(f"ledger write failed: {exc}")

    def offer_fixes(self, row_id: int, count: int) -> None:
        """Record the quick fixes a review offered (never raises)."""
        if self.ledger is not None:
            try:
                self.ledger.offer_fixes(row_id, count)
            except Exception as exc:
                self.notices.append(f"ledger write failed: {exc}")

    def asks(self, target: str, action: str, since: datetime) -> list[Ask]:
        """Earlier requests for this target and action (escalation memory), oldest first."""
        recent = self._recent if self.ledger is not None else None
        if recent is None:
            rows = [
                (
                    datetime.fromisoformat(r.ts).timestamp(),
                    r.cache_hit,
                    r.tier,
                    r.output_tokens,
                    r.outcome,
                    r.applied,
                )
                for r in self._memory.values()
                if r.target == target and r.action == action
            ]
        elif self.held is not None and since.timestamp() >= self.held.since:
            rows = self.held.rows.get((target, action), [])
        else:
            try:
                return recent.asks(target, action, since)  # (at or after `since` already)
            except Exception:
                return []  # a busy or broken ledger: no escalation, never a failed request
        return [Ask(*row) for row in rows if row[0] >= since.timestamp()]

    def read_asks(self, since: datetime) -> HeldAsks | None:
        """Every request since `since`, read in one query, for `held` (None without a usable
        ledger: escalation then reads the engine's own rows, as before)."""
        if self.ledger is None:
            return None
        try:
            return HeldAsks(since.timestamp(), self.ledger.asks_since(since))
        except Exception:
            return HeldAsks(since.timestamp(), {})  # as asks() does: no escalation

    def defer(self, fn: Callable[[], Any]) -> None:
        """Run a slow write (cache set) off the request's critical path; drain() waits for it.

        Writes queued while a hop to a worker thread is under way join it: a burst of fifty
        answers paid fifty executor submissions (and fifty thread wake-ups contending for the
        GIL) on the event loop; now it pays one or two.
        """
        self._writes.append(fn)
        # A hop of a loop that closed before it reported back would otherwise hold every
        # later write.
        if self._writing is None or self._writing.get_loop().is_closed():
            self._start_writing()

    def _start_writing(self) -> None:
        import asyncio

        writing = asyncio.get_running_loop().run_in_executor(None, self._run_writes)
        self._writing = writing
        self.track(writing)
        writing.add_done_callback(self._writes_done)

    def _run_writes(self) -> None:
        """In the worker thread: every queued write, oldest first (deque pops are atomic)."""
        while self._writes:
            fn = self._writes.popleft()
            try:
                fn()
            except Exception:  # one failed write (a full disk) must not drop the others
                import logging  # here: `tierwise route` starts without the logging module

                logging.getLogger(__name__).warning("a deferred write failed", exc_info=True)

    def _writes_done(self, _future: asyncio.Future[None]) -> None:
        # On the loop: a write queued after the thread's last look at the queue, but before
        # this callback, would otherwise wait for the next defer().
        self._writing = None
        if self._writes:
            self._start_writing()

    def track(self, future: asyncio.Future[Any]) -> None:
        """Keep background work (a write, closing a retired pool) until drain() awaits it."""
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        """Wait for every deferred write and tracked job."""
        import asyncio

        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        while self._writing is not None:  # a hop started by the last one's callback
            await asyncio.gather(self._writing, return_exceptions=True)

    @property
    def pending(self) -> int:
        """Deferred writes and tracked jobs not finished yet."""
        return len(self._pending)

    async def aclose_shared(self) -> None:
        """Send the team's last counters and close L2's connections (on the running loop)."""
        if self._team is not None:
            await self._team.flush()
        if self._shared is not None:
            await self._shared.aclose()

    def close(self) -> None:
        """Close the cache and the ledger (they reopen on next use)."""
        if self._cache is not None:
            self._cache.close()
            self._cache = None
        if self._ledger is not None:
            self._ledger.close()
            self._ledger, self._recent = None, None
