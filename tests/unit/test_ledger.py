"""The SQLite ledger: migrations, summaries, spend windows, privacy of the schema, corruption."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tierwise.ledger import MIGRATIONS, Ledger, LedgerRow, migrate


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger(tmp_path / "data" / "ledger.sqlite3")
    yield opened
    opened.close()


def row(**fields: object) -> LedgerRow:
    base: dict[str, object] = {
        "action": "review",
        "language": "python",
        "tier": "mid",
        "model": "anthropic:claude-sonnet-4-6",
        "provider": "anthropic",
        "session": "s1",
    }
    return LedgerRow(**{**base, **fields})  # type: ignore[arg-type]


def applied(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return [r[0] for r in con.execute("SELECT name FROM _migrations ORDER BY rowid")]
    finally:
        con.close()


def test_migrations_apply_once_and_reopen_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    first = Ledger(path)
    first.record(row(cost_usd=0.5))
    first.close()
    assert len(applied(path)) == len(MIGRATIONS)
    second = Ledger(path)
    assert second.summary()["requests"] == 1
    second.close()
    assert len(applied(path)) == len(MIGRATIONS)
    con = sqlite3.connect(path, isolation_level=None)
    assert migrate(con) == []
    con.close()


def test_an_older_database_gets_only_the_missing_migrations(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    MIGRATIONS[0](con)
    first_name = MIGRATIONS[0].__name__.lstrip("_")
    con.execute("INSERT INTO _migrations VALUES (?, 'then')", (first_name,))
    con.execute(
        "INSERT INTO requests (ts, action, language, tier, outcome, cost_usd)"
        " VALUES ('2026-01-02T00:00:00.000000+00:00', 'explain', 'go', 'mid', 'ok', 0.25)"
    )
    con.close()
    upgraded = Ledger(path)
    assert upgraded.summary()["cost_usd"] == pytest.approx(0.25)  # old rows survive
    upgraded.close()
    assert applied(path) == [m.__name__.lstrip("_") for m in MIGRATIONS]


def test_wal_mode_and_private_files(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "ledger.sqlite3"
    opened = Ledger(path)
    opened.record(row())
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()
    opened.close()


def test_schema_has_no_place_for_code_paths_or_keys(ledger: Ledger) -> None:
    assert set(ledger.columns()) == {
        "id", "ts", "action", "language", "tier", "model", "provider", "reasons", "cache_hit",
        "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd",
        "baseline_usd", "saved_usd", "latency_ms", "outcome", "error", "session", "target",
        "applied", "wanted_tier", "shared", "verified", "escalated_from", "failed_check",
        "usage_estimated", "cell_tier", "risk", "fixes_offered",
    }  # fmt: skip


def test_a_target_is_stored_as_a_keyed_hash_never_as_its_path(tmp_path: Path) -> None:
    import hashlib

    path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(path)
    raw = hashlib.sha256(b"/home/me/clients/acme/billing.py\0function\0charge").hexdigest()
    stored = ledger.target_id(raw)
    assert stored == ledger.target_id(raw) and stored != raw and raw[:32] != stored
    key = path.with_name("ledger.sqlite3.target-key")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    ledger.close()
    assert Ledger(path).target_id(raw) == stored  # the same key after a reopen
    key.unlink()
    assert Ledger(path).target_id(raw) != stored  # another key: another id


def test_an_edit_outcome_updates_its_row(ledger: Ledger) -> None:
    first = ledger.record(row(target="t1"))
    second = ledger.record(row(target="t1"))
    assert second == first + 1
    ledger.mark_edit(first, applied=False, outcome="declined", note="the editor declined the edit")
    ledger.mark_edit(second, applied=True, outcome="ok", note=None)
    since = datetime(2000, 1, 1, tzinfo=UTC)
    asks = ledger.asks("t1", "review", since)
    assert [(a[4], a[5]) for a in asks] == [("declined", False), ("ok", True)]
    with pytest.raises(ValueError, match="outcome"):
        ledger.mark_edit(first, applied=False, outcome="maybe", note=None)


def test_row_round_trips_with_reasons_as_json(ledger: Ledger) -> None:
    reasons = ["review → frontier: calls jwt.decode", "large"]
    ts = "2026-03-04T05:06:07+02:00"
    ledger.record(row(reasons=reasons, cache_hit=True, ts=ts, error="x" * 2000, outcome="error"))
    con = sqlite3.connect(ledger.path)
    stored_ts, stored_reasons, hit, error = con.execute(
        "SELECT ts, reasons, cache_hit, error FROM requests"
    ).fetchone()
    con.close()
    assert json.loads(stored_reasons) == reasons
    assert hit == 1
    assert datetime.fromisoformat(stored_ts) == datetime(2026, 3, 4, 3, 6, 7, tzinfo=UTC)
    assert 0 < len(error) < 2000  # a long provider message is cut, not stored whole


def test_unknown_outcome_is_rejected() -> None:
    with pytest.raises(ValueError, match="outcome"):
        row(outcome="maybe")


def test_summary_totals_and_breakdowns(ledger: Ledger) -> None:
    ledger.record(row(tier="budget", action="docstring", cost_usd=0.01, baseline_usd=0.10))
    ledger.record(row(tier="mid", action="review", cost_usd=0.05, baseline_usd=0.20))
    hit = row(tier="mid", action="review", cache_hit=True, baseline_usd=0.20, saved_usd=0.05)
    ledger.record(hit)
    failed = row(
        tier="frontier", action="design", cost_usd=0.30, baseline_usd=0.30, outcome="error"
    )
    ledger.record(failed)
    s = ledger.summary()
    assert s["requests"] == 3 and s["failed"] == 1  # the failed one was not served
    assert s["cost_usd"] == pytest.approx(0.36)  # but its spend is spend
    assert s["baseline_usd"] == pytest.approx(0.50)  # served requests only
    assert s["savings_usd"] == pytest.approx(0.50 - 0.06)
    assert s["cache_hits"] == 1
    assert s["hit_rate"] == pytest.approx(1 / 3)  # from the cache / answered by a model tier
    assert s["cache_saved_usd"] == pytest.approx(0.05)
    assert set(s["by_tier"]) == {"budget", "mid", "frontier"}
    mid = s["by_tier"]["mid"]
    assert (mid["requests"], mid["cache_hits"]) == (2, 1)
    assert mid["cost_usd"] == pytest.approx(0.05)
    assert mid["savings_usd"] == pytest.approx(0.35)
    assert s["by_action"]["docstring"]["baseline_usd"] == pytest.approx(0.10)
    assert (s["by_action"]["design"]["requests"], s["by_action"]["design"]["failed"]) == (0, 1)


def test_savings_come_only_from_served_requests_and_downgrades_say_so(ledger: Ledger) -> None:
    # The screen: "saved $0.0183" with zero model calls. A refused request saves
    # nothing and has no tier spend; a static answer (no model) saves nothing either, even
    # below the tier the rules chose; a model's answer below that tier saves as a downgrade.
    ledger.record(row(tier="frontier", action="explain", outcome="refused", error="needs a key"))
    ledger.record(row(tier="static", wanted_tier="budget", action="docstring", baseline_usd=0.0183))
    ledger.record(row(tier="budget", wanted_tier="budget", cost_usd=0.01, baseline_usd=0.05))
    ledger.record(row(tier="budget", wanted_tier="mid", cost_usd=0.01, baseline_usd=0.03))
    s = ledger.summary()
    assert (s["requests"], s["refused"], s["failed"]) == (3, 1, 0)
    assert "frontier" not in s["by_tier"]  # refused: listed as refused, not under a tier
    assert s["by_action"]["explain"]["refused"] == 1
    assert s["static_answers"] == 1 and s["by_tier"]["static"]["requests"] == 1
    assert s["baseline_usd"] == pytest.approx(0.05 + 0.03)
    assert s["savings_usd"] == pytest.approx(0.04 + 0.02)
    assert s["downgrade_savings_usd"] == pytest.approx(0.02)
    assert s["routing_savings_usd"] == pytest.approx(0.04)
    assert s["by_tier"]["static"]["savings_usd"] == 0
    assert s["model_answers"] == 2 and s["hit_rate"] == 0.0


def test_empty_summary_has_zero_hit_rate(ledger: Ledger) -> None:
    s = ledger.summary()
    assert (s["requests"], s["hit_rate"], s["cost_usd"], s["by_tier"]) == (0, 0.0, 0.0, {})


def test_summary_filters_by_session_and_time(ledger: Ledger) -> None:
    ledger.record(row(session="a", cost_usd=1.0, ts="2026-05-01T10:00:00+00:00"))
    ledger.record(row(session="b", cost_usd=2.0, ts="2026-05-02T10:00:00+00:00"))
    ledger.record(row(session="a", cost_usd=4.0, ts="2026-05-03T10:00:00+00:00"))
    assert ledger.summary(session="a")["cost_usd"] == pytest.approx(5.0)
    assert ledger.summary(session="c")["requests"] == 0
    since = datetime(2026, 5, 2, tzinfo=UTC)
    assert ledger.summary(since=since)["cost_usd"] == pytest.approx(6.0)
    assert ledger.summary(session="a", since=since)["cost_usd"] == pytest.approx(4.0)


def test_spent_since_windows(ledger: Ledger) -> None:
    today = datetime(2026, 5, 20, tzinfo=UTC)
    month = today.replace(day=1)
    spends = {
        month - timedelta(seconds=1): 8.0,  # last month
        month: 4.0,  # the first instant of the month counts
        today - timedelta(seconds=1): 2.0,  # yesterday
        today + timedelta(hours=13, microseconds=500): 1.0,
    }
    for moment, cost in spends.items():
        ledger.record(row(ts=moment.isoformat(), cost_usd=cost))
    assert ledger.spent_since(today) == pytest.approx(1.0)
    assert ledger.spent_since(month) == pytest.approx(7.0)
    assert ledger.spent_since(today + timedelta(days=1)) == 0.0
    # The same instant in another zone, and a naive time read as UTC, give the same windows.
    tokyo = timezone(timedelta(hours=9))
    assert ledger.spent_since(today.astimezone(tokyo)) == pytest.approx(1.0)
    assert ledger.spent_since(month.replace(tzinfo=None)) == pytest.approx(7.0)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_ledger_is_moved_aside_and_replaced(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "ledger.sqlite3"
    first = Ledger(path)
    for i in range(2000):
        first.record(row(cost_usd=0.01, reasons=[f"reason {i}" * 5]))
    first.close()
    if damage == "garbage":
        path.write_bytes(os.urandom(8192))
    else:
        with path.open("r+b") as handle:
            handle.truncate(path.stat().st_size // 2)
    reopened = Ledger(path)
    # A truncated file may open fine and fail only when the lost pages are read.
    assert reopened.summary()["requests"] == 0
    assert reopened.rebuilt_reason is not None and "corrupt" in reopened.rebuilt_reason
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("ledger.sqlite3.corrupt-")]
    assert aside, "the damaged file is kept for inspection"
    reopened.record(row(cost_usd=0.5))
    s = reopened.summary()
    assert (s["requests"], s["cost_usd"]) == (1, pytest.approx(0.5))
    reopened.close()


def test_corruption_found_during_use_is_recovered(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    first = Ledger(path)
    for i in range(2000):
        first.record(row(cost_usd=0.01, reasons=[f"reason {i}" * 5]))
    first.close()
    size = path.stat().st_size
    with path.open("r+b") as handle:  # scramble the data pages, keep the schema pages
        handle.seek(size // 3)
        handle.write(os.urandom(size // 3))
    damaged = Ledger(path)
    assert damaged.rebuilt_reason is None  # opening reads only the schema: still looks fine
    assert damaged.spent_since(datetime(2000, 1, 1, tzinfo=UTC)) == 0.0
    assert damaged.rebuilt_reason is not None
    damaged.record(row(cost_usd=0.5))
    assert damaged.spent_since(datetime(2000, 1, 1, tzinfo=UTC)) == pytest.approx(0.5)
    damaged.close()


def test_a_migration_recorded_under_another_name_does_not_break_the_ledger(
    tmp_path: Path,
) -> None:
    """A ledger migrated by a build that named the verified-columns migration `m005_verified`
    (a development build, before the numbers were settled) has those columns but not the name:
    opening it must add only what is missing, keep its rows and go on recording."""
    path = tmp_path / "ledger.sqlite3"
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    names = [m.__name__.lstrip("_") for m in MIGRATIONS]
    verified = names.index("m006_verified")
    for migration, name in zip(MIGRATIONS[: verified + 1], names, strict=False):
        migration(con)
        recorded = "m005_verified" if name == "m006_verified" else name
        con.execute("INSERT INTO _migrations VALUES (?, 'then')", (recorded,))
    con.execute(
        "INSERT INTO requests (ts, action, language, tier, outcome, cost_usd)"
        " VALUES ('2026-01-02T00:00:00.000000+00:00', 'explain', 'go', 'mid', 'ok', 0.25)"
    )
    con.close()
    ledger = Ledger(path)
    ledger.record(row(cost_usd=0.5))
    assert ledger.summary()["cost_usd"] == pytest.approx(0.75)  # the old row and the new one
    ledger.close()
    assert set(applied(path)) == {*names, "m005_verified"}


def _three_scans(ledger: Ledger, **where: Any) -> dict[str, Any]:
    """The summary as three queries computed it (totals, by tier, by action): the reference
    for the one-scan summary."""
    from tierwise.ledger import store

    clause, params = store._filter(where.get("session"), where.get("since"))
    (totals,) = ledger._execute(f"SELECT {store._AGGREGATES} FROM requests{clause}", params)
    out = store._as_totals(totals)
    tiered = f"{clause} AND" if clause else " WHERE"
    out["by_tier"] = {
        str(r[0]): store._as_totals(r[1:])
        for r in ledger._execute(
            f"SELECT tier, {store._AGGREGATES} FROM requests{tiered} outcome != 'refused'"
            " GROUP BY tier",
            params,
        )
    }
    out["by_action"] = {
        str(r[0]): store._as_totals(r[1:])
        for r in ledger._execute(
            f"SELECT action, {store._AGGREGATES} FROM requests{clause} GROUP BY action", params
        )
    }
    return out


def test_the_one_scan_summary_equals_three_scans_of_every_figure(tmp_path: Path) -> None:
    rnd = random.Random(3)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    tiers = ["static", "local", "budget", "mid", "frontier"]
    for i in range(600):
        tier = rnd.choice(tiers)
        ledger.record(
            row(
                action=rnd.choice(["docstring", "rename", "explain", "review", "design"]),
                tier=tier,
                wanted_tier=rnd.choice(tiers),
                session=f"s{i % 4}",
                outcome=rnd.choice(["ok", "ok", "ok", "declined", "refused", "error", "cancelled"]),
                cost_usd=0.0 if tier in ("static", "local") else rnd.random() / 100,
                baseline_usd=rnd.random() / 50,
                cache_hit=rnd.random() < 0.3,
                shared=rnd.random() < 0.1,
                saved_usd=rnd.random() / 100,
                verified=rnd.choice([None, True, False]),
                escalated_from=rnd.choice(["", "", "budget"]),
            )
        )
    for where in ({}, {"session": "s2"}, {"since": datetime.now(UTC) - timedelta(hours=1)}):
        one, three = ledger.summary(**where), _three_scans(ledger, **where)
        assert one.keys() == three.keys() and one["by_tier"].keys() == three["by_tier"].keys()
        assert one["by_action"].keys() == three["by_action"].keys()
        flat = {k: v for k, v in three.items() if not isinstance(v, dict)}
        # Sums in another order may differ in the last bits of a float, nothing more.
        assert {k: one[k] for k in flat} == pytest.approx(flat), where
        for part in ("by_tier", "by_action"):
            for name, figures in three[part].items():
                assert one[part][name] == pytest.approx(figures), (where, part, name)
    ledger.close()
