"""The first-tier pass rate of a real small model's answers against the checks of section 3.

    bash scripts/local-model.sh && python -m bench.local_model        # SmolLM2-135M, 48 each
    python -m bench.local_model --n 40 --actions docstring
    python -m bench.local_model --base-url http://127.0.0.1:8080/v1 --model qwen2.5-coder:1.5b

Asks the local tier (`--tier local`: the answer measured is the local model's own, never a
retry's) for a docstring and a rename of each of the first N distinct definitions of the
routing corpus (real functions from its pinned PyPI sdists, npm packages and Go sources,
fetched by tests/realcode.py), through the real engine, built from a user config file. Prints,
per action: how many replies parsed into a result (the rest were a BadResponse), how many
passed the action's check (handlers/checks.py), the failures by check name, how many verified
answers an independent judge (tests/local_model/harness.py `problems`) still finds fault with,
and the latency median and p99. Temperature 0 (tierwise's default), the server's seed fixed
and one thread, and no cache: the figures reproduce on the same machine and model.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import attrs

from bench.timing import quantile
from tests.local_model.harness import Attempt, Target, attempt, build, engine_from, problems
from tests.local_model.harness import targets as corpus_targets
from tests.local_model.llama import LlamaServer, installed, local_tier_toml
from tierwise.core.errors import BadResponse, Truncated, UsageError
from tierwise.engine import Engine

LANGUAGES = ("python", "javascript", "typescript", "go")


@attrs.frozen
class Row:
    """One action's figures."""

    action: str
    n: int
    parsed: int
    passed: int
    failed: Counter[str]
    errors: Counter[str]  # BadResponse and other failures, by their first words
    judged_bad: int  # verified answers the independent judge still rejects
    estimated: int  # ledger rows whose tokens are estimates
    seconds: list[float]


def usable(engine: Engine, action: str, pool: list[Target], n: int) -> list[Target]:
    """The first n targets the action accepts (a one-line `def f(): ...` is refused up front)."""
    out: list[Target] = []
    for target in pool:
        try:
            build(engine, action, target, tier="local")
        except UsageError:
            continue
        out.append(target)
        if len(out) == n:
            break
    return out


def _error_kind(error: Exception) -> str:
    """A short name for a failure: the handler's reason, or the error's kind."""
    if isinstance(error, Truncated):
        return "cut at the output limit twice"
    if isinstance(error, BadResponse):
        text = str(error)
        for cut in ("; expected", " for '"):
            text = text.split(cut)[0]
        return text[:80]
    return type(error).__name__


def summarise(action: str, attempts: list[Attempt]) -> Row:
    """The row of one action."""
    failed: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    parsed = passed = judged_bad = estimated = 0
    for a in attempts:
        estimated += sum(int(row["usage_estimated"]) for row in a.rows)
        if a.error is not None or a.outcome is None:
            errors[_error_kind(a.error) if a.error else "no outcome"] += 1
            continue
        parsed += 1
        if a.outcome.verified:
            passed += 1
            judged_bad += bool(problems(a.task, a.outcome.result))
        elif a.outcome.failed_check is not None:
            failed[a.outcome.failed_check.name] += 1
    return Row(
        action,
        len(attempts),
        parsed,
        passed,
        failed,
        errors,
        judged_bad,
        estimated,
        [a.seconds for a in attempts],
    )


@contextmanager
def local_server(base_url: str | None, model: str | None) -> Iterator[tuple[str, str]]:
    """(base_url, model id): the given server, or SmolLM2 started from scripts/local-model.sh."""
    if base_url:
        yield base_url, model or "default"
        return
    found = installed()
    if found is None:
        raise SystemExit("no local model: run bash scripts/local-model.sh, or pass --base-url")
    with LlamaServer(found) as server:
        yield server.base_url, server.model_id


def table(rows: list[Row]) -> str:
    """The markdown table of the figures."""
    out = [
        "| action | n | parsed | passed checks | failed, by check | BadResponse | verified but"
        " judged bad | median s | p99 s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        failed = ", ".join(f"{name} {n}" for name, n in r.failed.most_common()) or "-"
        errors = ", ".join(f"{kind} {n}" for kind, n in r.errors.most_common()) or "-"
        share = f"{r.passed} ({r.passed / r.n:.0%})" if r.n else "0"
        out.append(
            f"| {r.action} | {r.n} | {r.parsed} | {share} | {failed} | {errors} |"
            f" {r.judged_bad} | {statistics.median(r.seconds):.1f} |"
            f" {quantile(r.seconds, 0.99):.1f} |"
        )
    return "\n".join(out)


def main() -> None:
    """Run the measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=48, help="targets per action (default 48)")
    parser.add_argument("--actions", default="docstring,rename", help="comma-separated")
    parser.add_argument("--base-url", help="an OpenAI-compatible server (default: start SmolLM2)")
    parser.add_argument("--model", help="the model id at --base-url")
    args = parser.parse_args()
    actions = [a.strip() for a in args.actions.split(",") if a.strip()]
    pool = corpus_targets(languages=LANGUAGES)
    with (
        local_server(args.base_url, args.model) as (url, model),
        tempfile.TemporaryDirectory(prefix="tierwise-bench-local-") as tmp,
    ):
        engine = engine_from(local_tier_toml(url, model), Path(tmp) / "engine")
        picked = {action: usable(engine, action, pool, args.n) for action in actions}

        async def go() -> list[Row]:
            rows = []
            try:
                for action in actions:
                    done = [await attempt(engine, action, t, tier="local") for t in picked[action]]
                    rows.append(summarise(action, done))
            finally:
                await engine.aclose()
            return rows

        rows = asyncio.run(go())
    print(
        f"# local model first-tier pass rate ({date.today().isoformat()}, {Path(model).name},"
        f" {len(pool)} distinct corpus definitions, temperature 0, seed 0, 1 thread)\n"
    )
    print(table(rows))
    total = sum(r.n for r in rows)
    print(f"\nledger rows with estimated tokens: {sum(r.estimated for r in rows)} of {total}")


if __name__ == "__main__":
    main()
