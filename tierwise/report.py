"""Human and JSON renderings of outcomes, decisions, plans and stats for the CLI."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import attrs

from tierwise.core.code import Target
from tierwise.core.results import (
    DocstringResult,
    MarkdownResult,
    RenameResult,
    ReviewResult,
    result_to_dict,
)
from tierwise.core.task import Task
from tierwise.core.tiers import Tier
from tierwise.routing.router import Decision


def jsonable(value: Any) -> Any:
    """attrs instances and paths as plain JSON data."""
    if attrs.has(type(value)):
        return {k: jsonable(v) for k, v in attrs.asdict(value, recurse=False).items()}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def usd(value: float) -> str:
    """Dollars with enough precision for sub-cent requests."""
    return "$0" if value == 0 else f"${value:.4f}" if value < 1 else f"${value:.2f}"


def decision_json(task: Task, decision: Decision) -> dict[str, Any]:
    """The route command's JSON: action, tier, model, reasons, estimates and more."""
    target = task.context.target
    return {
        "action": decision.action.value,
        "tier": decision.tier.label,
        "model": decision.model,
        "models": list(decision.models),
        "reasons": list(decision.reasons),
        "summary": decision.summary,
        "estimate_usd": decision.estimate_usd,
        "estimates": decision.estimates,
        "available": list(decision.available),
        "warnings": list(decision.warnings),
        "refused": decision.refused,
        "tiers": [attrs.asdict(option) for option in decision.tiers],
        "target": {"name": target.name, "kind": target.kind, "line": target.span.start_line + 1},
    }


ASSUMED_NOTE = (
    "note: no model tier is configured (no API key, no local server), so this is the policy's"
    " choice as if every tier were available; `tierwise run` would fall back to static"
)


def decision_text(task: Task, decision: Decision, *, assumed: bool = False) -> str:
    """The route command's human output."""
    target = task.context.target
    lines = [
        f"{decision.summary}",
        f"target: {target.kind} {target.name} ({target.path}:{target.span.start_line + 1})",
        f"model: {decision.model or 'none (static)'}   estimate: {usd(decision.estimate_usd)}",
        "",
        "tier       estimate   available",
    ]
    for tier in Tier:
        mark = "yes" if tier.label in decision.available and not assumed else "no"
        mark = "yes" if tier is Tier.STATIC else mark
        chosen = "  ← routed" if tier is decision.tier else ""
        lines.append(f"{tier.label:<10} {usd(decision.estimates[tier.label]):>9}   {mark}{chosen}")
    lines += [f"warning: {w}" for w in decision.warnings]
    if decision.refused:
        lines.append(f"refused: {decision.refused}")
    if assumed:
        lines.append(ASSUMED_NOTE)
    return "\n".join(lines)


def outcome_json(outcome: Any) -> dict[str, Any]:
    """The run command's JSON."""
    data = decision_json(outcome.task, outcome.decision)
    data.update(
        model=outcome.model,
        cache_hit=outcome.cache_hit,
        usage=jsonable(outcome.usage),
        cost_usd=outcome.cost_usd,
        baseline_usd=outcome.baseline_usd,
        saved_usd=outcome.saved_usd,
        latency_s=round(outcome.latency_s, 4),
        warnings=list(outcome.warnings),
        result=result_to_dict(outcome.result),
    )
    return data


def result_text(result: Any, path: str) -> str:
    """A result as text for a terminal."""
    if isinstance(result, DocstringResult):
        return docstring_text(result)
    if isinstance(result, RenameResult):
        rows = [f"rename {result.old_name} →"]
        rows += [f"  {i}. {c.name}: {c.reason}" for i, c in enumerate(result.candidates, 1)]
        return "\n".join(rows)
    if isinstance(result, ReviewResult):
        if not result.findings:
            return "no findings"
        rows = []
        for f in result.findings:
            code = f" [{f.code}]" if f.code else ""
            rows.append(
                f"{path}:{f.span.start_line + 1}:{f.span.start_col + 1}:"
                f" {f.severity}{code}: {f.message}"
            )
            if f.replacement is not None:
                rows.append("    suggested: " + f.replacement.strip().replace("\n", "\n    "))
        return "\n".join(rows)
    if isinstance(result, MarkdownResult):
        return result.markdown
    return str(result)


def docstring_text(result: DocstringResult) -> str:
    """What a docstring result changes: a new docstring, an update of the existing one, or
    nothing (with the reason)."""
    if result.edit is None:
        return f"nothing to change: {result.note}"
    span = result.edit.span
    first, last = span.start_line + 1, span.end_line + 1
    insertion = (span.start_line, span.start_col) == (span.end_line, span.end_col)
    if insertion:
        where = f"insert at line {first}"
    elif last > first:
        where = f"replace lines {first} to {last}"
    else:
        where = f"replace line {first}"
    head = f"update the existing docstring: {where}" if result.existing else f"{where}"
    note = f" ({result.note})" if result.note else ""
    return f"{head}{note}:\n{result.edit.new_text.strip(chr(10))}"


def outcome_label(outcome: Any) -> str:
    """The action as the user knows it: "docstring", or "update docstring" for an update."""
    result = outcome.result
    if isinstance(result, DocstringResult) and result.existing:
        return "update docstring"
    return str(outcome.decision.action.value)


def outcome_text(outcome: Any) -> str:
    """The run command's human output: header, reasons, tokens and cost, then the result."""
    d = outcome.decision
    source = "from cache" if outcome.cache_hit else (outcome.model or "static")
    u = outcome.usage
    head = [
        f"{outcome_label(outcome)} · {d.tier.label} · {source}",
        f"why: {'; '.join(d.reasons)}",
    ]
    if outcome.cache_hit:
        head.append(
            f"cost $0 (saved ~{usd(outcome.saved_usd)}) · {outcome.latency_s * 1000:.0f} ms"
        )
    else:
        head.append(
            f"tokens: in {u.input_tokens} + cached {u.cache_read_tokens}"
            f" (write {u.cache_write_tokens})"
            f" · out {u.output_tokens} · cost {usd(outcome.cost_usd)}"
            f" · all-frontier {usd(outcome.baseline_usd)} · {outcome.latency_s:.1f} s"
        )
    head += [f"warning: {w}" for w in outcome.warnings]
    return "\n".join(head) + "\n\n" + result_text(outcome.result, outcome.task.context.target.path)


def display_path(path: Path) -> str:
    """The path relative to the working directory when it lies below it, else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def plan_row(path: Path, target: Target, decision: Decision) -> dict[str, Any]:
    """One plan table row."""
    return {
        "file": display_path(path),
        "line": target.span.start_line + 1,
        "name": target.name,
        "kind": target.kind,
        "action": decision.action.value,
        "tier": decision.tier.label,
        "estimate_usd": decision.estimate_usd,
        "frontier_usd": decision.estimates["frontier"],
        "budget_usd": decision.estimates["budget"],
        "reasons": list(decision.reasons),
    }


def plan_summary(rows: list[dict[str, Any]], engine: Any, seconds: float) -> dict[str, Any]:
    """Totals: routed against all-frontier and all-budget, tier counts, configured tiers."""
    by_tier: dict[str, int] = defaultdict(int)
    for row in rows:
        by_tier[row["tier"]] += 1
    routed = sum(r["estimate_usd"] for r in rows)
    frontier = sum(r["frontier_usd"] for r in rows)
    return {
        "requests": len(rows),
        "routed_usd": routed,
        "all_frontier_usd": frontier,
        "all_budget_usd": sum(r["budget_usd"] for r in rows),
        "saving_vs_frontier": (1 - routed / frontier) if frontier else 0.0,
        "by_tier": dict(by_tier),
        "configured_tiers": engine.configured_tiers(),
        "seconds": round(seconds, 3),
    }


def plan_text(rows: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    """The plan table and its totals."""
    out = [f"{'location':<34} {'name':<24} {'action':<9} {'tier':<8} {'estimate':>9}  why"]
    for r in rows:
        loc = f"{r['file']}:{r['line']}"
        why = "; ".join(r["reasons"][1:] or r["reasons"])
        out.append(
            f"{loc[-34:]:<34} {r['name'][:24]:<24} {r['action']:<9} {r['tier']:<8} "
            f"{usd(r['estimate_usd']):>9}  {why[:70]}"
        )
    s = summary
    tiers = ", ".join(
        f"{k} {v}" for k, v in sorted(s["by_tier"].items(), key=lambda kv: Tier.parse(kv[0]))
    )
    configured = (
        ", ".join(s["configured_tiers"]) or "none (no API key or local server: estimates only)"
    )
    out += [
        "",
        f"{s['requests']} requests routed in {s['seconds']:.2f} s: {tiers}",
        f"routed total  {usd(s['routed_usd'])}",
        f"all-frontier  {usd(s['all_frontier_usd'])}"
        f"  (routing saves {s['saving_vs_frontier']:.0%})",
        f"all-budget    {usd(s['all_budget_usd'])}",
        f"configured tiers: {configured}",
    ]
    return "\n".join(out)


def stats_text(stats: dict[str, Any]) -> str:
    """The stats command's human output."""
    out: list[str] = []
    for label in ("this_session", "all_time"):
        s = stats.get(label)
        if not s:
            continue
        out.append(
            f"{label.replace('_', ' ')}: {s['requests']} requests · spent {usd(s['cost_usd'])} · "
            f"all-frontier {usd(s['baseline_usd'])} · saved {usd(s['savings_usd'])} · "
            f"cache hits {s['cache_hits']} ({s['hit_rate']:.0%})"
        )
        for group in ("by_tier", "by_action"):
            for name, row in sorted(s.get(group, {}).items()):
                out.append(
                    f"  {group[3:]:<6} {name:<10} {row['requests']:>5} requests"
                    f"  {usd(row['cost_usd']):>9}"
                )
    if "cache" in stats:
        out.append(cache_text(stats["cache"]))
    return "\n".join(out) or "no requests recorded yet"


def cache_text(stats: dict[str, Any]) -> str:
    """Cache statistics for a terminal."""
    total = stats["hits"] + stats["misses"]
    rate = stats["hits"] / total if total else 0.0
    return (
        f"cache: {stats['entries']} answers, {stats['size_bytes'] / 1024:.0f} KiB"
        f" in {stats['directory']}\n"
        f"       {stats['hits']} hits / {stats['misses']} misses ({rate:.0%}),"
        f" saved {usd(stats['saved_usd'])}"
    )


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
