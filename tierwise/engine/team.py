"""Team spend: every ledger row added to per-day counters in the shared cache, and the last known
team total that the team budget (`[budget.team] daily_usd`) is checked against.

The counters hold numbers only: requests, dollars, savings against all-frontier, by user, action
and tier. No code, no file name, no target id: what a teammate sees is who spent what on which
action and tier, which is what `tierwise stats --team` shows.

When the shared cache is unreachable the budget is checked against the last known total (kept
in memory and in `team-spend.json` beside the ledger, so the next CLI run has it too) plus what
this process spent since; the budget note then says how old that total is. Spend made during an
outage is added to the team's counters when the server answers again, by the same process (an
editor's server); a CLI run that ends during an outage records it in the user's ledger only.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierwise.ledger import LedgerRow

if TYPE_CHECKING:
    from tierwise.cache.shared import SharedCache

# A known total older than this is fetched again before a CLI request is routed.
STALE_S = 15.0
# Increments kept for a server that does not answer; past this the oldest are dropped.
MAX_PENDING = 10_000
SERVED = ("ok", "declined", "apply_failed")
DIMENSIONS = ("user", "action", "tier")
FIELDS = ("requests", "cost_usd", "served_cost_usd", "baseline_usd")


def utc_day(moment: datetime | None = None) -> str:
    """The UTC day a cap counts in, as YYYY-MM-DD (the personal caps use UTC days too)."""
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%d")


def user_name(configured: str | None) -> str:
    """Who spend is counted under: cache.shared.user, else the login name."""
    if configured and configured.strip():
        return configured.strip()[:64]
    try:
        return getpass.getuser()[:64] or "unknown"
    except (OSError, KeyError):  # no login name in a container without a passwd entry
        return "unknown"


def amounts(row: LedgerRow, user: str) -> dict[str, float]:
    """What one ledger row adds to the day's counters (nothing for a refused request)."""
    if row.outcome == "refused":
        return {}
    served = row.outcome in SERVED
    values = {
        "requests": float(served),
        "cost_usd": row.cost_usd,
        "served_cost_usd": row.cost_usd if served else 0.0,
        # A static answer saves nothing against all-frontier (as Ledger.summary counts it).
        "baseline_usd": row.baseline_usd if served and row.tier != "static" else 0.0,
    }
    out = dict(values)
    out["cache_hits"] = float(served and row.cache_hit)
    out["shared_hits"] = float(served and row.cache_hit and row.shared)
    out["cache_saved_usd"] = row.saved_usd
    for dimension, name in (("user", user), ("action", row.action), ("tier", row.tier)):
        for field, value in values.items():
            out[f"{dimension}:{name}:{field}"] = value
    return {field: value for field, value in out.items() if value}


class TeamSpend:
    """The team's counters for one namespace, and the last known total for the team budget."""

    def __init__(self, shared: SharedCache, user: str, state_file: Path | None) -> None:
        self.shared = shared
        self.user = user
        self.state_file = state_file
        self._pending: list[tuple[str, dict[str, float]]] = []
        self._known_day = ""
        self._known_total = 0.0
        self._known_at = 0.0  # wall-clock time of the figure (0: never known)
        self._since: dict[str, float] = {}  # by day: this process's spend not in the known total
        self._fetched = False  # whether this process has had a total from the server
        self._load()

    # -- counting ---------------------------------------------------------------------------------

    def count(self, row: LedgerRow) -> bool:
        """Queue a row's amounts; whether there is anything to send (the caller flushes)."""
        found = amounts(row, self.user)
        if not found:
            return False
        day = utc_day(datetime.fromisoformat(row.ts) if row.ts else None)
        self._pending.append((day, found))
        del self._pending[:-MAX_PENDING]
        self._since[day] = self._since.get(day, 0.0) + found.get("cost_usd", 0.0)
        return True

    async def flush(self) -> None:
        """Send the queued amounts; what the server did not take stays queued."""
        pending, self._pending = self._pending, []
        for index, (day, found) in enumerate(pending):
            totals = await self.shared.add_spend(day, found)
            if totals is None:
                self._pending[:0] = pending[index:]
                return
            self._since[day] = self._since.get(day, 0.0) - found.get("cost_usd", 0.0)
            if "cost_usd" in totals:
                # The server's total after our increment: everything sent so far, by anyone.
                self._remember(day, totals["cost_usd"])

    # -- the last known total --------------------------------------------------------------------

    def spent_today(self) -> tuple[float, str]:
        """The team's spend today for the budget, and from when it is when not fresh."""
        today = utc_day()
        mine = max(self._since.get(today, 0.0), 0.0)
        known = self._known_total if self._known_day == today else 0.0
        if self._known_at and self._known_day == today and not self.shared.health.down:
            return known + mine, ""
        if not self._known_at or self._known_day != today:
            note = "no team total known today: the shared cache has not answered"
        else:
            at = datetime.fromtimestamp(self._known_at, UTC).strftime("%H:%M UTC")
            note = f"last known team total at {at}: the shared cache is unreachable"
        return known + mine, note

    async def refresh(self) -> bool:
        """Fetch today's total; whether the server answered."""
        await self.flush()
        today = utc_day()
        counters = await self.shared.spend(today)
        if counters is None:
            return False
        self._remember(today, counters.get("cost_usd", 0.0))
        return True

    async def refresh_if_stale(self) -> None:
        """Refresh when this process has no figure of its own yet (the file's is another run's)
        or it is older than STALE_S (before a CLI request)."""
        stale = time.time() - self._known_at > STALE_S or self._known_day != utc_day()
        if stale or not self._fetched:
            self._fetched = await self.refresh() or self._fetched

    def _remember(self, day: str, total: float) -> None:
        """Keep a total the server gave. A day's spend only grows, so an answer that arrives
        late (two flushes in flight) never lowers it; an earlier day's is ignored."""
        if day < self._known_day:
            return
        if day == self._known_day:
            total = max(total, self._known_total)
        self._known_day, self._known_total, self._known_at = day, max(total, 0.0), time.time()
        self._save()

    def _load(self) -> None:
        if self.state_file is None:
            return
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
            if data.get("namespace") == self.shared.namespace:
                self._known_day = str(data["day"])
                self._known_total = float(data["cost_usd"])
                self._known_at = float(data["at"])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # no figure yet, or a broken file: as if never known

    def _save(self) -> None:
        if self.state_file is None:
            return
        data = {
            "namespace": self.shared.namespace,
            "day": self._known_day,
            "cost_usd": self._known_total,
            "at": self._known_at,
        }
        with contextlib.suppress(OSError):
            self.state_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            temp = self.state_file.with_name(f"{self.state_file.name}.{os.getpid()}.tmp")
            temp.write_text(json.dumps(data), encoding="utf-8")
            os.replace(temp, self.state_file)  # concurrent processes: the last writer wins

    # -- the team section of stats ----------------------------------------------------------------

    async def summary(self, *, days: int = 1, patient: bool = False) -> dict[str, Any]:
        """Today's (and the days before's) team counters, for `stats --team` and tierwise.stats.
        `patient` (the CLI): the maintenance deadline, even during an outage; the server's
        stats keep the request deadline and skip L2 while it is down."""
        await self.flush()
        now = datetime.now(UTC)
        out: dict[str, Any] = {
            "namespace": self.shared.namespace,
            "user": self.user,
            "reachable": True,
            "days": {},
        }
        for back in range(days):
            day = utc_day(now - timedelta(days=back))
            counters = await self.shared.spend(day, maintenance=patient)
            if counters is None:
                out["reachable"] = False
                out["error"] = self.shared.health.last_error
                break
            out["days"][day] = breakdown(counters)
            if back == 0:
                self._remember(day, counters.get("cost_usd", 0.0))
        out["today"] = out["days"].get(utc_day(now), breakdown({}))
        return out


def breakdown(counters: dict[str, float]) -> dict[str, Any]:
    """A day's counters as totals and by user, action and tier, with savings computed."""
    totals = _totals({f: counters.get(f, 0.0) for f in FIELDS})
    totals["cache_hits"] = int(counters.get("cache_hits", 0.0))
    totals["shared_hits"] = int(counters.get("shared_hits", 0.0))
    totals["cache_saved_usd"] = counters.get("cache_saved_usd", 0.0)
    for dimension in DIMENSIONS:
        rows: dict[str, dict[str, float]] = {}
        for field, value in counters.items():
            head, _, rest = field.partition(":")
            name, _, leaf = rest.rpartition(":")
            if head == dimension and name and leaf in FIELDS:
                rows.setdefault(name, dict.fromkeys(FIELDS, 0.0))[leaf] = value
        totals[f"by_{dimension}"] = {name: _totals(row) for name, row in sorted(rows.items())}
    return totals


def _totals(row: dict[str, float]) -> dict[str, Any]:
    return {
        "requests": int(row.get("requests", 0.0)),
        "cost_usd": row.get("cost_usd", 0.0),
        "baseline_usd": row.get("baseline_usd", 0.0),
        "savings_usd": row.get("baseline_usd", 0.0) - row.get("served_cost_usd", 0.0),
    }


def track_flush(team: TeamSpend, track: Any) -> None:
    """Start a flush on the running loop (tracked, so the engine's close waits for it)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return  # no loop (a synchronous command): the next flush sends it
    track(loop.create_task(team.flush()))


async def team_section(
    stores: Any, config: Any, *, days: int = 1, patient: bool = False
) -> dict[str, Any] | None:
    """The team section of stats: the counters, and the team budget against today's total."""
    team = stores.team
    if team is None:
        return None
    out = await team.summary(days=days, patient=patient)
    spent, as_of = team.spent_today()
    out["budget"] = {
        "daily_usd": config.budget.team.daily_usd,
        "mode": config.budget.team.mode,
        "spent_today_usd": spent,
        "as_of": as_of,
    }
    return out


async def shared_section(stores: Any, config: Any) -> dict[str, Any] | None:
    """L2 for `cache stats`: where, whether it answers, and its entries by kind (one SCAN of our
    prefix); None when no shared cache is configured."""
    settings = config.cache.shared
    if settings.url is None:
        return None
    from tierwise.cache.shared_values import safe_url

    out: dict[str, Any] = {"url": safe_url(settings.url), "team": settings.team}
    shared = stores.shared
    if shared is None:
        out.update(enabled=False, reachable=False, error=stores.shared_off or "off")
        return out
    keys = await shared.keys()
    out["enabled"] = True
    out["reachable"] = keys is not None
    if keys is None:
        out["error"] = shared.health.last_error
        return out
    kinds = {"answers": 0, "locks": 0, "spend_days": 0}
    for key in keys:
        kind = key[len(shared.prefix) :].partition(":")[0]
        kinds["locks" if kind == "lock" else "spend_days" if kind == "spend" else "answers"] += 1
    out.update(kinds)
    out["ttl_days"] = settings.ttl_days
    return out
