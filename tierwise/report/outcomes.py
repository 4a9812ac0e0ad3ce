"""Human and JSON renderings of outcomes, decisions and plans for the CLI (and route previews
for the server)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from tierwise.core.code import Target
from tierwise.core.records import Record, asdict
from tierwise.core.results import (
    DocstringResult,
    MarkdownResult,
    RenameResult,
    ReviewResult,
    result_to_dict,
)
from tierwise.core.task import Task
from tierwise.core.text import cut, cut_left, plural
from tierwise.core.tiers import Tier
from tierwise.edits import preview
from tierwise.routing.batch import Routed
from tierwise.routing.router import Decision


def jsonable(value: Any) -> Any:
    """Records, attrs instances and paths as plain JSON data."""
    if isinstance(value, Record):
        return {k: jsonable(v) for k, v in asdict(value, recurse=False).items()}
    if getattr(type(value), "__attrs_attrs__", None) is not None:  # attrs.has, not importing it
        import attrs

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
        "tiers": [asdict(option) for option in decision.tiers],
        "target": {"name": target.name, "kind": target.kind, "line": target.span.start_line + 1},
    }


ASSUMED_NOTE = (
    "note: no model tier is configured (no API key, no local server), so this is the policy's"
    " choice as if every tier were available"
)


def run_note(actual: Decision) -> str:
    """What `tierwise run` would do, from the decision `run` itself makes (Engine.decide)."""
    if actual.refused:
        return f"`tierwise run` would refuse it: {actual.refused}"
    detail = "; ".join(actual.warnings)
    return f"`tierwise run` would answer on {actual.tier.label}" + (f": {detail}" if detail else "")


def without_local_note(bare: Decision) -> str:
    """What a request on an assumed local tier routes to with every cloud tier but no local
    model (`bare`): a user with an API key and no local server."""
    if bare.refused:
        return f"with an API key but no local model it would be refused: {bare.refused}"
    return (
        f"with an API key but no local model it would route to {bare.tier.label}"
        f" at {usd(bare.estimate_usd)}"
    )


def decision_text(
    task: Task,
    decision: Decision,
    *,
    run: Decision | None = None,
    without_local: Decision | None = None,
) -> str:
    """The route command's human output: every row comes from `decision.tiers`, as the JSON's.

    `run` is the decision `tierwise run` would make when this one assumed every tier, and
    `without_local` the one with every tier but local assumed, when this one is on local.
    """
    target = task.context.target
    lines = [
        f"{decision.summary}",
        f"target: {target.kind} {target.name} ({target.path}:{target.span.start_line + 1})",
        f"model: {decision.model or 'none (static)'}   estimate: {usd(decision.estimate_usd)}",
        "",
        "tier       estimate   available",
    ]
    for option in decision.tiers:
        mark = "yes" if option.available else f"no: {option.why_not}"
        chosen = "  ← routed" if option.tier == decision.tier.label else ""
        lines.append(f"{option.tier:<10} {usd(option.estimate_usd):>9}   {mark}{chosen}")
    # Warnings go to stderr (the route command prints them there, once).
    if decision.refused:
        lines.append(f"refused: {decision.refused}")
    if run is not None:
        lines += [ASSUMED_NOTE, "note: " + run_note(run)]
    if without_local is not None:
        lines.append("note: " + without_local_note(without_local))
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
        # The answer's check (docs/routing.md, "Verified answers"): null when not checked.
        verified=getattr(outcome, "verified", None),
        failed_check=_failed_check(getattr(outcome, "failed_check", None)),
        escalated_from=getattr(outcome, "escalated_from", "") or None,
    )
    return data


def _failed_check(failure: Any) -> dict[str, str] | None:
    """The check an answer failed as JSON: its stable name and the detail shown to the user."""
    if failure is None:
        return None
    return {"name": str(failure.name), "detail": str(failure.detail)}


def review_source(tier: str, model: str | None) -> str:
    """Who reviewed: "ruff, static" for the static tier, else the model and its tier."""
    return "ruff, static" if tier == "static" else f"{model or 'unknown model'}, {tier}"


def result_text(
    result: Any, path: str, *, reviewer: str | None = None, target: Target | None = None
) -> str:
    """A result as text for a terminal (`reviewer`: review_source, for "no findings"; `target`:
    what the result was computed for, to show a docstring edit as a diff)."""
    if isinstance(result, DocstringResult):
        return docstring_text(result, target)
    if isinstance(result, RenameResult):
        rows = [f"rename {result.old_name} →"]
        rows += [f"  {i}. {c.name}: {c.reason}" for i, c in enumerate(result.candidates, 1)]
        return "\n".join(rows)
    if isinstance(result, ReviewResult):
        if not result.findings:
            return f"no findings ({reviewer})" if reviewer else "no findings"
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


def docstring_text(result: DocstringResult, target: Target | None = None) -> str:
    """What a docstring result changes: a new docstring, an update of the existing one, or
    nothing (with the reason); with the target, as a diff of the lines it changes (an edit
    that adds to a docstring can start mid-line, so its bare text misleads)."""
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
    shown = preview(target, result.edit) if target is not None else None
    return f"{head}{note}:\n{shown or result.edit.new_text.strip(chr(10))}"


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
        # Counts the server never reported are tierwise's estimate, and the all-frontier figure
        # priced from them is one too: said so, never shown as if the server had counted them.
        tokens = "tokens (estimated: the server reported no usage)" if u.estimated else "tokens"
        approx = "~" if u.estimated else ""
        head.append(
            f"{tokens}: in {approx}{u.input_tokens} + cached {u.cache_read_tokens}"
            f" (write {u.cache_write_tokens})"
            f" · out {approx}{u.output_tokens} · cost {usd(outcome.cost_usd)}"
            f" · all-frontier {approx}{usd(outcome.baseline_usd)} · {outcome.latency_s:.1f} s"
        )
    # Warnings are not repeated here: they went to stderr, once, as the run reported them.
    reviewer = review_source(d.tier.label, outcome.model)
    target = outcome.task.context.target
    body = result_text(outcome.result, target.path, reviewer=reviewer, target=target)
    return "\n".join(head) + "\n\n" + body


def display_path(path: Path) -> str:
    """The path relative to the working directory when it lies below it, else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def plan_row(
    path: Path,
    target: Target,
    decision: Decision | Routed,
    shown: str | None = None,
    without_local: Routed | None = None,
) -> dict[str, Any]:
    """One plan table row; `shown`: display_path(path), when the caller has it already;
    `without_local`: the route with no local tier assumed, for a row on an assumed local."""
    routed = Routed.of(decision) if isinstance(decision, Decision) else decision
    row = {
        "file": display_path(path) if shown is None else shown,
        "line": target.span.start_line + 1,
        "name": target.name,
        "kind": target.kind,
        "action": routed.action.value,
        "tier": routed.tier.label,
        "estimate_usd": routed.estimate_usd,
        "frontier_usd": routed.frontier_usd,
        "budget_usd": routed.budget_usd,
        "reasons": list(routed.reasons),
    }
    if without_local is not None:
        # A request refused without a local model (a local_only path) would not run: $0.
        refused = without_local.refused
        row["without_local"] = {
            "tier": without_local.tier.label,
            "estimate_usd": 0.0 if refused else without_local.estimate_usd,
            "refused": refused,
        }
    return row


def plan_summary(rows: list[dict[str, Any]], engine: Any, seconds: float) -> dict[str, Any]:
    """Totals: routed against all-frontier and all-budget, tier counts, configured tiers."""
    by_tier: dict[str, int] = defaultdict(int)
    for row in rows:
        by_tier[row["tier"]] += 1
    routed = sum(r["estimate_usd"] for r in rows)
    frontier = sum(r["frontier_usd"] for r in rows)
    configured = engine.configured_tiers()
    out = {
        "requests": len(rows),
        "routed_usd": routed,
        "all_frontier_usd": frontier,
        "all_budget_usd": sum(r["budget_usd"] for r in rows),
        "saving_vs_frontier": (1 - routed / frontier) if frontier else 0.0,
        "by_tier": dict(by_tier),
        "configured_tiers": configured,
        "seconds": round(seconds, 3),
    }
    if by_tier.get("local") and "local" not in configured:
        # Plan routes as if every tier were there, and its local rows cost $0: the total and
        # the saving then assume a model the user does not run. Each such row was routed
        # again with no local tier assumed (its "without_local"), so the summary also gives
        # the figures of a user with cloud keys only.
        out["local_assumed"] = by_tier["local"]
        out.update(_without_local(rows, frontier))
    return out


def _without_local(rows: list[dict[str, Any]], frontier: float) -> dict[str, Any]:
    """The plan's total and saving with no local tier: each assumed-local row at its
    `without_local` route, the others as routed; where those rows go, and how many of them
    (local_only paths) could not run at all."""
    total = 0.0
    tiers: dict[str, int] = defaultdict(int)
    refused = local_only = 0
    for row in rows:
        bare = row.get("without_local")
        if bare is None:
            total += row["estimate_usd"]
            continue
        total += bare["estimate_usd"]
        if bare["refused"]:
            refused += 1
            # Without local a request stays on local only on a local_only path (no other
            # tier may see it; plan asks for no tier by name): any other refusal came after
            # it moved to a cloud tier.
            local_only += bare["tier"] == "local"
        else:
            tiers[bare["tier"]] += 1
    return {
        "without_local_usd": total,
        "without_local_saving_vs_frontier": (1 - total / frontier) if frontier else 0.0,
        "without_local_tiers": dict(sorted(tiers.items(), key=lambda kv: Tier.parse(kv[0]))),
        "without_local_refused": refused,
        "without_local_refused_local_only": local_only,
    }


def _without_local_lines(s: dict[str, Any]) -> list[str]:
    """The summary's "without a local model" lines: the total and saving of a user with no
    local model, where the assumed-local requests then go, and which could not run."""
    moved = ", ".join(f"{tier} {n}" for tier, n in s["without_local_tiers"].items())
    refused = s["without_local_refused"]
    lines = [
        f"without a local model  {usd(s['without_local_usd'])}"
        f"  (routing saves {s['without_local_saving_vs_frontier']:.0%};"
        f" the {plural(s['local_assumed'], 'local request')} "
        + (f"on {moved}" + (f"; {refused} refused" if refused else "") if moved else "refused")
        + ")"
    ]
    if refused:
        local_only = s["without_local_refused_local_only"]
        why = [f"{local_only} on local_only paths, which only a local model may see"]
        if refused > local_only:
            why.append(f"{refused - local_only} for other reasons (rows' without_local in --json)")
        lines.append(f"  {refused} refused (counted at $0): " + "; ".join(why[not local_only :]))
    return lines


def plan_line(r: dict[str, Any]) -> str:
    """One row of the plan table."""
    loc = f"{r['file']}:{r['line']}"
    why = "; ".join(r["reasons"][1:] or r["reasons"])
    return (
        f"{cut_left(loc, 34):<34} {cut(r['name'], 24):<24} {r['action']:<9} {r['tier']:<8} "
        f"{usd(r['estimate_usd']):>9}  {cut(why, 70)}"
    )


def plan_text(
    rows: list[dict[str, Any]], summary: dict[str, Any], lines: list[str] | None = None
) -> str:
    """The plan table and its totals; `lines`: plan_line of every row, when the caller made
    them already (plan formats each file's rows while the workers run)."""
    out = [f"{'location':<34} {'name':<24} {'action':<9} {'tier':<8} {'estimate':>9}  why"]
    out += map(plan_line, rows) if lines is None else lines
    s = summary
    tiers = ", ".join(
        f"{k} {v}" for k, v in sorted(s["by_tier"].items(), key=lambda kv: Tier.parse(kv[0]))
    )
    configured = (
        ", ".join(s["configured_tiers"]) or "none (no API key or local server: estimates only)"
    )
    assumed = s.get("local_assumed", 0)
    local_note = (
        f"  ({plural(assumed, 'request')} on local at $0: a local model is assumed, none is"
        " configured)"
        if assumed
        else ""
    )
    out += [
        "",
        f"{plural(s['requests'], 'request')} routed in {s['seconds']:.2f} s: {tiers}",
        f"routed total  {usd(s['routed_usd'])}{local_note}",
        f"all-frontier  {usd(s['all_frontier_usd'])}"
        f"  (routing saves {s['saving_vs_frontier']:.0%})",
        f"all-budget    {usd(s['all_budget_usd'])}",
    ]
    if assumed:
        out += _without_local_lines(s)
    out.append(f"configured tiers: {configured}")
    return "\n".join(out)
