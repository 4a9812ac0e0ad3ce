"""The request ledger: one SQLite row per request with tokens, dollars, savings and outcome.

Privacy: a row holds no source code, no file contents, no file path and no key. The file is
identified by its language only: paths name clients and projects, and the ledger is a
cross-workspace spend log that users are expected to share in cost reports. The `target`
column, which lets a later request know it is a repeat (routing's escalation on repeat), is an
HMAC of the file, kind and name under a random key kept in a separate file beside the ledger
(`<ledger>.target-key`, 0600): a shared ledger alone cannot be matched against guessed paths.

The schema grows through the append-only migrations of `ledger/migrations.py`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from tierwise.core.errors import TierwiseError
from tierwise.core.sqlite import sqlite_is_corrupt
from tierwise.core.tiers import Tier
from tierwise.ledger.migrations import migrate
from tierwise.ledger.rows import (
    EDIT_KINDS,
    EDIT_STATUSES,
    ERROR_MAX_CHARS,
    INSERT,
    LOCK_TIMEOUT_S,
    OUTCOMES,
    LedgerRow,
    TuneRow,
    utc_iso,
    values,
)

_SERVED = "outcome IN ('ok', 'declined', 'apply_failed')"
_RANK = "(CASE {0} " + " ".join(f"WHEN '{t.label}' THEN {int(t)}" for t in Tier) + " ELSE -1 END)"
# Served by a model (or by the cache, holding a model's answer): only these count against the
# all-frontier baseline. A static answer is a skeleton or a linter's findings, not a model's
# answer at a lower price, so it saves nothing ("stats claimed savings with no model calls").
_MODEL_SERVED = f"({_SERVED} AND tier != 'static')"
_DOWNGRADE = f"({_MODEL_SERVED} AND {_RANK.format('tier')} < {_RANK.format('wanted_tier')})"
# requests (served), refused, failed, spent, served spend, baseline, downgrade savings,
# cache hits, answers a model tier served (the hit rate's base), saved by the cache, hits from
# the shared cache.
_AGGREGATES = (
    f"COALESCE(SUM({_SERVED}), 0), COALESCE(SUM(outcome = 'refused'), 0),"
    " COALESCE(SUM(outcome IN ('error', 'cancelled')), 0), COALESCE(SUM(cost_usd), 0),"
    f" COALESCE(SUM(CASE WHEN {_SERVED} THEN cost_usd ELSE 0 END), 0),"
    f" COALESCE(SUM(CASE WHEN {_MODEL_SERVED} THEN baseline_usd ELSE 0 END), 0),"
    f" COALESCE(SUM(CASE WHEN {_DOWNGRADE} THEN baseline_usd - cost_usd ELSE 0 END), 0),"
    f" COALESCE(SUM({_SERVED} AND cache_hit), 0),"
    f" COALESCE(SUM({_SERVED} AND tier != 'static'), 0),"
    " COALESCE(SUM(saved_usd), 0),"
    f" COALESCE(SUM({_SERVED} AND cache_hit AND shared), 0),"
    # rows whose tokens are estimates (the server reported no usage)
    " COALESCE(SUM(usage_estimated), 0),"
    # answers that passed their check, failed it, and retries one tier up (migration 006)
    " COALESCE(SUM(verified = 1), 0), COALESCE(SUM(verified = 0), 0),"
    " COALESCE(SUM(escalated_from != ''), 0),"
    # static answers served (no model: no savings credited to them)
    f" COALESCE(SUM({_SERVED} AND tier = 'static'), 0)"
)

_WIDTH = _AGGREGATES.count("SUM(")
TARGET_IDS = 4096  # target ids remembered


class AskWrites(Protocol):
    """Told of this connection's writes that an escalation ask reads (engine/recent_asks.py)."""

    def recorded(self, row_id: int, row: LedgerRow) -> None:
        """A row was appended."""

    def edited(self, row_id: int, outcome: str | None, applied: bool) -> None:
        """A row's edit was applied or not (`outcome` None: unchanged)."""


def _add(into: list[Any], sums: Sequence[Any]) -> None:
    for i, value in enumerate(sums):
        into[i] += value


class Ledger:
    """An append-only SQLite log of requests, with spend summaries."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.rebuilt_reason: str | None = None
        self._target_key: bytes | None = None
        self._target_ids: dict[str, str] = {}  # raw target -> id: each request asks for one
        # Counts the connections opened: a reopened file's data_version starts a new count.
        self.generation = 0
        self.observer: AskWrites | None = None  # told of writes that asks read
        self.notes: list[str] = []  # what happened to the file while in use, for the user
        # One connection shared by the event loop and worker threads, one statement at a time.
        self._lock = threading.Lock()
        try:
            self._con = self._open()
        except sqlite3.DatabaseError as exc:
            if not sqlite_is_corrupt(exc):
                raise TierwiseError(
                    f"cannot open the ledger {self.path}: {exc}; close other tierwise "
                    "processes, or set ledger.enabled = false"
                ) from None
            self._move_aside(exc)
            self._con = self._open()

    def _open(self) -> sqlite3.Connection:
        self.generation += 1
        _private_parent(self.path)
        # isolation_level=None: autocommit, so record() is exactly one INSERT and its commit.
        con = sqlite3.connect(
            self.path, timeout=LOCK_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable except on power loss
            migrate(con)
            self.path.chmod(0o600)  # SQLite gives its -wal and -shm files the same mode
        except BaseException:
            con.close()
            raise
        return con

    def _move_aside(self, exc: BaseException) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        self.path.rename(aside)
        for suffix in ("-wal", "-shm"):  # stale journals of the old file would poison the new one
            journal = self.path.with_name(self.path.name + suffix)
            if journal.exists():
                journal.rename(aside.with_name(aside.name + suffix))
        self.rebuilt_reason = (
            f"{self.path} was corrupt ({exc}); moved it to {aside} and started a new ledger "
            "(spend recorded before now no longer counts toward budget caps)"
        )

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run one statement; a corrupt file is moved aside once and the statement rerun."""
        return self._run(sql, params)[0]

    def _run(self, sql: str, params: Sequence[Any]) -> tuple[list[Any], int]:
        """The statement's rows and the last inserted row id, read under one lock."""
        with self._lock:
            try:
                cursor = self._con.execute(sql, params)
            except sqlite3.DatabaseError as exc:
                if not sqlite_is_corrupt(exc):
                    raise
                self._con.close()
                self._move_aside(exc)
                self._con = self._open()
                cursor = self._con.execute(sql, params)
            return cursor.fetchall(), int(cursor.lastrowid or 0)

    def record(self, row: LedgerRow) -> int:
        """Append one row: a single INSERT, committed at once (autocommit); returns its id.

        A ledger file deleted while in use (a cleanup script, `rm -rf` of the data directory)
        would swallow rows into the unlinked file: it is recreated first, and that is noted.
        """
        if not self.path.exists():
            with self._lock:
                self._con.close()
                self._con = self._open()
                self._target_key = None  # its key file went with it: a new one goes with the new
                self._target_ids = {}
            self.notes.append(
                f"the ledger {self.path} was deleted while tierwise was running; started a new one"
            )
        row_id = self._run(INSERT, values(row))[1]
        if self.observer is not None:
            self.observer.recorded(row_id, row)
        return row_id

    def mark_edit(self, row_id: int, *, applied: bool, outcome: str, note: str | None) -> None:
        """Record what became of a request's edit: applied, declined or not applicable (on its
        row, for repeats, and as an edit event, so every applyEdit result is kept)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"ledger outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
        error = note[:ERROR_MAX_CHARS] if note else None
        self._execute(
            "UPDATE requests SET applied = ?, outcome = ?, error = COALESCE(?, error) WHERE id = ?",
            (int(applied), outcome, error, row_id),
        )
        if self.observer is not None:
            self.observer.edited(row_id, outcome, applied)
        self.edit_event(row_id, "edit", "applied" if applied else outcome)

    def edit_event(self, row_id: int, kind: str, status: str, detail: str = "") -> None:
        """Append what became of an edit of request `row_id`: its applyEdit result ("edit") or
        a review quick fix the user chose ("fix"; `detail`: which one, never its text)."""
        if kind not in EDIT_KINDS or status not in EDIT_STATUSES:
            raise ValueError(f"edit event {kind!r}/{status!r} is not one of {EDIT_KINDS}")
        self._execute(
            "INSERT INTO edits (request_id, ts, kind, status, detail) VALUES (?, ?, ?, ?, ?)",
            (row_id, utc_iso(datetime.now(UTC)), kind, status, detail[:ERROR_MAX_CHARS]),
        )
        if kind == "fix" and status == "applied":
            # A quick fix the user chose and the document now holds accepts the review: the
            # next review of the target starts at its routed tier again (engine/asks.py).
            self._execute("UPDATE requests SET applied = 1 WHERE id = ?", (row_id,))
            if self.observer is not None:
                self.observer.edited(row_id, None, True)

    def offer_fixes(self, row_id: int, count: int) -> None:
        """Record how many quick fixes a review's findings offered in the editor."""
        self._execute("UPDATE requests SET fixes_offered = ? WHERE id = ?", (count, row_id))

    def edit_events(self, row_id: int) -> list[tuple[str, str, str]]:
        """(kind, status, detail) of a request's edit events, oldest first."""
        rows = self._execute(
            "SELECT kind, status, detail FROM edits WHERE request_id = ? ORDER BY id", (row_id,)
        )
        return [(str(k), str(s), str(d)) for k, s, d in rows]

    def tune_rows(self, since: datetime) -> list[TuneRow]:
        """Every request at or after `since`, oldest first, with its quick fixes chosen."""
        rows = self._execute(
            "SELECT r.id, r.ts, r.action, r.tier, r.cell_tier, r.risk, r.target, r.cache_hit,"
            " r.output_tokens, r.outcome, r.applied, r.verified, r.cost_usd, r.baseline_usd,"
            " r.input_tokens, r.cache_read_tokens, r.cache_write_tokens, r.fixes_offered,"
            " (SELECT COUNT(DISTINCT e.detail) FROM edits e WHERE e.request_id = r.id"
            "  AND e.kind = 'fix' AND e.status = 'applied')"
            " FROM requests r WHERE r.ts >= ? ORDER BY r.id",
            (utc_iso(since),),
        )
        return [TuneRow.from_sql(row) for row in rows]

    def any_request_since(self, since: datetime) -> bool:
        """Whether any request was recorded at or after `since` (plan's remembered rows are
        valid only when no earlier ask can change a route)."""
        return bool(
            self._execute("SELECT 1 FROM requests WHERE ts >= ? LIMIT 1", (utc_iso(since),))
        )

    def asks(
        self, target: str, action: str, since: datetime
    ) -> list[tuple[float, bool, str, int, str, bool | None]]:
        """(Unix time, cache hit, tier, output tokens, outcome, applied) of the requests for one
        target and action at or after `since`, oldest first."""
        return [ask for _id, ask in self.asks_by_id(target, action, since)]

    def asks_by_id(
        self, target: str, action: str, since: datetime
    ) -> list[tuple[int, tuple[float, bool, str, int, str, bool | None]]]:
        """`asks`, each with its row id."""
        rows = self._execute(
            "SELECT id, ts, cache_hit, tier, output_tokens, outcome, applied FROM requests"
            " WHERE target = ? AND action = ? AND ts >= ? ORDER BY id",
            (target, action, utc_iso(since)),
        )
        return [(int(row_id), _ask(*row)) for row_id, *row in rows]

    def data_version(self) -> tuple[int, int]:
        """Changes whenever another connection (another process) commits to the file, never for
        this connection's own writes (SQLite's `PRAGMA data_version`), nor back to an old value
        after a reopen (the connection's count comes first)."""
        return self.generation, int(self._execute("PRAGMA data_version")[0][0])

    def asks_since(
        self, since: datetime
    ) -> dict[tuple[str, str], list[tuple[float, bool, str, int, str, bool | None]]]:
        """`asks` of every (target, action) at or after `since`, in one query (a plan run
        routes thousands of targets; most trees have none)."""
        found: dict[tuple[str, str], list[tuple[float, bool, str, int, str, bool | None]]] = {}
        for target, action, *row in self._execute(
            "SELECT target, action, ts, cache_hit, tier, output_tokens, outcome, applied"
            " FROM requests WHERE ts >= ? ORDER BY id",
            (utc_iso(since),),
        ):
            found.setdefault((str(target), str(action)), []).append(_ask(*row))
        return found

    def target_id(self, raw: str) -> str:
        """The keyed hash stored for a target (see the module docstring)."""
        found = self._target_ids.get(raw)
        if found is not None:
            return found
        if self._target_key is None:
            self._target_key = _target_key(self.path.with_name(self.path.name + ".target-key"))
        found = hmac.new(self._target_key, raw.encode(), hashlib.sha256).hexdigest()[:32]
        if len(self._target_ids) >= TARGET_IDS:
            self._target_ids.clear()  # a plan over a tree names thousands: keep the newest
        self._target_ids[raw] = found
        return found

    def summary(
        self, *, session: str | None = None, since: datetime | None = None
    ) -> dict[str, Any]:
        """Totals and the same figures by tier and by action.

        `requests` counts served requests (answered: ok, declined or not applicable); refused
        ones are counted apart and have no tier (they are left out of `by_tier`). `cost_usd` is
        everything spent, failures included. `baseline_usd` and `savings_usd` (baseline minus
        served spend) cover requests a model answered (or the cache, with a model's answer):
        a static answer (`static_answers`) saves nothing. `downgrade_savings_usd` is the part
        saved by a model below the tier the rules chose (no key for it, a budget cap,
        local_only), and `routing_savings_usd` the rest. `hit_rate` = answered from the cache /
        answered by a model tier (the static tier never looks in the cache).
        """
        where, params = _filter(session, since)
        # One scan: every aggregate is a sum, so the totals, the tiers and the actions are sums
        # of these groups' (three scans of a 100,000-row ledger took 2 s).
        groups = self._execute(
            f"SELECT tier, action, outcome = 'refused', {_AGGREGATES} FROM requests{where}"
            " GROUP BY 1, 2, 3",
            params,
        )
        totals = [0] * _WIDTH
        tiers: dict[str, list[Any]] = {}
        actions: dict[str, list[Any]] = {}
        for tier, action, refused, *sums in groups:
            _add(totals, sums)
            _add(actions.setdefault(str(action), [0] * _WIDTH), sums)
            if refused == 0:  # refused requests have no tier (a NULL outcome is neither)
                _add(tiers.setdefault(str(tier), [0] * _WIDTH), sums)
        out = _as_totals(totals)
        out["by_tier"] = {tier: _as_totals(tiers[tier]) for tier in sorted(tiers)}
        out["by_action"] = {action: _as_totals(actions[action]) for action in sorted(actions)}
        return out

    def spent_since(self, since: datetime) -> float:
        """Dollars spent on requests at or after `since` (for the daily and monthly caps)."""
        rows = self._execute(
            "SELECT COALESCE(SUM(cost_usd), 0) FROM requests WHERE ts >= ?", (utc_iso(since),)
        )
        return float(rows[0][0])

    def columns(self) -> list[str]:
        """The column names of the requests table, in order."""
        return [str(row[1]) for row in self._execute("PRAGMA table_info(requests)")]

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._con.close()


def _as_totals(row: Sequence[Any]) -> dict[str, Any]:
    served, refused, failed, cost, served_cost, baseline, downgrade, hits, answered = row[:9]
    saved, shared_hits = row[9], row[10]
    savings = float(baseline) - float(served_cost)
    return {
        "requests": int(served),
        "refused": int(refused),
        "failed": int(failed),
        "cost_usd": float(cost),
        "baseline_usd": float(baseline),
        "savings_usd": savings,
        "downgrade_savings_usd": float(downgrade),
        "routing_savings_usd": savings - float(downgrade),
        "cache_hits": int(hits),
        "model_answers": int(answered),
        "hit_rate": int(hits) / int(answered) if answered else 0.0,
        "cache_saved_usd": float(saved),
        "shared_hits": int(shared_hits),
        "usage_estimated": int(row[11]),
        "verified": int(row[12]),
        "checks_failed": int(row[13]),
        "escalations": int(row[14]),
        "static_answers": int(row[15]),
    }


def _filter(session: str | None, since: datetime | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if session is not None:
        clauses.append("session = ?")
        params.append(session)
    if since is not None:
        clauses.append("ts >= ?")
        params.append(utc_iso(since))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _target_key(path: Path) -> bytes:
    """The random key of target ids, created once (0600) beside the ledger."""
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        pass
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex())
    return key


def _private_parent(path: Path) -> None:
    """Create the ledger's directory with mode 0700 (the ledger shows what a user worked on)."""
    parent = path.parent
    try:
        parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise TierwiseError(
            f"cannot create the ledger directory {parent}: {exc.strerror}; "
            "set ledger.path or TIERWISE_DATA_DIR to a writable place"
        ) from None


def _ask(
    ts: str, hit: Any, tier: Any, out: Any, outcome: Any, applied: Any
) -> tuple[float, bool, str, int, str, bool | None]:
    """An `asks` row from its columns."""
    return (
        datetime.fromisoformat(ts).timestamp(),
        bool(hit),
        str(tier),
        int(out),
        str(outcome),
        None if applied is None else bool(applied),
    )
