"""What the commands do: locate the target, route or run it, deliver the result as LSP."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from tierwise import report
from tierwise.core.errors import TierwiseError, UsageError, cut
from tierwise.core.records import evolve
from tierwise.core.results import DocstringResult, MarkdownResult, RenameResult, ReviewResult
from tierwise.core.task import Action, Task
from tierwise.core.tiers import Tier
from tierwise.server import results
from tierwise.server.progress import Progress
from tierwise.server.renames import offer_names
from tierwise.server.results import record_edit, snapshot
from tierwise.server.state import LastRun, Snapshot, relocate_text

if TYPE_CHECKING:
    from tierwise.engine import Engine, Outcome
    from tierwise.routing.router import Decision
    from tierwise.server.app import TierwiseServer
    from tierwise.server.args import RouteArgs, RunArgs

logger = logging.getLogger(__name__)


def engine_of(server: TierwiseServer) -> Engine:
    """The engine, or a clear error before initialize."""
    if server.engine is None:
        raise UsageError("the server is not initialized yet")
    engine: Engine = server.engine
    return engine


def locate(
    server: TierwiseServer, snap: Snapshot, rng: types.Range | None, pos: types.Position | None
) -> tuple[int, int, int | None, int | None]:
    """(line, col, end_line, end_col) in str columns from a client range or position.

    A range whose ends meet is a position (end_line and end_col are None).
    """
    index = server.index(snap.text, server.encoding)
    if rng is not None:
        start = index.from_client(rng.start, "range start")
        end = index.from_client(rng.end, "range end")
        if end < start:
            raise UsageError("range end comes before its start")
        if end == start:
            return (*start, None, None)
        return (*start, *end)
    if pos is not None:
        return (*index.from_client(pos, "position"), None, None)
    raise UsageError("pass a position {line, character} or a range {start, end}")


def _check_excluded(engine: Engine, path: str) -> None:
    pattern = engine.is_excluded(path)
    if pattern is not None:
        raise UsageError(
            f"{cut(str(path))} is excluded by pattern {pattern!r} (privacy.exclude): "
            "tierwise never sends it"
        )


def build(
    server: TierwiseServer, args: RunArgs | RouteArgs, *, refresh: bool = False
) -> tuple[Task, Snapshot]:
    """Validate the arguments and build the task from the open document."""
    engine = engine_of(server)
    action = Action.parse(args.action)
    if args.tier not in (None, "", "auto"):
        Tier.parse(args.tier)
    snap = snapshot(server, args.uri)
    _check_excluded(engine, snap.path)
    engine.check_size(snap.path, snap.text)  # before indexing a document that is too large
    line, col, end_line, end_col = locate(server, snap, args.range, args.position)
    task = engine.build_task(
        action,
        snap.path,
        snap.text,
        line,
        col,
        end_line=end_line,
        end_col=end_col,
        tier=args.tier,
        refresh=refresh,
        doc_version=snap.version,
        uri=snap.uri,
    )
    return task, snap


def _route(server: TierwiseServer, args: RouteArgs) -> dict[str, Any]:
    task, snap = build(server, args)
    decision = engine_of(server).decide(task, sticky=server.sticky)
    data = report.decision_json(task, decision)
    data["uri"] = snap.uri
    data["sticky"] = server.sticky.label if server.sticky is not None else None
    return data


async def route(server: TierwiseServer, args: RouteArgs) -> dict[str, Any]:
    """The decision and every tier's estimate, without a model call (worked off the loop)."""
    return await server.work("tierwise.route", _route, server, args)


def _prepare(server: TierwiseServer, args: RunArgs) -> tuple[Task, Snapshot, tuple[Task, Decision]]:
    task, snap = build(server, args, refresh=args.refresh)
    return task, snap, engine_of(server).prepare(task, sticky=server.sticky)


# Below this size, a document whose text the engine has parsed already is routed on the event
# loop: everything is remembered, so it takes well under a millisecond, less than the hop to a
# worker thread and back.
INLINE_MAX_CHARS = 200_000


async def run(server: TierwiseServer, args: RunArgs) -> dict[str, Any]:
    """tierwise.run: build and decide in a worker thread, run with progress, deliver."""
    doc = server.workspace.text_documents.get(args.uri)
    engine = engine_of(server)
    if (
        doc is not None
        and len(doc.source) < INLINE_MAX_CHARS
        and engine.has_parsed(doc.path, doc.source)
    ):
        task, snap, prepared = _prepare(server, args)
    else:
        task, snap, prepared = await server.work("tierwise.run", _prepare, server, args)
    return await execute(server, task, snap, prepared)


async def escalate(server: TierwiseServer, uri: str | None) -> dict[str, Any]:
    """Re-run the last action on the same target one tier up."""
    key = uri or server.last_run_uri
    last: LastRun | None = server.last_runs.get(key) if key else None
    if last is None:
        where = f" on {cut(uri)}" if uri else ""
        raise UsageError(f"nothing to escalate{where}: run an action first")
    tier = Tier(last.tier)
    if tier is Tier.FRONTIER:
        raise UsageError("the last answer already came from the frontier tier")
    rebuilt = await server.work("tierwise.escalate", _rebuild, server, last, tier.up())
    if rebuilt is not None:
        return await execute(server, *rebuilt)
    return await execute(server, evolve(last.task, tier=tier.up()), last.snapshot)


def _rebuild(server: TierwiseServer, last: LastRun, tier: Tier) -> tuple[Task, Snapshot] | None:
    """The same target in the current text (found by its first line), so that an answer
    already applied (a docstring) is improved in place rather than refused as stale."""
    target = last.task.context.target
    doc = server.workspace.text_documents.get(last.snapshot.uri)
    if doc is None or target.kind == "selection":
        return None
    offset = relocate_text(target.text.split("\n", 1)[0], doc.source)
    if offset is None:
        return None
    line, col = server.index(doc.source).position(offset)
    snap = Snapshot(doc.uri, doc.path, doc.version, doc.source)
    task = engine_of(server).build_task(
        last.task.action,
        snap.path,
        snap.text,
        line,
        col,
        tier=tier.label,
        doc_version=snap.version,
        uri=snap.uri,
    )
    if task.context.target.name != target.name:
        return None
    return task, snap


def _prompt_tokens(engine: Engine, task: Task) -> int:
    try:
        return engine.prompt_tokens(task)  # remembered from routing: no second prompt build
    except TierwiseError:
        return 0


async def execute(
    server: TierwiseServer,
    task: Task,
    snap: Snapshot,
    prepared: tuple[Task, Decision] | None = None,
) -> dict[str, Any]:
    """Run a task with cancellable progress and turn the outcome into LSP effects."""
    engine = engine_of(server)
    progress = Progress(
        server,
        f"tierwise {task.action.value}",
        cancel_target=asyncio.current_task(),
        engine=engine,
        input_tokens=_prompt_tokens(engine, prepared[0] if prepared else task),
    )
    await progress.create()
    try:
        outcome = await engine.run(task, sticky=server.sticky, on_event=progress, prepared=prepared)
    except asyncio.CancelledError:
        progress.end("cancelled: nothing applied")
        raise
    except BaseException as exc:
        progress.end(f"failed: {exc}"[:200])
        raise
    finally:
        server.freeze_imports()  # the first provider call imports its SDK
    progress.end(
        "from cache · $0"
        if outcome.cache_hit
        else f"{outcome.decision.tier.label} · ${outcome.cost_usd:.4f}"
    )
    server.last_runs[snap.uri] = LastRun(task, snap, int(outcome.decision.tier), outcome)
    server.listings.clear()  # asking again now escalates: the listed tiers change
    server.last_run_uri = snap.uri
    for notice in engine.notices:
        server.tell(notice, types.MessageType.Info)
    engine.notices.clear()
    data = report.outcome_json(outcome)
    data["uri"] = snap.uri
    delivered = await deliver(server, snap, task, outcome)
    record_edit(server, outcome, delivered.pop("status", None), delivered.get("reason"))
    data.update(delivered)
    return data


async def deliver(
    server: TierwiseServer, snap: Snapshot, task: Task, outcome: Outcome
) -> dict[str, Any]:
    """The result as native LSP: edit, diagnostics, markdown document or rename candidates."""
    result = outcome.result
    if isinstance(result, DocstringResult):
        return await results.apply_docstring(server, snap, task, result)
    if isinstance(result, ReviewResult):
        return results.review_to_diagnostics(
            server,
            snap,
            task,
            result.findings,
            outcome.decision.tier.label,
            outcome.model,
            outcome.ledger_id,
        )
    if isinstance(result, MarkdownResult):
        shown = await results.show_markdown(server, task.action.value, result)
        return {"markdown": result.markdown, "title": result.title, **shown}
    if isinstance(result, RenameResult):
        return offer_names(server, snap, task, result, outcome)
    return {}
