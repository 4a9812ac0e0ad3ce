"""Secret redaction, measured on what reaches a model: recall over the corpus of secrets in code
and false positives over its look-alikes (tests/secrets_corpus.py), by kind.

Each case is a small module sent through the engine (explain, budget tier) to the local wire
fake via the official Anthropic SDK; a secret counts as missed when its value arrives, a
look-alike as a false positive when its value does not.

Run: .venv-dev/bin/python -m bench.secrets [--by-kind]
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections import defaultdict

from tests.fakes.wire import FakeProvider
from tests.secrets_corpus import (
    Case,
    Measured,
    engine_for,
    heldout_lookalikes,
    heldout_secrets,
    lookalikes,
    measure,
    secrets,
)


def _row(name: str, measured: Measured, what: str) -> str:
    wrong, total = len(measured.wrong), len(measured.cases)
    right = total - wrong
    share = right / total if what == "recall" else wrong / total
    figure = f"{right}/{total}" if what == "recall" else f"{wrong}/{total}"
    return f"| {name} | {what} | {figure} | {share:.1%} |"


async def _run(by_kind: bool) -> None:
    os.environ.setdefault("ANTHROPIC_API_KEY", "sk-bench-not-a-key")
    with FakeProvider() as fake:
        fake.responder = lambda _body: "## What it does\n\nIt wires a client."
        engine = engine_for(fake.anthropic_base_url)
        try:
            groups = [
                ("corpus secrets", secrets(), True),
                ("corpus look-alikes", lookalikes(), False),
                ("held-out secrets", heldout_secrets(), True),
                ("held-out look-alikes", heldout_lookalikes(), False),
            ]
            results = [
                (name, await measure(engine, fake, cases, secret=is_secret), is_secret)
                for name, cases, is_secret in groups
            ]
        finally:
            await engine.aclose()
    print("| cases | figure | count | rate |")
    print("|---|---|---|---|")
    for name, measured, is_secret in results:
        print(_row(name, measured, "recall" if is_secret else "false positives"))
    for name, measured, _ in results:
        for case in measured.wrong:
            print(f"  {name}: {case.target} ({case.kind})")
    if by_kind:
        print("\n| kind | cases | wrong |")
        print("|---|---|---|")
        kinds: dict[str, list[Case]] = defaultdict(list)
        wrong = {c.target for _, m, _ in results for c in m.wrong}
        for _, measured, _ in results:
            for case in measured.cases:
                kinds[case.kind].append(case)
        for kind, cases in sorted(kinds.items()):
            print(f"| {kind} | {len(cases)} | {sum(c.target in wrong for c in cases)} |")


def main() -> None:
    """Print recall and false positives."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--by-kind", action="store_true", help="also a table by kind")
    args = parser.parse_args()
    asyncio.run(_run(args.by_kind))


if __name__ == "__main__":
    main()
