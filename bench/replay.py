"""The cost replay: bench/replay.jsonl (626 editor actions over real code) through the real
engine against the local provider fakes, in every configuration of issue 10's table.

    .venv-dev/bin/python -m bench.replay                    # one long-lived engine, every config
    .venv-dev/bin/python -m bench.replay --lifetime both    # and an engine per action (slow)
    .venv-dev/bin/python -m bench.replay --limit 250 --only 1,4,5,6   # a slice, some configs

The fake answers every action with a reply of the length the handlers themselves estimate
(docstring ~150 tokens, rename ~120, explain ~500, review ~380, design ~900) and reports usage
from what it was sent (4 characters a token), simulating the Anthropic prompt cache when a
configuration has provider prompt caching. Costs are the ledger's, at the catalogue's dated
prices (tierwise/providers/models.toml). Two engine lifetimes: `server` is one long-lived
engine for the whole workload, as the language server runs; `cli` builds a new engine for
every action, as each `tierwise run` process does (in-process, sharing the disk cache and the
ledger exactly as the processes would; a process per action would make the run ten times
longer and measure Python's start-up, not routing).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import re
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from bench.replay_workload import WORKLOAD
from tests.e2e.lsp_helpers import FAKE_KEY, user_config
from tests.fakes.wire import FakeProvider
from tests.fakes.wire_formats import text_of
from tests.routing.corpus import project_root, qualified_names
from tierwise.config import Layer, build_config
from tierwise.context.extract import SourceFile, load
from tierwise.core.code import estimate_tokens
from tierwise.core.errors import TierwiseError
from tierwise.core.tiers import Tier
from tierwise.engine import Engine
from tierwise.handlers.docstring_static import facts

_NAME = re.compile(r"`([A-Za-z_$][\w$]*)`")
_NUMBERED_LINE = re.compile(r"^\s*(\d+) \| ?(.*)$", re.M)
_FILLER = (
    "It keeps the caller's contract: inputs are checked before use, errors surface as the "
    "documented exceptions, and nothing outside the function's own state is changed. "
)


def realistic_reply(body: dict[str, Any], params: tuple[str, ...] = ()) -> str:
    """An answer of the length a real model writes for each action, in the handler's format.

    A docstring names the target's parameters (`params`), as a model that passes the
    docstring check does: the replay measures routing and caching, not answer quality. With a
    docstring that named none, every cheap docstring of a function with parameters failed its
    check and was asked again one tier up (docs/routing.md gives both figures)."""
    prompt = text_of(body.get("system", "")) + text_of(body.get("messages", []))
    names = _NAME.findall(prompt)
    name = names[0] if names else "value"
    if '{"findings"' in prompt:
        numbered = _NUMBERED_LINE.findall(prompt)
        first, last = (int(numbered[0][0]), int(numbered[-1][0])) if numbered else (1, 1)
        findings = [
            {
                "line": line,
                "severity": severity,
                "message": f"{name}: {words} " + _FILLER * 2,
            }
            for line, severity, words in (
                (first, "warning", "the error path is not covered."),
                (last, "info", "the result could be checked before it is returned."),
            )
        ]
        return json.dumps({"findings": findings, "summary": _FILLER * 3})
    if '{"candidates"' in prompt:
        candidates = [
            {"name": f"{name}_{suffix}", "reason": f"says what it {verb}, as the callers use it"}
            for suffix, verb in (("value", "returns"), ("checked", "guarantees"), ("for", "maps"))
        ]
        return json.dumps({"candidates": candidates})
    # The ask is the last message, after the system prompt and the file's context (a search
    # for it at a line start of the whole prompt missed it: explain, design and updated
    # docstrings were all answered "An answer." until 2026-12-01).
    question = text_of(body.get("messages", [])[-1:])
    ask = re.match(r"(Write|Update|Explain|Design) ", question)
    verb = ask.group(1) if ask else ""
    if verb in ("Write", "Update"):
        uses = f", from {', '.join(params)}" if params else ""
        return f"Return the {name} the caller asked for{uses}.\n\n" + _FILLER * 2
    if verb == "Explain":
        return f"## What {name} does\n\n" + (_FILLER * 3 + "\n\n") * 3
    if verb == "Design":
        return f"## Design of {name}\n\n" + (_FILLER * 4 + "\n\n") * 4
    return "An answer."


def min_cacheable(model: str) -> int:
    """The shortest prefix each provider caches: Haiku 4.5 needs 4,096 tokens, the other
    Anthropic models and OpenAI's 1,024 (docs/benchmarks.md cites the price pages, read
    2026-11-22). Shorter prompts are neither written nor read, and cost plain input."""
    return 4096 if "haiku" in model else 1024


@attrs.frozen
class Setup:
    """One row of the table: how requests are routed and what is switched on."""

    name: str
    tier: str | None = None  # every request forced to this tier (all-frontier, all-budget)
    cache: bool = False
    pruning: bool = False  # context budgets per tier (off: every tier sees all the context)
    prompt_caching: bool = False
    local: bool = False
    # The fake's docstrings name no parameter, so every cheap docstring of a function with
    # parameters fails its check and is asked again one tier up: the bound on what the checks
    # can cost (real models name them most of the time; tune measures how often on a ledger).
    unnamed_params: bool = False


SETUPS = (
    Setup("all-frontier", tier="frontier"),
    Setup("all-budget", tier="budget"),
    Setup("routed, no cache"),
    Setup("routed + cache", cache=True),
    Setup(
        "routed + cache + context pruning + provider prompt caching",
        cache=True,
        pruning=True,
        prompt_caching=True,
    ),
    Setup("the same with a local tier", cache=True, pruning=True, prompt_caching=True, local=True),
    Setup(
        "the same, no docstring naming its parameters",
        cache=True,
        pruning=True,
        prompt_caching=True,
        local=True,
        unnamed_params=True,
    ),
)


@attrs.frozen
class Served:
    """One replayed action."""

    entry: dict[str, Any]
    tier: Tier
    cost: float
    hit: bool
    input_tokens: int
    file_tokens: int
    failed: str | None = None


def config_text(setup: Setup, fake: FakeProvider, root: Path) -> str:
    """The user config of one setup: both cloud providers (and local) at the fake."""
    extra = f'\n[cache]\nenabled = {str(setup.cache).lower()}\ndir = "{root / "cache"}"\n'
    extra += f'\n[ledger]\npath = "{root / "ledger.sqlite3"}"\n'
    if setup.local:
        extra += (
            f'\n[providers.local]\nkind = "openai"\nbase_url = "{fake.openai_base_url}"\n'
            "local = true\nmax_retries = 0\n"
        )
    if not setup.pruning:
        for tier in ("local", "budget", "mid", "frontier"):
            extra += f"\n[tiers.{tier}]\ncontext_tokens = 200000\n"
    return user_config(fake, extra)


class Workspace:
    """The replay's files: copied from the pinned packages on first use, then edited."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._parsed: dict[Path, SourceFile] = {}

    def parse(self, path: Path) -> SourceFile:
        """The file's current text, parsed (kept while the text is unchanged)."""
        source = path.read_text(encoding="utf-8")
        known = self._parsed.get(path)
        if known is None or known.source != source:
            known = load(str(path), source)
            self._parsed[path] = known
        return known

    def path(self, project: str, file: str) -> Path:
        """The workspace copy of a package file."""
        target = self.root / project / file
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text((project_root(project) / file).read_text(encoding="utf-8"))
        return target

    @staticmethod
    def find(parsed: SourceFile, symbol: str) -> tuple[int, int, int]:
        """(line, col, first line) of the last definition named `symbol` (a copy is last)."""
        found = None
        names = qualified_names(parsed)
        for definition, name in zip(parsed.parsed.definitions, names, strict=True):
            if name == symbol:
                found = definition
        if found is None:
            raise LookupError(f"{parsed.path}: no definition {symbol}")
        at = found.name_span or found.span
        return at.start_line, at.start_col, found.span.start_line

    def apply(self, entry: dict[str, Any]) -> Path:
        """Apply the entry's edit; returns the file the action is asked on."""
        path = self.path(entry["project"], entry["file"])
        edit = entry.get("edit")
        if not edit:
            return path
        parsed = self.parse(path)
        _line, _col, first = self.find(parsed, entry["symbol"])
        lines = parsed.source.split("\n")
        definition = next(d for d in parsed.parsed.definitions if d.span.start_line == first)
        if edit["kind"] == "reformat":
            lines[first] = lines[first].rstrip() + "   "
            lines.insert(first + 1, "")
            path.write_text("\n".join(lines), encoding="utf-8")
            return path
        block = lines[first : definition.span.end_line + 1]
        if edit["kind"] == "move":
            del lines[first : definition.span.end_line + 1]
            path.write_text("\n".join([*lines, "", *block, ""]), encoding="utf-8")
            return path
        destination = self.path(entry["project"], edit["to"])
        text = destination.read_text(encoding="utf-8")
        destination.write_text(text.rstrip("\n") + "\n\n\n" + "\n".join(block) + "\n")
        return destination


@contextmanager
def environment(root: Path) -> Iterator[None]:
    """Keys for the fakes and data directories inside the run's temporary directory."""
    saved = dict(os.environ)
    os.environ.update(
        TIERWISE_DATA_DIR=str(root / "data"),
        TIERWISE_CACHE_DIR=str(root / "cache"),
        ANTHROPIC_API_KEY=FAKE_KEY,
        OPENAI_API_KEY=FAKE_KEY,
    )
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


async def replay(
    workload: list[dict[str, Any]], setup: Setup, lifetime: str, keep: Path | None = None
) -> list[Served]:
    """Every action of the workload, in order, through the real engine; with `keep`, its ledger
    (and the key of its target ids) is copied there at the end."""
    with tempfile.TemporaryDirectory() as tmp, FakeProvider() as fake, environment(Path(tmp)):
        fake.responder = realistic_reply
        fake.cache_read_tokens = None if setup.prompt_caching else 0
        fake.min_cache_tokens = min_cacheable
        root = Path(tmp)
        layer = Layer("replay config", tomllib.loads(config_text(setup, fake, root)), True)
        config, _warnings = build_config([layer])
        workspace = Workspace(root / "ws")
        engine: Engine | None = None
        out: list[Served] = []
        for entry in workload:
            if engine is None:
                engine = Engine(config, workspace_root=str(workspace.root))
            path = workspace.apply(entry)
            source = path.read_text(encoding="utf-8")
            # The engine's own parse (kept for the next request, as the server keeps it).
            line, col, _first = workspace.find(engine.files.get(str(path), source), entry["symbol"])
            tier = setup.tier or entry.get("tier")
            try:
                task = engine.build_task(entry["action"], str(path), source, line, col, tier=tier)
                if not setup.unnamed_params:
                    named = tuple(
                        p.name.lstrip("*.")
                        for p in facts(task.context.target).params
                        if p.name not in ("self", "cls")
                    )
                    fake.responder = functools.partial(realistic_reply, params=named)
                outcome = await engine.run(task)
            except TierwiseError as exc:
                out.append(Served(entry, Tier.STATIC, 0.0, False, 0, 0, failed=str(exc)))
            else:
                if entry.get("after") in ("applied", "declined"):
                    engine.edit_outcome(outcome, entry["after"])
                usage = outcome.usage
                out.append(
                    Served(
                        entry,
                        outcome.decision.tier,
                        outcome.cost_usd,
                        outcome.cache_hit,
                        usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens,
                        estimate_tokens(source),
                    )
                )
            if lifetime == "cli":
                await engine.aclose()
                engine = None
        if engine is not None:
            await engine.aclose()
        if keep is not None:
            keep_ledger(root / "ledger.sqlite3", keep)
        return out


def keep_ledger(source: Path, destination: Path) -> None:
    """Copy a closed ledger (and its target-key file) to `destination`, replacing it."""
    import shutil
    import sqlite3

    destination.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", ".target-key"):
        Path(f"{destination}{suffix}").unlink(missing_ok=True)
    # The backup API copies a consistent database whatever its journal holds.
    with sqlite3.connect(source) as src, sqlite3.connect(destination) as dst:
        src.backup(dst)
    shutil.copyfile(f"{source}.target-key", f"{destination}.target-key")
    os.chmod(destination, 0o600)
    os.chmod(f"{destination}.target-key", 0o600)


@attrs.frozen
class Summary:
    """The figures of one replay."""

    setup: Setup
    lifetime: str
    actions: int
    cost: float
    hit_rate: float
    input_per_request: float  # mean input tokens of requests that reached a model
    file_per_request: float  # mean tokens of the target's whole file, same requests
    high: int
    high_on_frontier: int
    high_below: tuple[str, ...]
    failed: tuple[str, ...]
    seconds: float
    spend: dict[str, float]  # "action at tier" -> dollars


def summarise(setup: Setup, lifetime: str, rows: list[Served], seconds: float) -> Summary:
    """Totals, hit rate, tokens and the high-stakes share of one replay."""
    sent = [r for r in rows if not r.hit and r.failed is None and r.tier is not Tier.STATIC]
    high = [r for r in rows if r.entry.get("stakes") == "high"]
    below = tuple(
        f"{r.entry['n']} {r.entry['action']} {r.entry['symbol']} -> {r.tier.label}"
        for r in high
        if r.tier < Tier.FRONTIER
    )
    return Summary(
        setup,
        lifetime,
        len(rows),
        sum(r.cost for r in rows),
        sum(r.hit for r in rows) / len(rows),
        statistics.fmean(r.input_tokens for r in sent) if sent else 0.0,
        statistics.fmean(r.file_tokens for r in sent) if sent else 0.0,
        len(high),
        len(high) - len(below),
        below,
        tuple(f"{r.entry['n']} {r.entry['action']}: {r.failed}" for r in rows if r.failed),
        seconds,
        _spend(rows),
    )


def _spend(rows: list[Served]) -> dict[str, float]:
    out: dict[str, float] = {}
    for r in rows:
        key = f"{r.entry['action']} at {r.tier.label}"
        out[key] = out.get(key, 0.0) + r.cost
    return dict(sorted(out.items(), key=lambda item: -item[1]))


# Without a cache an engine per action behaves like one engine (the memory of earlier asks is
# the ledger in both): the CLI lifetime replays the setups with a cache, where it can differ.
# All-frontier is replayed too: it is the baseline each lifetime's savings are measured against.
CLI_SETUPS = tuple(
    s for s in SETUPS if (s.cache or s.name == "all-frontier") and not s.unnamed_params
)


async def run_all(
    workload: list[dict[str, Any]],
    lifetimes: tuple[str, ...],
    only: set[str] | None = None,
    keep: Path | None = None,
) -> list[Summary]:
    """Every setup in the server lifetime, the cached ones in the CLI lifetime too."""
    out = []
    for lifetime in lifetimes:
        for setup in SETUPS if lifetime == "server" else CLI_SETUPS:
            if only is not None and setup.name not in only:
                continue
            began = time.perf_counter()
            rows = await replay(workload, setup, lifetime, keep)
            out.append(summarise(setup, lifetime, rows, time.perf_counter() - began))
            print(f"  {lifetime}, {setup.name}: {out[-1].seconds:.0f} s", file=sys.stderr)
    return out


def table(summaries: list[Summary]) -> str:
    """The markdown table of issue 10, one block per engine lifetime."""
    lines: list[str] = []
    for lifetime in dict.fromkeys(s.lifetime for s in summaries):
        rows = [s for s in summaries if s.lifetime == lifetime]
        # A slice of the setups without all-frontier has no baseline: no savings column.
        baseline = next((s.cost for s in rows if s.setup.name == "all-frontier"), 0.0)
        how = "one long-lived engine" if lifetime == "server" else "an engine per action"
        lines += [
            f"\n{lifetime} ({how}), {rows[0].actions} actions",
            "",
            "| configuration | $ | saved vs all-frontier | cache hit rate | input tokens/request "
            "(whole file) | high-stakes on frontier | refused |",
            "|---|---|---|---|---|---|---|",
        ]
        for s in rows:
            saved = f"{1 - s.cost / baseline:.1%}" if baseline else "-"
            lines.append(
                f"| {s.setup.name} | {s.cost:.4f} | {saved} | {s.hit_rate:.1%} | "
                f"{s.input_per_request:,.0f} ({s.file_per_request:,.0f}) | "
                f"{s.high_on_frontier}/{s.high} | {len(s.failed)} |"
            )
    return "\n".join(lines)


def load_workload(limit: int | None = None) -> list[dict[str, Any]]:
    """bench/replay.jsonl, optionally only its first `limit` actions."""
    rows = [json.loads(x) for x in WORKLOAD.read_text(encoding="utf-8").splitlines() if x]
    return rows[:limit] if limit else rows


def main() -> None:
    """Replay the workload in every setup and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="replay the first N actions")
    parser.add_argument("--lifetime", choices=("server", "cli", "both"), default="server")
    parser.add_argument("--only", help="setup numbers to replay, 1-based, e.g. 1,5,6")
    parser.add_argument(
        "--keep-ledger",
        type=Path,
        metavar="PATH",
        help="leave the replay's ledger at PATH (one setup and lifetime: --only N), for"
        " `tierwise tune --ledger PATH`",
    )
    args = parser.parse_args()
    lifetimes = ("server", "cli") if args.lifetime == "both" else (args.lifetime,)
    only = {SETUPS[int(n) - 1].name for n in args.only.split(",")} if args.only else None
    if args.keep_ledger is not None and (only is None or len(only) != 1 or len(lifetimes) != 1):
        parser.error("--keep-ledger keeps one replay's ledger: pick one setup with --only N")
    began = time.perf_counter()
    summaries = asyncio.run(run_all(load_workload(args.limit), lifetimes, only, args.keep_ledger))
    print(table(summaries))
    for s in summaries:
        routed = s.setup.tier is None
        for miss in s.high_below if routed else ():
            print(f"  below frontier ({s.lifetime}, {s.setup.name}): {miss}")
        for failure in s.failed:
            print(f"  refused ({s.lifetime}, {s.setup.name}): {failure}")
        if routed and s.cost:
            top = ", ".join(f"{k} ${v:.3f} ({v / s.cost:.0%})" for k, v in s.spend.items() if v)
            print(f"  spend ({s.lifetime}, {s.setup.name}): {top}")
    print(f"\nreplay: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
