"""Human renderings of the ledger's figures for a terminal: stats, cache, team, doctor and
`tierwise tune`."""

from __future__ import annotations

from typing import Any

from tierwise.core.text import plural
from tierwise.core.tiers import Tier
from tierwise.report.outcomes import usd

PERIODS = {"this_session": "this session", "today": "today", "all_time": "all time"}


def stats_text(stats: dict[str, Any]) -> str:
    """The stats command's human output (ledger figures as Ledger.summary defines them)."""
    out: list[str] = []
    for label, title in PERIODS.items():
        s = stats.get(label)
        if not s:
            continue
        counts = [plural(s["requests"], "request") + " served"]
        counts += [f"{s['refused']} refused"] if s["refused"] else []
        counts += [f"{s['failed']} failed"] if s["failed"] else []
        saved = f"saved {usd(s['savings_usd'])} against all-frontier"
        if s["downgrade_savings_usd"]:
            saved += (
                f" ({usd(s['routing_savings_usd'])} by routing,"
                f" {usd(s['downgrade_savings_usd'])} by downgrades below the routed tier)"
            )
        out.append(f"{title}: {', '.join(counts)} · spent {usd(s['cost_usd'])} · {saved}")
        if s.get("static_answers"):
            out.append(
                f"  not counted as saved: {plural(s['static_answers'], 'static answer')} (no"
                " model answered: a skeleton or a linter's findings)"
            )
        if s.get("usage_estimated"):
            out.append(
                f"  tokens of {plural(s['usage_estimated'], 'request')} are estimates (the server"
                " reported no usage), and so are the figures priced from them"
            )
        if s.get("verified") or s.get("checks_failed"):
            checked = s.get("verified", 0) + s.get("checks_failed", 0)
            out.append(
                f"  answers checked: {s.get('verified', 0)} of {checked} passed,"
                f" {plural(s.get('escalations', 0), 'retry', 'retries')} one tier up"
            )
        if s["model_answers"]:
            out.append(
                f"  answered from the cache: {s['cache_hits']} of"
                f" {plural(s['model_answers'], 'model-tier answer')} ({s['hit_rate']:.0%})"
            )
        for name, row in sorted(s.get("by_tier", {}).items(), key=lambda kv: _rank(kv[0])):
            out.append(
                f"  tier   {name:<10} {plural(row['requests'], 'request'):>12}"
                f"  {usd(row['cost_usd']):>9}"
            )
        for name, row in sorted(s.get("by_action", {}).items()):
            refused = f"  ({row['refused']} refused)" if row["refused"] else ""
            out.append(
                f"  action {name:<10} {plural(row['requests'], 'request'):>12}"
                f"  {usd(row['cost_usd']):>9}{refused}"
            )
    if stats.get("tune", {}).get("suggestions"):
        tune = stats["tune"]
        out.append(f"tune ({tune['window_days']:g} days; `tierwise tune` for every cell):")
        out += [f"  {cell['text']}" for cell in tune["suggestions"]]
    if "cache" in stats:
        out.append(cache_text(stats["cache"], with_rate=False))
    if "team" in stats:
        out.append(team_text(stats["team"]))
    return "\n".join(out) or "no requests recorded yet"


def _rank(tier: str) -> int:
    try:
        return int(Tier.parse(tier))
    except Exception:
        return 99


def cache_text(stats: dict[str, Any], *, with_rate: bool = True) -> str:
    """Cache statistics for a terminal: counters of cache lookups since it was last cleared,
    with the hits per level (L1 this machine, L2 the team's shared cache) when L2 is used."""
    total = stats["hits"] + stats["misses"]
    rate = f" ({stats['hits'] / total:.0%} of lookups)" if with_rate and total else ""
    shared = stats.get("shared") or {}
    l2_hits = int(shared.get("shared_hits", 0))
    levels = f" (L1 {stats['hits'] - l2_hits}, L2 {l2_hits})" if "shared_cache" in stats else ""
    lines = [
        f"cache: {plural(stats['entries'], 'answer')}, {stats['size_bytes'] / 1024:.0f} KiB"
        f" in {stats['directory']}",
        f"       lookups since it was last cleared: {plural(stats['hits'], 'hit')}{levels},"
        f" {plural(stats['misses'], 'miss', 'misses')}{rate}; saved {usd(stats['saved_usd'])}",
    ]
    l2 = stats.get("shared_cache")
    if l2 is not None:
        where = f"{l2['url']} (team {l2['team']})"
        if not l2["enabled"]:
            lines.append(f"shared cache: {where}: off: {l2['error']}")
        elif not l2["reachable"]:
            lines.append(f"shared cache: {where}: unreachable: {l2['error']}")
        else:
            lines.append(
                f"shared cache: {where}: {plural(l2['answers'], 'answer')},"
                f" {plural(l2['locks'], 'lock')}, {plural(l2['spend_days'], 'day')} of spend"
                f" counters; entries expire after {l2['ttl_days']:g} days"
            )
        refused = {
            "a wrong MAC": shared.get("shared_mac_failures", 0),
            "not our JSON": shared.get("shared_invalid", 0),
            "over the size cap": shared.get("shared_too_large", 0),
        }
        if any(refused.values()):
            lines.append(
                "       refused here (never used): "
                + ", ".join(f"{int(n)} with {why}" for why, n in refused.items() if n)
            )
    return "\n".join(lines)


def team_text(team: dict[str, Any]) -> str:
    """The team's spend today from the shared cache's counters (stats --team)."""
    if not team["reachable"]:
        return f"team {team['namespace']}: the shared cache did not answer ({team['error']})"
    today = team["today"]
    out = [
        f"team {team['namespace']} today (UTC): {plural(today['requests'], 'request')} served"
        f" · spent {usd(today['cost_usd'])} · saved {usd(today['savings_usd'])} against"
        f" all-frontier · {plural(today['cache_hits'], 'cache hit')}"
        f" ({today['shared_hits']} from teammates' answers)"
    ]
    for dimension in ("user", "action", "tier"):
        rows = today[f"by_{dimension}"].items()
        if dimension == "tier":
            rows = sorted(rows, key=lambda kv: _rank(kv[0]))
        for name, row in rows:
            out.append(
                f"  {dimension:<6} {name:<14} {plural(row['requests'], 'request'):>12}"
                f"  {usd(row['cost_usd']):>9}  saved {usd(row['savings_usd'])}"
            )
    budget = team["budget"]
    if budget["daily_usd"]:
        known = f" ({budget['as_of']})" if budget["as_of"] else ""
        out.append(
            f"  team budget: {usd(budget['spent_today_usd'])} of {usd(budget['daily_usd'])}"
            f" today ({budget['mode']}){known}"
        )
    return "\n".join(out)


def doctor_text(checks: list[dict[str, Any]]) -> str:
    """Doctor results, one line each."""
    marks = {True: "ok  ", False: "FAIL"}
    lines = []
    for c in checks:
        mark = "skip" if not c["ok"] and c.get("optional") else marks[c["ok"]]
        lines.append(f"{mark}  {c['name']}: {c['detail']}")
        if c.get("fix"):
            lines.append(f"      fix: {c['fix']}")
    return "\n".join(lines)


def tune_text(tune: dict[str, Any], *, source: str) -> str:
    """`tierwise tune`: every cell of the window with its verdict, suggestions first."""
    cells = tune["cells"]
    head = (
        f"tune: the last {tune['window_days']:g} days of {source}; a cell (action, tier, risk"
        f" category) needs n ≥ {tune['min_sample']} requests its own tier answered"
    )
    if not cells:
        if tune.get("requests"):
            # Not "no requests": without a key every answer is a static downgrade, in no cell.
            return head + (
                f"\n{plural(tune['requests'], 'request')} in the window, none answered by the"
                " tier the rules chose (a downgrade for want of a key, a tier picked by hand, an"
                " escalation, a refusal): nothing to judge yet"
            )
        return head + "\nno requests in the window: nothing to judge yet"
    order = {"raise": 0, "lower": 1, "keep": 2, "thin": 3}
    lines = [head]
    for cell in sorted(cells, key=lambda c: order.get(c["verdict"], 9)):
        lines.append(f"  {cell['text']}")
    found = tune["suggestions"]
    spent = usd(sum(c["cost_usd"] for c in cells))
    baseline = usd(sum(c["baseline_usd"] for c in cells))
    lines.append(
        f"{plural(len(found), 'suggestion')}; the cells above spent {spent}"
        f" (all-frontier: {baseline})"
    )
    return "\n".join(lines)
