"""The cost replay's workload: editor actions over real code, with the repeats an editor sees.

    .venv-dev/bin/python -m bench.replay_workload      # rewrites bench/replay.jsonl

The targets are the functions of the routing corpus's files (tests/routing/corpus.jsonl: pinned
packages fetched by tests/realcode.py). The generator is seeded, so the file it writes is the
same on every machine; it is committed so that the workload is reviewed, not re-rolled.

Each line is one action: `action`, the target (`project`, `file`, `symbol`, its first `line` in
the pinned version), an optional `tier` override, an optional `edit` applied to the workspace
before it (`reformat`: blank line and trailing spaces after the signature; `move`: the
function cut and pasted at the end of its file; `copy`: pasted at the end of another file of the
same package, and the action asked on the copy), what the user did with the answer (`after`:
"applied", "declined" or nothing) and, for corpus reviews and designs, the `stakes` label.

The mix (docs/routing.md, "The cost replay", says why): first asks are 31% docstrings, 24%
explains, 14% renames, 21% reviews and 10% designs; one action in seven is a labelled
high-stakes review or design; a third of all actions are repeats.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

from tests.routing.corpus import Case, load_cases, project_root, qualified_names
from tierwise.context.extract import load

WORKLOAD = Path(__file__).with_name("replay.jsonl")
SEED = 10
# First asks per action, and how many of the reviews and designs are labelled high-stakes.
FIRST = {"docstring": 130, "explain": 100, "rename": 60, "review": 90, "design": 40}
HIGH = {"review": 45, "design": 12}
# Repeats, by kind: the same action asked again on a target asked before.
REPEATS = {"rerun": 70, "declined_rerun": 20, "reformat": 50, "move": 40, "copy": 40}
OVERRIDES = 10  # first asks where the user picked a tier by hand


def _movable(source: str, path: str) -> dict[str, int]:
    """Top-level functions without decorators (cut and pasted whole) -> their first line."""
    parsed = load(path, source)
    lines = source.split("\n")
    out: dict[str, int] = {}
    for definition, name in zip(parsed.parsed.definitions, qualified_names(parsed), strict=True):
        start = definition.span.start_line
        if definition.parent is not None or definition.kind != "function" or definition.indent:
            continue
        if start > 0 and lines[start - 1].lstrip().startswith("@"):
            continue
        out[name] = start + 1
    return out


def _definitions(project: str, file: str) -> list[tuple[str, int, str]]:
    """(qualified name, first line, kind) of every function and method of a corpus file."""
    path = project_root(project) / file
    parsed = load(str(path), path.read_text(encoding="utf-8"))
    return [
        (name, d.span.start_line + 1, d.kind)
        for d, name in zip(parsed.parsed.definitions, qualified_names(parsed), strict=True)
        if d.kind in ("function", "method")
    ]


def _entry(
    case: Case | None, project: str, file: str, symbol: str, line: int, action: str
) -> dict[str, Any]:
    stakes = case.stakes if case is not None and case.action == action else None
    return {
        "action": action,
        "project": project,
        "file": file,
        "symbol": symbol,
        "line": line,
        "tier": None,
        "edit": None,
        "after": None,
        "stakes": "high" if stakes == "high" and action in ("review", "design") else None,
        "kind": "first",
    }


def build() -> list[dict[str, Any]]:
    """The workload, deterministic for SEED."""
    rng = random.Random(SEED)
    cases = load_cases()
    files = sorted({(c.project, c.file) for c in cases})
    defs = {f: _definitions(*f) for f in files}
    by_target = {(c.project, c.file, c.symbol, c.line, c.action): c for c in cases}
    firsts: list[dict[str, Any]] = []
    taken: set[tuple[str, str, str, str]] = set()
    for action in ("review", "design"):
        high = [c for c in cases if c.stakes == "high" and c.action in ("review", "design")]
        for case in rng.sample(high, HIGH[action]):
            if (case.project, case.file, case.symbol, action) in taken:
                continue
            taken.add((case.project, case.file, case.symbol, action))
            labelled = by_target.get((case.project, case.file, case.symbol, case.line, action))
            entry = _entry(labelled, case.project, case.file, case.symbol, case.line, action)
            entry["stakes"] = "high"  # a high-stakes function is high stakes to design too
            firsts.append(entry)
    high_keys = {(c.project, c.file, c.symbol) for c in cases if c.stakes == "high"}
    for action, count in FIRST.items():
        have = sum(e["action"] == action for e in firsts)
        pool = [
            (f, name, line)
            for f in files
            for name, line, _kind in defs[f]
            if (f[0], f[1], name, action) not in taken
            # Reviews and designs of labelled high-stakes code are the labelled ones above.
            and not (action in ("review", "design") and (f[0], f[1], name) in high_keys)
        ]
        for (project, file), name, line in rng.sample(pool, count - have):
            taken.add((project, file, name, action))
            found = by_target.get((project, file, name, line, action))
            firsts.append(_entry(found, project, file, name, line, action))
    rng.shuffle(firsts)
    for entry in rng.sample(firsts, OVERRIDES):
        entry["tier"] = rng.choice(["mid", "frontier", "budget"])
    for entry in firsts:
        if entry["action"] in ("docstring", "rename", "review"):
            entry["after"] = "applied" if rng.random() < 0.8 else "declined"
    repeats = _repeats(rng, firsts)
    # Repeats come after the ask they repeat: insert each at a random later position.
    out = list(firsts)
    for origin, repeat in repeats:
        start = out.index(origin) + 1
        out.insert(rng.randint(start, len(out)), repeat)
    return out


def _repeats(
    rng: random.Random, firsts: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    out: list[tuple[dict[str, Any], dict[str, Any]]] = []
    movable_cache: dict[tuple[str, str], dict[str, int]] = {}

    def movable(project: str, file: str) -> dict[str, int]:
        if (project, file) not in movable_cache:
            path = project_root(project) / file
            movable_cache[(project, file)] = _movable(path.read_text(encoding="utf-8"), str(path))
        return movable_cache[(project, file)]

    used: set[int] = set()
    files_by_project: dict[str, list[str]] = {}
    for e in firsts:
        files_by_project.setdefault(e["project"], [])
        if e["file"] not in files_by_project[e["project"]]:
            files_by_project[e["project"]].append(e["file"])
    for kind, count in REPEATS.items():
        candidates = [
            e
            for e in firsts
            if id(e) not in used
            and e["tier"] is None
            and (kind != "rerun" or e["after"] != "declined")
            and (kind != "declined_rerun" or e["after"] == "declined")
            and (kind not in ("move", "copy") or e["symbol"] in movable(e["project"], e["file"]))
            and (
                kind != "copy"
                or any(
                    f != e["file"] and Path(f).suffix == Path(e["file"]).suffix
                    for f in files_by_project[e["project"]]
                )
            )
        ]
        for origin in rng.sample(candidates, min(count, len(candidates))):
            used.add(id(origin))
            repeat = dict(origin, kind=kind, edit=None)
            if kind in ("reformat", "move"):
                repeat["edit"] = {"kind": kind}
            elif kind == "copy":
                others = [
                    f
                    for f in files_by_project[origin["project"]]
                    if f != origin["file"] and Path(f).suffix == Path(origin["file"]).suffix
                ]
                repeat["edit"] = {"kind": "copy", "to": rng.choice(others)}
            if repeat["action"] in ("docstring", "rename", "review"):
                repeat["after"] = "applied"
            out.append((origin, repeat))
    return out


def main() -> None:
    """Write bench/replay.jsonl and print its mix."""
    workload = build()
    with WORKLOAD.open("w", encoding="utf-8") as out:
        for n, entry in enumerate(workload):
            out.write(json.dumps({"n": n, **entry}) + "\n")
    print(f"{len(workload)} actions -> {WORKLOAD}")
    print(Counter(e["action"] for e in workload))
    print(Counter(e["kind"] for e in workload))
    print("labelled high-stakes:", sum(e["stakes"] == "high" for e in workload))


if __name__ == "__main__":
    main()
