"""Routing decision time for a 300-line file, against parsing the same file with `ast`.

Run: .venv-dev/bin/python -m bench.routing [--repeat N]
"""

from __future__ import annotations

import argparse
import ast
import os
import tempfile
from pathlib import Path

from bench.timing import sample, table
from tierwise.config import Config
from tierwise.context.extract import extract, extract_all
from tierwise.core.task import Action
from tierwise.engine import Engine
from tierwise.routing.signals import compute_signals

FILE = Path(__file__).resolve().parent.parent / "tests" / "data" / "large_module.py"


def main() -> None:
    """Print the routing benchmark table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # No keys and throwaway dirs: routing must not depend on either.
        os.environ["TIERWISE_DATA_DIR"] = str(Path(tmp) / "data")
        os.environ["TIERWISE_CACHE_DIR"] = str(Path(tmp) / "cache")
        engine = Engine(Config(), workspace_root=str(FILE.parent))
        source = FILE.read_text(encoding="utf-8")
        lines = source.count("\n")
        # A method near the end of the file: the extractor has to see the whole module.
        line = max(c.target.span.start_line for c in extract_all(str(FILE), source)) + 1
        path = str(FILE)

        def decide_unchanged() -> None:
            task = engine.build_task(Action.REVIEW, path, source, line, 8)
            engine.decide(task)

        # Two texts that differ in one trailing newline: alternating them defeats the engine's
        # parse reuse, so every call pays the full parse (the first request on an edited file).
        texts = [source, source + "\n"]

        def decide_edited() -> None:
            texts.reverse()
            task = engine.build_task(Action.REVIEW, path, texts[0], line, 8)
            engine.decide(task)

        task = engine.build_task(Action.REVIEW, path, source, line, 8)
        signals = compute_signals(task.context)

        def plan_file() -> None:
            for ctx in extract_all(path, source):
                engine.decide(engine.task_for(Action.REVIEW, ctx))

        n = args.repeat
        rows = [
            ("ast.parse of the file (baseline)", sample(lambda: ast.parse(source), n)),
            ("extract target + context", sample(lambda: extract(path, source, line, 8), n)),
            ("compute_signals (target only)", sample(lambda: compute_signals(task.context), n)),
            (
                "decide (signals given: policy only)",
                sample(lambda: engine.decide(task, signals=signals), n),
            ),
            ("route review, file just edited (full parse)", sample(decide_edited, n)),
            ("route review, file unchanged (parse reused)", sample(decide_unchanged, n)),
            (
                f"plan whole file ({len(extract_all(path, source))} targets)",
                sample(plan_file, max(10, n // 20)),
            ),
        ]
        print(
            table(f"routing: {FILE.name}, {lines} lines", rows, "ast.parse of the file (baseline)")
        )


if __name__ == "__main__":
    main()
