"""Route every corpus case through the real engine and compare with its labels.

    .venv-dev/bin/python -m tests.routing.evaluate            # the tuning part
    .venv-dev/bin/python -m tests.routing.evaluate --part held

Two configurations are routed: cloud tiers only (an API key, no local server), and the same
with a `local` tier. Nothing is sent anywhere: routing is pure, the key is a placeholder.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs

from tests.routing.corpus import Case, load_cases, locate
from tierwise.config import Config, ProviderConfig
from tierwise.context.extract import SourceFile
from tierwise.core.tiers import Tier
from tierwise.engine import Engine

TIERS = [t.label for t in Tier]


@attrs.frozen
class Routed:
    """One case routed in one configuration."""

    case: Case
    config: str  # "cloud" | "local"
    tier: Tier
    reasons: tuple[str, ...]

    @property
    def under(self) -> bool:
        """Below the lowest acceptable tier."""
        return self.tier < self.case.min_tier

    @property
    def over(self) -> bool:
        """Above the highest sensible tier."""
        return self.tier > self.case.max_tier


def engine_config(local: bool, root: Path) -> Config:
    """The default configuration, throwaway directories, and a local server when asked."""
    config = Config()
    config.cache.dir = str(root / "cache")
    config.ledger.path = str(root / "ledger.sqlite3")
    if local:
        config.providers["local"] = ProviderConfig(
            kind="openai", base_url="http://127.0.0.1:9/v1", api_key_env=None, local=True
        )
    return config


@contextmanager
def engines() -> Iterator[dict[str, Engine]]:
    """A cloud-only and a cloud+local engine (a placeholder key: nothing is called)."""
    saved = os.environ.get("ANTHROPIC_API_KEY")
    os.environ["ANTHROPIC_API_KEY"] = "sk-ant-placeholder-for-routing-only"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            built = {
                name: Engine(engine_config(name == "local", Path(tmp) / name))
                for name in ("cloud", "local")
            }
            try:
                yield built
            finally:
                for engine in built.values():
                    engine.close()
    finally:
        if saved is None:
            os.environ.pop("ANTHROPIC_API_KEY", None)
        else:
            os.environ["ANTHROPIC_API_KEY"] = saved


def route_cases(cases: list[Case], engine: Engine, config: str) -> list[Routed]:
    """Route each case as an editor request at its definition's name."""
    parsed: dict[Path, SourceFile] = {}
    out: list[Routed] = []
    for case in cases:
        at = locate(case, parsed)
        task = engine.build_task(case.action, str(at.path), at.source, at.line, at.col)
        decision = engine.decide(task)
        out.append(Routed(case, config, decision.tier, decision.reasons))
    return out


def confusion(rows: list[Routed]) -> str:
    """A markdown table: expected (the case's min..max) against routed, case counts."""
    counts = Counter((f"{r.case.min}..{r.case.max}", r.tier.label) for r in rows)
    expected = sorted({e for e, _ in counts}, key=lambda e: [TIERS.index(x) for x in e.split("..")])
    lines = [
        "| expected min..max | " + " | ".join(TIERS) + " | under | over |",
        "|---" * (len(TIERS) + 3) + "|",
    ]
    for label in expected:
        row = [r for r in rows if f"{r.case.min}..{r.case.max}" == label]
        cells = [str(counts.get((label, t), 0) or "") for t in TIERS]
        under = sum(r.under for r in row)
        over = sum(r.over for r in row)
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {under} | {over} |")
    return "\n".join(lines)


@attrs.frozen
class Score:
    """The counts the corpus test judges."""

    cases: int
    high: int
    high_under: int
    under: int
    capped: int  # cases whose max is below frontier (they can be over-routed)
    over: int

    @property
    def over_share(self) -> float:
        """Over-routed share of the cases that can be over-routed."""
        return self.over / self.capped if self.capped else 0.0


def score(rows: list[Routed]) -> Score:
    """Under- and over-routing counts of routed cases."""
    capped = [r for r in rows if r.case.max_tier < Tier.FRONTIER]
    return Score(
        cases=len(rows),
        high=sum(r.case.stakes == "high" for r in rows),
        high_under=sum(r.under and r.case.stakes == "high" for r in rows),
        under=sum(r.under for r in rows),
        capped=len(capped),
        over=sum(r.over for r in capped),
    )


def main() -> None:
    """Print the scores, the confusion tables and every miss of one part of the corpus."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--part", choices=("tune", "held", "all"), default="tune")
    args = parser.parse_args()
    cases = [c for c in load_cases() if args.part == "all" or c.split == args.part]
    with engines() as built:
        for name, engine in built.items():
            rows = route_cases(cases, engine, name)
            s = score(rows)
            print(f"\n## {args.part} part, {name}: {s.cases} cases")
            print(
                f"high-stakes under-routed {s.high_under}/{s.high}; under-routed {s.under}; "
                f"over-routed {s.over}/{s.capped} capped cases ({s.over_share:.0%})"
            )
            print(confusion(rows))
            for r in rows:
                if r.under or r.over:
                    mark = "UNDER" if r.under else "OVER"
                    print(f"  {mark} {r.case.id} -> {r.tier.label}: {'; '.join(r.reasons)}")


if __name__ == "__main__":
    main()
