"""`tierwise plan` with no local model configured: each row on the assumed local tier carries
its route without one, and the summary gives the total and the saving a user with cloud keys
only would see (text and JSON), the same when the rows come from memory.

The expected figures are computed here from `Engine.decide` on each target alone, not from
the rows' own `without_local`."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tierwise import report
from tierwise.cache.plan_rows import FILE_NAME, PlanRows
from tierwise.cli import plan
from tierwise.cli.sources import iter_sources
from tierwise.config import Config, PrivacyConfig
from tierwise.context import extract
from tierwise.core.errors import TierwiseError
from tierwise.core.task import Action
from tierwise.core.tiers import Tier
from tierwise.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ACTIONS = [Action.DOCSTRING, Action.REVIEW, Action.EXPLAIN]
BUDGET = 2000
LINE = re.compile(
    r"without a local model  (\$[\d.]+)  "
    r"\(routing saves (\d+)%; the (\d+) local requests? on (.*)\)"
)


@pytest.fixture(autouse=True)
def _no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def _engine(config: Config | None = None) -> Engine:
    return Engine(config or Config(), workspace_root=str(ROOT))


def _rows(engine: Engine, memory: PlanRows | None = None) -> list[dict[str, Any]]:
    files = [path.resolve() for path in iter_sources(EXAMPLES)]
    bar = plan.ProgressBar(len(files), enabled=False)
    results = plan.plan_files(engine, files, ACTIONS, BUDGET, bar, memory=memory)
    return [row for rows, _ in results for row in rows]


def _reference(engine: Engine) -> dict[tuple[str, int, str], Any]:
    """Each target's decision with no local tier assumed, routed alone: (file, line, action)."""
    out = {}
    for path in iter_sources(EXAMPLES):
        shown = report.display_path(path.resolve())
        for ctx in extract.extract_all(str(path), path.read_text(encoding="utf-8")):
            for action in ACTIONS:
                try:
                    task = engine.task_for(action, ctx)
                except TierwiseError:
                    continue
                line = ctx.target.span.start_line + 1
                out[shown, line, action.value] = engine.decide(
                    task, assume_available=True, assume_local=False
                )
    return out


def _expected(rows: list[dict[str, Any]], engine: Engine) -> dict[str, Any]:
    """The without-local figures from the rows' own tiers and the reference decisions."""
    reference = _reference(engine)
    total, refused, assumed = 0.0, 0, 0
    tiers: dict[Tier, int] = {}
    for row in rows:
        if row["tier"] != "local":
            total += row["estimate_usd"]
            continue
        assumed += 1
        bare = reference[row["file"], row["line"], row["action"]]
        assert bare.tier is not Tier.LOCAL or bare.refused
        if bare.refused:
            refused += 1
        else:
            total += bare.estimate_usd
            tiers[bare.tier] = tiers.get(bare.tier, 0) + 1
    frontier = sum(row["frontier_usd"] for row in rows)
    return {
        "total": total,
        "saving": 1 - total / frontier,
        "tiers": {t.label: n for t, n in sorted(tiers.items())},
        "refused": refused,
        "assumed": assumed,
    }


def test_the_summary_without_a_local_model_is_the_rows_routed_with_no_local_tier() -> None:
    engine = _engine()
    rows = _rows(engine)
    expected = _expected(rows, engine)
    summary = report.plan_summary(rows, engine, 1.0)
    assert expected["assumed"] > 10 and summary["local_assumed"] == expected["assumed"]
    assert summary["without_local_usd"] == pytest.approx(expected["total"])
    assert summary["without_local_saving_vs_frontier"] == pytest.approx(expected["saving"])
    assert summary["without_local_tiers"] == expected["tiers"]
    assert summary["without_local_refused"] == summary["without_local_refused_local_only"] == 0
    # Without local the plan costs more, and saves less, than with the assumed one.
    assert summary["without_local_usd"] > summary["routed_usd"]
    assert summary["without_local_saving_vs_frontier"] < summary["saving_vs_frontier"]
    # Only rows on the assumed local carry a route without it.
    assert all(("without_local" in row) == (row["tier"] == "local") for row in rows)

    text = report.plan_text(rows, summary).split("\n")
    found = [LINE.fullmatch(line) for line in text if line.startswith("without a local")]
    assert len(found) == 1 and found[0] is not None
    total, saving, count, moved = found[0].groups()
    assert total == report.usd(expected["total"])
    assert int(saving) == round(100 * expected["saving"])
    assert int(count) == expected["assumed"]
    assert moved == ", ".join(f"{tier} {n}" for tier, n in expected["tiers"].items())
    assert (
        text.index(found[0].group(0)) == text.index(next(t for t in text if "all-budget" in t)) + 1
    )


def test_a_local_only_path_is_never_priced_on_a_cloud_tier() -> None:
    privacy = PrivacyConfig(local_only=["examples/shop/utils.py"])
    engine = _engine(Config(privacy=privacy))
    rows = _rows(engine)
    expected = _expected(rows, engine)
    utils = [row for row in rows if row["file"].endswith("shop/utils.py")]
    assert utils and all(row["tier"] == "local" for row in utils)
    for row in utils:
        bare = row["without_local"]
        assert bare["tier"] in ("static", "local") and bare["estimate_usd"] == 0, row
        # Review and docstring have a static implementation; explain needs a model.
        assert (bare["refused"] is None) == (row["action"] != "explain"), row
    summary = report.plan_summary(rows, engine, 1.0)
    explains = sum(row["action"] == "explain" for row in utils)
    assert summary["without_local_refused"] == expected["refused"] == explains > 0
    assert summary["without_local_refused_local_only"] == explains
    assert summary["without_local_usd"] == pytest.approx(expected["total"])
    text = report.plan_text(rows, summary)
    assert f"; {explains} refused)" in text
    assert (
        f"  {explains} refused (counted at $0): {explains} on local_only paths, which only a"
        " local model may see"
    ) in text.split("\n")


def test_the_run_after_from_memory_prints_the_same_figures(tmp_path: Path) -> None:
    engine = _engine()
    memory = PlanRows(tmp_path / "cache")
    first = _rows(engine, memory)
    second = _rows(engine, memory)
    assert second == first
    texts = [report.plan_text(r, report.plan_summary(r, engine, 1.0)) for r in (first, second)]
    assert texts[0] == texts[1] and "without a local model" in texts[1]
    # The second run did read the memory, without_local and all: altered there, it changes.
    with sqlite3.connect(tmp_path / "cache" / FILE_NAME) as db:
        db.execute(
            'UPDATE rows SET value = replace(value, \'"without_local": {"tier": "budget", '
            '"estimate_usd": \', \'"without_local": {"tier": "budget", "estimate_usd": 1\')'
        )
    altered = report.plan_summary(_rows(engine, memory), engine, 1.0)
    assert (
        altered["without_local_usd"]
        > 1 + report.plan_summary(first, engine, 1.0)["without_local_usd"]
    )
