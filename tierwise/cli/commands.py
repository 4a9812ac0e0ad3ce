"""The CLI subcommands; each returns an exit code. Formatting lives in report/."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from tierwise import report
from tierwise.cli.common import (
    EXIT_OK,
    SourceText,
    check_position,
    emit_json,
    load_engine,
    parse_target,
    read_file,
    write_source,
)
from tierwise.core.errors import TierwiseError, UsageError
from tierwise.core.results import DocstringResult
from tierwise.core.task import Action
from tierwise.core.text import plural
from tierwise.core.tiers import Tier


class StderrProgress:
    """Engine events on stderr: a live line on a terminal, sparse lines otherwise."""

    def __init__(self, quiet: bool = False) -> None:
        self.tty = sys.stderr.isatty()
        self.quiet = quiet
        self.live = False

    def __call__(self, event: Any) -> None:
        if self.quiet and event.kind != "warning":
            return
        if event.kind == "delta":
            if self.tty:
                sys.stderr.write(f"\r  streaming… {event.message}")
                self.live = True
            return
        if self.live:
            sys.stderr.write("\r\033[K")
            self.live = False
        prefix = "warning: " if event.kind == "warning" else ""
        print(f"tierwise: {prefix}{event.message}", file=sys.stderr)


def _task(engine: Any, args: argparse.Namespace, action: str) -> tuple[Any, SourceText]:
    path, line, col = parse_target(args.target)
    source = read_file(path)
    text = source.text
    check_position(path, text, line or 0, col)
    end_line = end_col = None
    if getattr(args, "end", None):
        end, end_c = _end_position(args.end)
        end_line, end_col = end, end_c
        check_position(path, text, end_line, end_col or 0, "--end")
        if end_col is None:
            lines = text.split("\n")
            end_col = len(lines[end_line]) if end_line < len(lines) else 0
    options = {"style": args.style} if getattr(args, "style", None) else None
    return engine.build_task(
        action,
        str(path),
        text,
        line if line is not None else 0,
        col,
        end_line=end_line,
        end_col=end_col,
        tier=getattr(args, "tier", None),
        refresh=getattr(args, "refresh", False),
        options=options,
    ), source


def _end_position(text: str) -> tuple[int, int | None]:
    """--end LINE[:COL], 1-based, as 0-based (the column None: the end of that line)."""
    pieces = text.split(":")
    if len(pieces) > 2 or not all(p.isdigit() for p in pieces):
        raise UsageError(f"--end {text}: use LINE or LINE:COL with 1-based numbers")
    numbers = [int(p) for p in pieces]
    if any(n < 1 for n in numbers):
        raise UsageError(f"--end {text}: line and column are 1-based")
    return numbers[0] - 1, numbers[1] - 1 if len(numbers) > 1 else None


async def cmd_run(args: argparse.Namespace) -> int:
    """tierwise run: route, answer from the cache or a provider, print the result."""
    if args.apply and args.action != "docstring":
        raise UsageError("--apply works with the docstring action only")  # before paying
    engine = load_engine(args, Path(args.target.split(":")[0]))
    try:
        task, source = _task(engine, args, args.action)
        outcome = await engine.run(task, on_event=StderrProgress(quiet=args.json))
        if args.apply:
            try:
                written = _apply_docstring(Path(task.context.target.path), source, outcome.result)
            except UsageError as exc:
                engine.edit_outcome(outcome, "apply_failed", str(exc))
                raise
            if written:  # an accepted answer: asking again starts at the routed tier
                engine.edit_outcome(outcome, "applied")
        if args.json:
            emit_json(report.outcome_json(outcome))
        else:
            print(report.outcome_text(outcome))
        for notice in engine.notices:
            print(f"tierwise: note: {notice}", file=sys.stderr)
        return EXIT_OK
    finally:
        await engine.aclose()


def _apply_docstring(path: Path, source: SourceText, result: Any) -> bool:
    """Write a docstring edit into the file, refusing when the file changed meanwhile; whether
    anything was written. The file keeps its encoding, byte-order mark and line breaks."""
    if not isinstance(result, DocstringResult):
        raise UsageError("--apply works with the docstring action only")
    if result.edit is None:
        print(f"tierwise: nothing written to {path}: {result.note}", file=sys.stderr)
        return False
    if read_file(path) != source:
        raise UsageError(f"{path} changed while the model was working: not applying the edit")
    from tierwise.edits import apply_text_edit

    write_source(path, source, apply_text_edit(source.text, result.edit))
    what = "updated the docstring in" if result.existing else "wrote the docstring into"
    print(f"tierwise: {what} {path}", file=sys.stderr)
    return True


def cmd_route(args: argparse.Namespace) -> int:
    """tierwise route: the decision, its reasons and every tier's estimate; no model call.

    Synchronous: routing is pure CPU work, and no provider or cache is opened, so the command
    needs no event loop (and starts faster without importing one)."""
    engine = load_engine(args, Path(args.target.split(":")[0]))
    try:
        task, _ = _task(engine, args, args.action)
        # With no model tier configured at all (the no-key demo), show the policy's choice rather
        # than "static" for everything, and say what `run` would do: the same Engine.decide run
        # calls, so the note and the run cannot disagree.
        assumed = not engine.configured_tiers()
        decision = engine.decide(task, assume_available=assumed)
        actual = engine.decide(task) if assumed else None
        # On local only because local is assumed: a user with cloud keys and no local model
        # (the common case) gets another tier, or a refusal on a local_only path; say which.
        bare = None
        if assumed and decision.tier is Tier.LOCAL:
            bare = engine.decide(task, assume_available=True, assume_local=False)
        for warning in decision.warnings:
            print(f"tierwise: warning: {warning}", file=sys.stderr)
        if args.json:
            data = {**report.decision_json(task, decision), "assumed_available": assumed}
            if actual is not None:
                data["run"] = {
                    "tier": actual.tier.label,
                    "refused": actual.refused,
                    "warnings": list(actual.warnings),
                    "note": report.run_note(actual),
                }
            if bare is not None:
                data["without_local"] = {
                    "tier": bare.tier.label,
                    "estimate_usd": 0.0 if bare.refused else bare.estimate_usd,
                    "refused": bare.refused,
                    "note": report.without_local_note(bare),
                }
            emit_json(data)
        else:
            print(report.decision_text(task, decision, run=actual, without_local=bare))
        return EXIT_OK
    finally:
        engine.close()


async def cmd_plan(args: argparse.Namespace) -> int:
    """tierwise plan: route every function in a file or tree and total the estimates."""
    from tierwise.cache.plan_rows import PlanRows
    from tierwise.cli.plan import ProgressBar, plan_files
    from tierwise.cli.sources import resolved_sources
    from tierwise.config.paths import cache_dir

    actions = [Action.parse(a) for a in args.actions.split(",") if a.strip()]
    if not actions:
        raise UsageError("--actions needs at least one action")
    engine = load_engine(args, args.path)
    rows: list[dict[str, Any]] = []
    try:
        files = resolved_sources(args.path)
        started = time.perf_counter()
        # One parse per file: every target and action reuses it (the widest context budget).
        budget = max(engine.context_budget(action) for action in actions)
        bar = ProgressBar(len(files))
        memory = None if args.fresh else PlanRows(cache_dir(engine.config))
        # The table's lines are made as each file's rows come, while the workers still run:
        # after the last file they were the run's last half second, on one core.
        lines: list[str] | None = None if args.json else []
        try:
            for file_rows, warnings in plan_files(
                engine, files, actions, budget, bar, memory=memory
            ):
                rows.extend(file_rows)
                if lines is not None:
                    lines += map(report.plan_line, file_rows)
                for warning in warnings:
                    if bar.shown:
                        sys.stderr.write("\r\033[K")
                    print(f"tierwise: warning: {warning}", file=sys.stderr)
        finally:
            bar.close()
            if memory is not None:
                memory.close()
        summary = report.plan_summary(rows, engine, time.perf_counter() - started)
        if args.json:
            emit_json({"rows": rows, "summary": summary})
        else:
            print(report.plan_text(rows, summary, lines))
        return EXIT_OK
    finally:
        await engine.aclose()


def tune_section(engine: Any) -> dict[str, Any]:
    """The tune figures stats shows (the same as `tierwise tune --json` and tierwise.stats)."""
    from tierwise.engine.tune import section

    return section(engine.ledger, engine.policy, engine.pricing)


async def cmd_stats(args: argparse.Namespace) -> int:
    """tierwise stats: spend by tier and action, savings against all-frontier, cache hit rate;
    with --team, the team's spend today from the shared cache."""
    engine = load_engine(args, None)
    try:
        stats = engine.stats(session=False)
        stats["tune"] = tune_section(engine)
        if args.team:
            team = await engine.team_stats(patient=True)
            if team is None:
                raise UsageError(
                    "no shared cache is configured: --team reads the team's counters from it "
                    "(set [cache.shared] url and team in your user config; docs/team.md)"
                )
            stats["team"] = team
        emit_json(stats) if args.json else print(report.stats_text(stats))
        return EXIT_OK
    finally:
        await engine.aclose()


def cmd_tune(args: argparse.Namespace) -> int:
    """tierwise tune [--apply] [--window-days N] [--ledger PATH] (cli/tune.py)."""
    from tierwise.cli.tune import cmd_tune as tune

    return tune(args)


async def cmd_cache(args: argparse.Namespace) -> int:
    """tierwise cache stats|clear [--shared [--yes]]."""
    from tierwise.engine.team import shared_section

    engine = load_engine(args, None)
    try:
        if engine.cache is None:
            raise UsageError("the response cache is disabled (cache.enabled = false)")
        if args.op == "clear" and args.shared:
            return await _clear_shared(engine, args)
        if args.shared:
            raise UsageError("--shared goes with `cache clear`; `cache stats` shows both levels")
        if args.op == "clear":
            from tierwise.cache.plan_rows import forget_all
            from tierwise.config.paths import cache_dir

            removed = engine.clear_cache()
            forgotten = forget_all(cache_dir(engine.config))  # plan's remembered rows
            out: dict[str, int] = {"removed": removed}
            if forgotten:
                out["plan_files_forgotten"] = forgotten
            emit_json(out) if args.json else print(
                f"removed {removed} cached answers"
                + (f"; forgot the plan rows of {forgotten} files" if forgotten else "")
            )
        else:
            stats = report.jsonable(engine.cache.stats())
            shared = await shared_section(engine.stores, engine.config)
            if shared is not None:
                stats["shared_cache"] = shared
            emit_json(stats) if args.json else print(report.cache_text(stats))
        return EXIT_OK
    finally:
        await engine.aclose()


async def _clear_shared(engine: Any, args: argparse.Namespace) -> int:
    """Remove every key of the team's namespace from L2 (SCAN + UNLINK), after a yes."""
    from tierwise.cache.shared_values import safe_url

    settings = engine.config.cache.shared
    shared = engine.stores.shared
    if settings.url is None:
        raise UsageError("no shared cache is configured ([cache.shared] url in your user config)")
    if shared is None:
        raise UsageError(engine.stores.shared_off or "the shared cache is off")
    keys = await shared.keys()
    if keys is None:
        raise TierwiseError(f"the shared cache did not answer: {shared.health.last_error}")
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(
                f"`cache clear --shared` removes {plural(len(keys), 'key')} of team "
                f"{settings.team!r} for everyone: confirm with --yes (no terminal to ask on)"
            )
        answer = input(
            f"remove {plural(len(keys), 'key')} (answers, locks, spend counters) of team "
            f"{settings.team!r} from {safe_url(settings.url)} for the whole team? [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            print("tierwise: nothing removed", file=sys.stderr)
            return EXIT_OK
    removed = await shared.clear()
    if removed is None:
        raise TierwiseError(f"the shared cache did not answer: {shared.health.last_error}")
    if args.json:
        emit_json({"removed": removed, "team": settings.team})
    else:
        print(f"removed {plural(removed, 'key')} of team {settings.team!r} from the shared cache")
    return EXIT_OK


async def cmd_doctor(args: argparse.Namespace) -> int:
    """tierwise doctor: config files, keys present (names only), providers reachable."""
    from tierwise.cli.doctor import run_checks

    checks = await run_checks(args)
    emit_json(checks) if args.json else print(report.doctor_text(checks))
    return EXIT_OK if all(c["ok"] or c.get("optional") for c in checks) else 3
