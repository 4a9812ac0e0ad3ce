"""Spend read from the ledger: the budget caps' figures and the stats a user sees."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from tierwise.config import Config
from tierwise.ledger import Ledger

if TYPE_CHECKING:
    from tierwise.cache.store import ResponseCache


def spent_today_and_month(ledger: Ledger | None) -> tuple[float, float]:
    """Dollars spent since UTC midnight and since the first of the month (the caps' days)."""
    if ledger is None:
        return 0.0, 0.0
    now = datetime.now(UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return ledger.spent_since(day), ledger.spent_since(day.replace(day=1))


def stats_view(
    ledger: Ledger | None, cache: ResponseCache | None, config: Config, session: str | None
) -> dict[str, Any]:
    """Ledger summaries (the session when given, today since local midnight, all time), cache
    stats, and spend against the caps."""
    out: dict[str, Any] = {"session": session} if session else {}
    if ledger is not None:
        if session:
            out["this_session"] = ledger.summary(session=session)
        midnight = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
        out["today"] = ledger.summary(since=midnight)
        out["all_time"] = ledger.summary()
    if cache is not None:
        out["cache"] = attrs.asdict(cache.stats(), value_serializer=_jsonable)
    today, month = spent_today_and_month(ledger)
    budget = config.budget
    out["budget"] = {
        "daily_usd": budget.daily_usd,
        "monthly_usd": budget.monthly_usd,
        "mode": budget.mode,
        "spent_today_usd": today,
        "spent_month_usd": month,
    }
    return out


def _jsonable(_inst: Any, _field: Any, value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value
