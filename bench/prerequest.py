"""Pre-provider cost (extract, signals, route, cache lookup) on real files of about 50, 300 and
2,000 lines, against a full `ast.parse` of the same file and a raw diskcache get.

Run: .venv-dev/bin/python -m bench.prerequest [--repeat N]

"text just edited" gives the engine a new text on every call (one statement typed into the
target), as the first request after an edit sees it; "text unchanged" asks again on the same
text, as code-action requests after cursor moves do. No model is called.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import tempfile
from pathlib import Path

import diskcache

from bench import realfiles
from bench.timing import sample, table
from tierwise.config import Config
from tierwise.context.extract import load
from tierwise.core.task import Action
from tierwise.engine import Engine
from tierwise.handlers.registry import get_handler
from tierwise.routing.signals import compute_signals


def pre_provider(engine: Engine, path: str, text: str, line: int) -> None:
    """What a run does before it would call a provider: build, route, look up the cache."""
    task = engine.build_task(Action.REVIEW, path, text, line, 8)
    decision = engine.decide(task)
    cache = engine.cache
    assert cache is not None
    keys = engine.cache_keys(task, get_handler(Action.REVIEW), decision)
    cache.get_first(keys)


def measure(file: realfiles.RealFile, repeat: int, tmp: Path) -> str:
    """The table for one file."""
    engine = Engine(Config(), workspace_root=str(file.path.parent))
    path, text, line = str(file.path), file.text, file.line
    raw = diskcache.Cache(str(tmp / f"raw-{file.lines}"))
    raw.set("key", json.dumps({"pad": "x" * 2000}))

    texts = [realfiles.edited(file, 20_000 + i) for i in range(repeat + 10)]

    def edited_prepared() -> None:
        # The same, with the new text made before the clock starts (no string building).
        pre_provider(engine, path, texts.pop(), line + 1)

    task = engine.build_task(Action.REVIEW, path, text, line, 8)
    signals = compute_signals(task.context)
    parsed = load(path, text)
    edits = [realfiles.edited(file, 10_000 + i) for i in range(repeat + 10)]

    def incremental() -> None:
        fresh = load(path, edits.pop(), previous=parsed)
        assert fresh.backend == "python"

    rows = [
        (f"ast.parse of the file (floor, {file.label})", sample(lambda: ast.parse(text), repeat)),
        ("raw diskcache get, 2 KB JSON (floor)", sample(lambda: raw.get("key"), repeat)),
        ("pre-provider, text just edited", sample(edited_prepared, repeat)),
        (
            "pre-provider, text unchanged",
            sample(lambda: pre_provider(engine, path, text, line), repeat),
        ),
        (
            "Engine.decide, signals given",
            sample(lambda: engine.decide(task, signals=signals), repeat),
        ),
        (
            "full parse: ast + ParsedFile (what an edit cost)",
            sample(lambda: load(path, text), repeat),
        ),
        ("incremental parse after one edit", sample(incremental, repeat)),
    ]
    raw.close()
    engine.stores.close()
    base = rows[0][0]
    ratios = "\n".join(
        f"  {name}: {_ratio(rows, name, rows[1][0])} of a raw diskcache get" for name, _ in rows[2:]
    )
    return table(f"pre-provider work, {file.path.name} ({file.label})", rows, base, extra=ratios)


def _ratio(rows: list[tuple[str, list[float]]], name: str, floor: str) -> str:
    import statistics

    from bench.timing import quantile

    a, b = dict(rows)[name], dict(rows)[floor]
    return (
        f"{statistics.median(a) / statistics.median(b):.1f}x median,"
        f" {quantile(a, 0.99) / quantile(b, 0.99):.1f}x p99"
    )


def main(argv: list[str] | None = None) -> None:
    """Print one table per file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TIERWISE_DATA_DIR"] = str(Path(tmp) / "data")
        os.environ["TIERWISE_CACHE_DIR"] = str(Path(tmp) / "cache")
        files = (realfiles.small(), realfiles.medium(), realfiles.large())
        print("\n\n".join(measure(f, args.repeat, Path(tmp)) for f in files))


if __name__ == "__main__":
    main()
