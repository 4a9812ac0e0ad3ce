"""The ledger's schema: an append-only list of migrations (as simonw/llm does), each applied
once, in order, and recorded in `_migrations`. Never edit or reorder an old migration; add a
new one at the end. Each adds what is missing only (columns, tables, indexes), so a database
whose `_migrations` names one differently still opens."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _add_column(con: sqlite3.Connection, table: str, column: str, declaration: str) -> None:
    """ALTER TABLE ADD COLUMN, unless the column is there already.

    Migrations are recorded by name; a database migrated by a build that named one differently
    (a development build before a renumbering) has the column but not the name, and a plain
    ADD COLUMN made the whole ledger unusable ("duplicate column name"). What the migration
    does to a database that lacks the column is unchanged."""
    present = {info[1] for info in con.execute(f"PRAGMA table_info({table})")}
    if column not in present:
        con.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


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
    con.execute("CREATE INDEX IF NOT EXISTS requests_ts ON requests (ts)")
    con.execute("CREATE INDEX IF NOT EXISTS requests_session ON requests (session)")


def _m003_target_and_applied(con: sqlite3.Connection) -> None:
    """Which target a request was for (a keyed hash) and whether its edit was applied."""
    _add_column(con, "requests", "target", "TEXT NOT NULL DEFAULT ''")
    _add_column(con, "requests", "applied", "INTEGER")
    con.execute("CREATE INDEX IF NOT EXISTS requests_target ON requests (target, action, ts)")


def _m004_wanted_tier(con: sqlite3.Connection) -> None:
    """The tier the rules chose, so a cheaper answer below it is shown as a downgrade."""
    _add_column(con, "requests", "wanted_tier", "TEXT NOT NULL DEFAULT ''")


def _m005_shared(con: sqlite3.Connection) -> None:
    """Whether a cache hit came from the team's shared cache (L2) rather than this machine's."""
    _add_column(con, "requests", "shared", "INTEGER NOT NULL DEFAULT 0")


def _m006_verified(con: sqlite3.Connection) -> None:
    """Whether an answer passed its check, which check failed, and a retry's first tier."""
    _add_column(con, "requests", "verified", "INTEGER")
    _add_column(con, "requests", "escalated_from", "TEXT NOT NULL DEFAULT ''")
    _add_column(con, "requests", "failed_check", "TEXT NOT NULL DEFAULT ''")


def _m007_usage_estimated(con: sqlite3.Connection) -> None:
    """Whether a row's token counts are an estimate because the server reported none."""
    _add_column(con, "requests", "usage_estimated", "INTEGER NOT NULL DEFAULT 0")


def _m008_tune(con: sqlite3.Connection) -> None:
    """What `tierwise tune` groups and judges by: the rules' tier before the repeat step and the
    risk category (the request's cell), the quick fixes a review offered, and every edit result
    (an applyEdit answer, a quick fix chosen) against the request that produced it."""
    _add_column(con, "requests", "cell_tier", "TEXT NOT NULL DEFAULT ''")
    _add_column(con, "requests", "risk", "TEXT NOT NULL DEFAULT 'none'")
    _add_column(con, "requests", "fixes_offered", "INTEGER NOT NULL DEFAULT 0")
    con.execute(
        """CREATE TABLE IF NOT EXISTS edits (
            id INTEGER PRIMARY KEY,
            request_id INTEGER NOT NULL REFERENCES requests (id),
            ts TEXT NOT NULL,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        )"""
    )
    con.execute("CREATE INDEX IF NOT EXISTS edits_request ON edits (request_id)")


# Append-only: applied in order, each exactly once per database.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _m001_requests,
    _m002_indexes,
    _m003_target_and_applied,
    _m004_wanted_tier,
    _m005_shared,
    _m006_verified,
    _m007_usage_estimated,
    _m008_tune,
)


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
