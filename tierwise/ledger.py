"""The request ledger: one SQLite row per request with tokens, dollars, savings and outcome.

Privacy: a row holds no source code, no file contents, no file path and no key. The file is
identified by its language only: paths name clients and projects, and the ledger is a
cross-workspace spend log that users are expected to share in cost reports.

The schema grows through an append-only list of migrations (as simonw/llm does): each one is
applied once, in order, and recorded in `_migrations`. Never edit or reorder an old migration;
add a new one at the end.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from tierwise.core.errors import TierwiseError
from tierwise.core.sqlite import sqlite_is_corrupt

OUTCOMES = ("ok", "error", "cancelled")
ERROR_MAX_CHARS = 500
LOCK_TIMEOUT_S = 5.0


def _utc_iso(value: str | datetime) -> str:
    """Fixed-width UTC ISO text, so that string order in SQL is time order. Naive means UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _reasons(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(reason) for reason in value)


def _check_outcome(_inst: Any, _attr: Any, value: str) -> None:
    if value not in OUTCOMES:
        raise ValueError(f"ledger outcome {value!r} is not one of {', '.join(OUTCOMES)}")


@attrs.frozen(kw_only=True)
class LedgerRow:
    """One request as the ledger records it (results, counts and money; never code)."""

    action: str
    language: str
    tier: str
    ts: str = attrs.field(factory=_now)  # ISO 8601; stored normalised to UTC
    model: str | None = None  # "provider:model"
    provider: str | None = None
    reasons: tuple[str, ...] = attrs.field(default=(), converter=_reasons)
    cache_hit: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    baseline_usd: float = 0.0  # what the frontier tier would have cost
    saved_usd: float = 0.0  # for cache hits: the cost avoided
    latency_ms: int = 0
    outcome: str = attrs.field(default="ok", validator=_check_outcome)
    error: str | None = None
    session: str = ""


def _m001_requests(con: sqlite3.Connection) -> None:
    con.execute(
        """CREATE TABLE requests (
            id INTEGER PRIMARY KEY,
            ts TEXT NOT NULL,
            action TEXT NOT NULL,
            language TEXT NOT NULL,
            tier TEXT NOT NULL,
            model TEXT,
            provider TEXT,
            reasons TEXT NOT NULL DEFAULT '[]',
            cache_hit INTEGER NOT NULL DEFAULT 0,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            cache_read_tokens INTEGER NOT NULL DEFAULT 0,
            cache_write_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            baseline_usd REAL NOT NULL DEFAULT 0,
            saved_usd REAL NOT NULL DEFAULT 0,
            latency_ms INTEGER NOT NULL DEFAULT 0,
            outcome TEXT NOT NULL,
            error TEXT,
            session TEXT NOT NULL DEFAULT ''
        )"""
    )


def _m002_indexes(con: sqlite3.Connection) -> None:
    con.execute("CREATE INDEX requests_ts ON requests (ts)")
    con.execute("CREATE INDEX requests_session ON requests (session)")


# Append-only: applied in order, each exactly once per database.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_m001_requests, _m002_indexes)

COLUMNS = (
    "ts",
    "action",
    "language",
    "tier",
    "model",
    "provider",
    "reasons",
    "cache_hit",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
    "baseline_usd",
    "saved_usd",
    "latency_ms",
    "outcome",
    "error",
    "session",
)
_AGGREGATES = (
    "COUNT(*), COALESCE(SUM(cost_usd), 0), COALESCE(SUM(baseline_usd), 0),"
    " COALESCE(SUM(cache_hit), 0), COALESCE(SUM(saved_usd), 0), COALESCE(SUM(outcome != 'ok'), 0)"
)
_INSERT = f"INSERT INTO requests ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"


def migrate(con: sqlite3.Connection) -> list[str]:
    """Apply the migrations this database has not seen; returns the names applied.

    `con` must be in autocommit mode; each migration commits with its record, or not at all,
    and the check runs under a write lock so two processes never apply one twice.
    """
    con.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    applied: list[str] = []
    for migration in MIGRATIONS:
        name = migration.__name__.lstrip("_")
        con.execute("BEGIN IMMEDIATE")
        try:
            if con.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone() is None:
                migration(con)
                con.execute("INSERT INTO _migrations VALUES (?, ?)", (name, _now()))
                applied.append(name)
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
    return applied


class Ledger:
    """An append-only SQLite log of requests, with spend summaries."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.rebuilt_reason: str | None = None
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
        with self._lock:
            try:
                return self._con.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                if not sqlite_is_corrupt(exc):
                    raise
                self._con.close()
                self._move_aside(exc)
                self._con = self._open()
                return self._con.execute(sql, params).fetchall()

    def record(self, row: LedgerRow) -> None:
        """Append one row: a single INSERT, committed at once (autocommit)."""
        self._execute(_INSERT, _values(row))

    def summary(
        self, *, session: str | None = None, since: datetime | None = None
    ) -> dict[str, Any]:
        """Totals and the same figures by tier and by action.

        savings_usd = baseline_usd - cost_usd; hit_rate = cache hits / all requests.
        """
        where, params = _filter(session, since)
        (totals,) = self._execute(f"SELECT {_AGGREGATES} FROM requests{where}", params)
        out = _as_totals(totals)
        for column in ("tier", "action"):
            rows = self._execute(
                f"SELECT {column}, {_AGGREGATES} FROM requests{where} GROUP BY {column}", params
            )
            out[f"by_{column}"] = {str(row[0]): _as_totals(row[1:]) for row in rows}
        return out

    def spent_since(self, since: datetime) -> float:
        """Dollars spent on requests at or after `since` (for the daily and monthly caps)."""
        rows = self._execute(
            "SELECT COALESCE(SUM(cost_usd), 0) FROM requests WHERE ts >= ?", (_utc_iso(since),)
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
    requests, cost, baseline, hits, saved, failed = row
    return {
        "requests": int(requests),
        "cost_usd": float(cost),
        "baseline_usd": float(baseline),
        "savings_usd": float(baseline) - float(cost),
        "cache_hits": int(hits),
        "hit_rate": int(hits) / int(requests) if requests else 0.0,
        "cache_saved_usd": float(saved),
        "failed": int(failed),
    }


def _filter(session: str | None, since: datetime | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if session is not None:
        clauses.append("session = ?")
        params.append(session)
    if since is not None:
        clauses.append("ts >= ?")
        params.append(_utc_iso(since))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _values(row: LedgerRow) -> tuple[Any, ...]:
    error = row.error[:ERROR_MAX_CHARS] if row.error else row.error
    return (
        _utc_iso(row.ts),
        row.action,
        row.language,
        row.tier,
        row.model,
        row.provider,
        json.dumps(list(row.reasons), ensure_ascii=False),
        int(row.cache_hit),
        int(row.input_tokens),
        int(row.output_tokens),
        int(row.cache_read_tokens),
        int(row.cache_write_tokens),
        float(row.cost_usd),
        float(row.baseline_usd),
        float(row.saved_usd),
        int(row.latency_ms),
        row.outcome,
        error,
        row.session,
    )


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
