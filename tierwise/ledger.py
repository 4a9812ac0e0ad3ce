"""The request ledger: one SQLite row per request with tokens, dollars, savings and outcome.

Privacy: a row holds no source code, no file contents, no file path and no key. The file is
identified by its language only: paths name clients and projects, and the ledger is a
cross-workspace spend log that users are expected to share in cost reports. The `target`
column, which lets a later request know it is a repeat (routing's escalation on repeat), is an
HMAC of the file, kind and name under a random key kept in a separate file beside the ledger
(`<ledger>.target-key`, 0600): a shared ledger alone cannot be matched against guessed paths.

The schema grows through an append-only list of migrations (as simonw/llm does): each one is
applied once, in order, and recorded in `_migrations`. Never edit or reorder an old migration;
add a new one at the end.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from tierwise.core.errors import TierwiseError
from tierwise.core.sqlite import sqlite_is_corrupt
from tierwise.core.tiers import Tier

# ok: answered; error: failed (a provider error, a reply that could not be used); cancelled:
# stopped by the user; declined: an edit the editor (or the user) did not apply; apply_failed:
# an edit that could not be applied (the document changed, the client cannot apply edits);
# refused: never sent (a requested tier not configured, a hard budget cap, a target too long).
# Served requests are ok, declined and apply_failed: only they carry a baseline and savings.
OUTCOMES = ("ok", "error", "cancelled", "declined", "apply_failed", "refused")
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
    target: str = ""  # Ledger.target_id of the target: repeats are found by it, never by path
    applied: bool | None = None  # for edits: applied (True) or not (False); None otherwise
    wanted_tier: str = ""  # the tier the routing rules chose; `tier` below it is a downgrade
    shared: bool = False  # a cache hit served by the team's shared cache (L2), waited for or not
    verified: bool | None = None  # the answer passed its action's check; None: not checked
    escalated_from: str = ""  # a retry one tier up: the tier whose answer failed its check
    failed_check: str = ""  # the name of the check this row's answer failed (docstring.params)
    # The tokens (and the cost and baseline priced from them) are tierwise's estimate: the server
    # reported no usage (a compatible server that ignores stream_options.include_usage).
    usage_estimated: bool = False


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


def _m003_target_and_applied(con: sqlite3.Connection) -> None:
    """Which target a request was for (a keyed hash) and whether its edit was applied."""
    con.execute("ALTER TABLE requests ADD COLUMN target TEXT NOT NULL DEFAULT ''")
    con.execute("ALTER TABLE requests ADD COLUMN applied INTEGER")
    con.execute("CREATE INDEX requests_target ON requests (target, action, ts)")


def _m004_wanted_tier(con: sqlite3.Connection) -> None:
    """The tier the rules chose, so a cheaper answer below it is shown as a downgrade."""
    con.execute("ALTER TABLE requests ADD COLUMN wanted_tier TEXT NOT NULL DEFAULT ''")


def _m005_shared(con: sqlite3.Connection) -> None:
    """Whether a cache hit came from the team's shared cache (L2) rather than this machine's."""
    con.execute("ALTER TABLE requests ADD COLUMN shared INTEGER NOT NULL DEFAULT 0")


def _m006_verified(con: sqlite3.Connection) -> None:
    """Whether an answer passed its check, which check failed, and a retry's first tier."""
    con.execute("ALTER TABLE requests ADD COLUMN verified INTEGER")
    con.execute("ALTER TABLE requests ADD COLUMN escalated_from TEXT NOT NULL DEFAULT ''")
    con.execute("ALTER TABLE requests ADD COLUMN failed_check TEXT NOT NULL DEFAULT ''")


def _m007_usage_estimated(con: sqlite3.Connection) -> None:
    """Whether a row's token counts are an estimate because the server reported none."""
    con.execute("ALTER TABLE requests ADD COLUMN usage_estimated INTEGER NOT NULL DEFAULT 0")


# Append-only: applied in order, each exactly once per database.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _m001_requests,
    _m002_indexes,
    _m003_target_and_applied,
    _m004_wanted_tier,
    _m005_shared,
    _m006_verified,
    _m007_usage_estimated,
)

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
    "target",
    "applied",
    "wanted_tier",
    "shared",
    "verified",
    "escalated_from",
    "failed_check",
    "usage_estimated",
)
_SERVED = "outcome IN ('ok', 'declined', 'apply_failed')"
_RANK = "(CASE {0} " + " ".join(f"WHEN '{t.label}' THEN {int(t)}" for t in Tier) + " ELSE -1 END)"
_DOWNGRADE = f"({_SERVED} AND {_RANK.format('tier')} < {_RANK.format('wanted_tier')})"
# requests (served), refused, failed, spent, served spend, baseline, downgrade savings,
# cache hits, answers a model tier served (the hit rate's base), saved by the cache, hits from
# the shared cache, rows whose tokens are estimates (the server reported no usage).
_AGGREGATES = (
    f"COALESCE(SUM({_SERVED}), 0), COALESCE(SUM(outcome = 'refused'), 0),"
    " COALESCE(SUM(outcome IN ('error', 'cancelled')), 0), COALESCE(SUM(cost_usd), 0),"
    f" COALESCE(SUM(CASE WHEN {_SERVED} THEN cost_usd ELSE 0 END), 0),"
    f" COALESCE(SUM(CASE WHEN {_SERVED} THEN baseline_usd ELSE 0 END), 0),"
    f" COALESCE(SUM(CASE WHEN {_DOWNGRADE} THEN baseline_usd - cost_usd ELSE 0 END), 0),"
    f" COALESCE(SUM({_SERVED} AND cache_hit), 0),"
    f" COALESCE(SUM({_SERVED} AND tier != 'static'), 0),"
    " COALESCE(SUM(saved_usd), 0),"
    f" COALESCE(SUM({_SERVED} AND cache_hit AND shared), 0),"
    " COALESCE(SUM(usage_estimated), 0)"
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
        self._target_key: bytes | None = None
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
            self.notes.append(
                f"the ledger {self.path} was deleted while tierwise was running; started a new one"
            )
        return self._run(_INSERT, _values(row))[1]

    def mark_edit(self, row_id: int, *, applied: bool, outcome: str, note: str | None) -> None:
        """Record what became of a request's edit: applied, declined or not applicable."""
        if outcome not in OUTCOMES:
            raise ValueError(f"ledger outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
        error = note[:ERROR_MAX_CHARS] if note else None
        self._execute(
            "UPDATE requests SET applied = ?, outcome = ?, error = COALESCE(?, error) WHERE id = ?",
            (int(applied), outcome, error, row_id),
        )

    def any_request_since(self, since: datetime) -> bool:
        """Whether any request was recorded at or after `since` (plan's remembered rows are
        valid only when no earlier ask can change a route)."""
        return bool(
            self._execute("SELECT 1 FROM requests WHERE ts >= ? LIMIT 1", (_utc_iso(since),))
        )

    def asks(
        self, target: str, action: str, since: datetime
    ) -> list[tuple[float, bool, str, int, str, bool | None]]:
        """(Unix time, cache hit, tier, output tokens, outcome, applied) of the requests for one
        target and action at or after `since`, oldest first."""
        rows = self._execute(
            "SELECT ts, cache_hit, tier, output_tokens, outcome, applied FROM requests"
            " WHERE target = ? AND action = ? AND ts >= ? ORDER BY id",
            (target, action, _utc_iso(since)),
        )
        return [
            (
                datetime.fromisoformat(ts).timestamp(),
                bool(hit),
                str(tier),
                int(out),
                str(outcome),
                None if applied is None else bool(applied),
            )
            for ts, hit, tier, out, outcome, applied in rows
        ]

    def target_id(self, raw: str) -> str:
        """The keyed hash stored for a target (see the module docstring)."""
        if self._target_key is None:
            self._target_key = _target_key(self.path.with_name(self.path.name + ".target-key"))
        return hmac.new(self._target_key, raw.encode(), hashlib.sha256).hexdigest()[:32]

    def summary(
        self, *, session: str | None = None, since: datetime | None = None
    ) -> dict[str, Any]:
        """Totals and the same figures by tier and by action.

        `requests` counts served requests (answered: ok, declined or not applicable); refused
        ones are counted apart and have no tier (they are left out of `by_tier`). `cost_usd` is
        everything spent, failures included. `baseline_usd` and `savings_usd` (baseline minus
        served spend) cover served requests only; `downgrade_savings_usd` is the part saved by
        answering below the tier the rules chose (no key for it, a budget cap, local_only), and
        `routing_savings_usd` the rest. `hit_rate` = answered from the cache / answered by a
        model tier (the static tier never looks in the cache).
        """
        where, params = _filter(session, since)
        (totals,) = self._execute(f"SELECT {_AGGREGATES} FROM requests{where}", params)
        out = _as_totals(totals)
        tiered = f"{where} AND" if where else " WHERE"
        rows = self._execute(
            f"SELECT tier, {_AGGREGATES} FROM requests{tiered} outcome != 'refused' GROUP BY tier",
            params,
        )
        out["by_tier"] = {str(row[0]): _as_totals(row[1:]) for row in rows}
        rows = self._execute(
            f"SELECT action, {_AGGREGATES} FROM requests{where} GROUP BY action", params
        )
        out["by_action"] = {str(row[0]): _as_totals(row[1:]) for row in rows}
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
    served, refused, failed, cost, served_cost, baseline, downgrade, hits, answered = row[:9]
    saved, shared_hits, estimated = row[9], row[10], row[11]
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
        "usage_estimated": int(estimated),
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
        row.target,
        None if row.applied is None else int(row.applied),
        row.wanted_tier,
        int(row.shared),
        None if row.verified is None else int(row.verified),
        row.escalated_from,
        row.failed_check,
        int(row.usage_estimated),
    )


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
