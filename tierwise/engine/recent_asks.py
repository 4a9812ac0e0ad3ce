"""The escalation memory's record in this process: the ledger's recent asks of the targets this
server routed, read once per target and kept in step with the ledger.

Every route looks up the earlier asks of its target; on a cache hit that query was a good part
of the request. Rows read once stay true only while nothing else writes the ledger, and other
processes do (the CLI, another editor's server). SQLite's `PRAGMA data_version` changes whenever
another connection commits, and never for this connection's own writes; so every look-up reads
it first, and a changed value drops the whole record (each target's next look-up queries the
ledger again). This connection's own writes that an ask reads (a row appended, an edit applied
or declined, a quick fix chosen) are told to the record by the ledger itself (its `observer`),
whoever made them, under the lock the look-ups hold while they query and keep what they read.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime

from tierwise.core.records import evolve
from tierwise.engine.asks import Ask
from tierwise.ledger import Ledger, LedgerRow
from tierwise.ledger.rows import utc_iso

TARGETS = 256  # (target, action) pairs kept; the least recently asked is dropped


class _Kept:
    """One row and the Ask it reads as (made again when its edit's fate changes it)."""

    __slots__ = ("row_id", "ts", "ask")

    def __init__(self, row_id: int, ask: Ask) -> None:
        self.row_id = row_id
        self.ts = ask.ts
        self.ask = ask


class _Entry:
    """The ledger's rows of one target and action at or after `since`, oldest first."""

    __slots__ = ("since", "rows")

    def __init__(self, since: float, rows: list[_Kept]) -> None:
        self.since = since
        self.rows = rows


class RecentAsks:
    """Asks rows by (target, action), trusted while the ledger's data_version is unchanged."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        ledger.observer = self
        self._lock = threading.Lock()
        self._version: tuple[int, int] | None = None
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._rows: dict[int, _Kept] = {}  # row id -> its row in an entry (for edits)

    def asks(self, target: str, action: str, since: datetime) -> list[Ask]:
        """The ledger's asks of a target and action at or after `since`, oldest first."""
        start = since.timestamp()
        key = (target, action)
        with self._lock:
            # Read before any query: a commit after it changes it, and so the next look-up.
            version = self.ledger.data_version()
            if version != self._version:
                self._forget()
                self._version = version
            entry = self._entries.get(key)
            if entry is None or entry.since > start:
                found = self.ledger.asks_by_id(target, action, since)
                entry = self._keep(key, _Entry(start, [_Kept(i, Ask(*row)) for i, row in found]))
            else:
                self._entries.move_to_end(key)
                if entry.rows and entry.rows[0].ts < start:
                    self._drop_before(entry, start)
            return [kept.ask for kept in entry.rows if kept.ts >= start]

    def recorded(self, row_id: int, row: LedgerRow) -> None:
        """The ledger appended a row (through this process's connection)."""
        with self._lock:
            entry = self._entries.get((row.target, row.action))
            # A look-up that queried after the insert holds it already.
            if entry is None or row_id in self._rows:
                return
            ts = datetime.fromisoformat(utc_iso(row.ts)).timestamp()
            applied = None if row.applied is None else bool(row.applied)
            kept = _Kept(
                row_id,
                Ask(ts, bool(row.cache_hit), row.tier, row.output_tokens, row.outcome, applied),
            )
            entry.rows.append(kept)
            self._rows[row_id] = kept

    def edited(self, row_id: int, outcome: str | None, applied: bool) -> None:
        """The ledger updated a row's edit fields (through this process's connection)."""
        with self._lock:
            kept = self._rows.get(row_id)
            if kept is not None:
                kept.ask = evolve(kept.ask, applied=applied, outcome=outcome or kept.ask.outcome)

    def _keep(self, key: tuple[str, str], entry: _Entry) -> _Entry:
        self._drop(key)
        self._entries[key] = entry
        for kept in entry.rows:
            self._rows[kept.row_id] = kept
        while len(self._entries) > TARGETS:
            self._drop(next(iter(self._entries)))
        return entry

    def _drop(self, key: tuple[str, str]) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            for kept in entry.rows:
                self._rows.pop(kept.row_id, None)

    def _drop_before(self, entry: _Entry, start: float) -> None:
        """Rows older than every later window start (a window only moves on) are not kept."""
        for kept in entry.rows:
            if kept.ts < start:
                self._rows.pop(kept.row_id, None)
        entry.rows = [kept for kept in entry.rows if kept.ts >= start]
        entry.since = start

    def _forget(self) -> None:
        self._entries.clear()
        self._rows.clear()
