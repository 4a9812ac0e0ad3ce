"""A request's own CPU before its provider call, piece by piece, on the burst's fifty targets:
the cache key's normal form and the question's secret scan, each against the reading it
replaced (pass 7, issue 8), in one process.

Run: .venv-dev/bin/python -m bench.request_cpu [--repeat N]

The targets are bench.concurrency's: a line in each of fifty functions of the 523- and the
2,038-line file, extracted as the server extracts them. "before" is the tokenizer-only normal
form with the formatter rules as they were (tests/unit/test_python_scan.py keeps both) and the
secret scan with every rule run on the whole text (tests/unit/test_redaction_gates.py); each
row is the time for all fifty, and the ratio is to the "before" row of its piece.
"""

from __future__ import annotations

import argparse

from bench import realfiles
from bench.concurrency import function_lines
from bench.timing import sample, table
from tests.unit.test_python_scan import reference_normal_form
from tests.unit.test_redaction_gates import detect_everywhere
from tierwise.cache.keys import normalise
from tierwise.config import Config
from tierwise.core.task import Action
from tierwise.engine import Engine
from tierwise.handlers.registry import get_handler
from tierwise.privacy import redaction


def burst_inputs(file: realfiles.RealFile, runs: int = 50) -> tuple[list[str], list[str]]:
    """The targets' texts and the explain questions of the burst's requests."""
    engine = Engine(Config(), workspace_root=str(file.path.parent))
    handler = get_handler(Action.EXPLAIN)
    targets, questions = [], []
    for line in function_lines(file.text, runs):
        task = engine.build_task(Action.EXPLAIN, str(file.path), file.text, line, 8)
        targets.append(task.context.target.text)
        questions.append(handler.build_prompt(task).question)
    return targets, questions


def measure(file: realfiles.RealFile, repeat: int) -> str:
    """The two pieces' tables for one file."""
    targets, questions = burst_inputs(file)
    for text in targets:  # the same keys, or nothing here is worth timing
        assert normalise("python", text) == reference_normal_form(text)
    for text in questions:
        assert list(redaction._detect(text)) == list(detect_everywhere(text))
    before, after = f"normal form, before ({file.label})", f"normal form ({file.label})"
    rows = [
        (before, sample(lambda: [reference_normal_form(t) for t in targets], repeat)),
        (after, sample(lambda: [normalise("python", t) for t in targets], repeat)),
    ]
    scan_before, scan_after = (
        f"question's secret scan, before ({file.label})",
        f"question's secret scan ({file.label})",
    )
    scans = [
        (
            scan_before,
            sample(lambda: [list(detect_everywhere(q)) for q in questions], repeat),
        ),
        (scan_after, sample(lambda: [list(redaction._detect(q)) for q in questions], repeat)),
    ]
    chars = sum(map(len, targets))
    return "\n\n".join(
        [
            table(f"fifty targets' normal forms ({chars:,} characters)", rows, before),
            table("fifty questions' secret scans", scans, scan_before),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    """Print the tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    print("\n\n".join(measure(f, args.repeat) for f in (realfiles.mid_large(), realfiles.large())))


if __name__ == "__main__":
    main()
