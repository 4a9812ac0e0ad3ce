"""`tierwise plan` remembers rows by file content: a re-run on an unchanged tree gives the
rows a fresh plan gives, reads them from the memory, plans a changed file again, and uses no
memory when an earlier run's rows could be wrong (spend caps, recent requests)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.realcode import sdist
from tierwise.cache.plan_rows import FILE_NAME, PlanRows, forget_all
from tierwise.cli import plan
from tierwise.config import Config
from tierwise.core.task import Action
from tierwise.engine import Engine
from tierwise.ledger import LedgerRow

ACTIONS = [Action.DOCSTRING, Action.REVIEW]
BUDGET = 2000


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TIERWISE_DATA_DIR", str(tmp_path / "data"))
    copied = tmp_path / "tree"
    shutil.copytree(sdist("requests") / "src" / "requests", copied)
    return copied


def _plan(
    engine: Engine, files: list[Path], memory: PlanRows | None
) -> list[tuple[list[dict[str, Any]], list[str]]]:
    bar = plan.ProgressBar(len(files), enabled=False)
    return list(plan.plan_files(engine, files, ACTIONS, BUDGET, bar, memory=memory))


def test_an_unchanged_tree_gets_the_fresh_rows_from_memory(tree: Path, tmp_path: Path) -> None:
    files = sorted(tree.rglob("*.py"))
    engine = Engine(Config(), workspace_root=str(tmp_path))
    fresh = [plan.plan_file(engine, path, ACTIONS, BUDGET) for path in files]
    assert sum(len(rows) for rows, _ in fresh) > 200
    memory = PlanRows(tmp_path / "cache")
    assert _plan(engine, files, memory) == fresh  # the first run computes and remembers
    assert _plan(engine, files, memory) == fresh  # the second reads every file from memory
    # It did read them: a row altered in the database comes back as it was altered.
    with sqlite3.connect(tmp_path / "cache" / FILE_NAME) as db:
        (count,) = db.execute("SELECT count(*) FROM rows").fetchone()
        assert count == len(files)
        db.execute('UPDATE rows SET value = replace(value, \'"tier": "\', \'"tier": "x\')')
    altered = _plan(engine, files, memory)
    assert all(r["tier"].startswith("x") for rows, _ in altered for r in rows)
    # A changed file is planned again: its new function has rows, the others stay remembered.
    changed = tree / "hooks.py"
    changed.write_text(
        changed.read_text(encoding="utf-8") + "\n\ndef added_later(x):\n    return x\n",
        encoding="utf-8",
    )
    again = _plan(engine, files, memory)
    index = files.index(changed)
    names = {r["name"] for r in again[index][0]}
    assert "added_later" in names
    assert not any(r["tier"].startswith("x") for r in again[index][0])
    assert all(
        r["tier"].startswith("x") for i, (rows, _) in enumerate(again) if i != index for r in rows
    )
    memory.close()


def test_workers_give_one_process_rows_and_remember_them(tree: Path, tmp_path: Path) -> None:
    """On workers (from two files here), each file's rows come back as the text the memory
    keeps: the parent reads the rows from it and keeps it as it is."""
    files = sorted(tree.rglob("*.py"))
    engine = Engine(Config(), workspace_root=str(tmp_path))
    fresh = [plan.plan_file(engine, path, ACTIONS, BUDGET) for path in files]
    memory = PlanRows(tmp_path / "cache")
    bar = plan.ProgressBar(len(files), enabled=False)
    parallel = plan.plan_files(engine, files, ACTIONS, BUDGET, bar, parallel_from=2, memory=memory)
    assert list(parallel) == fresh
    with sqlite3.connect(tmp_path / "cache" / FILE_NAME) as db:
        kept = sorted(value for (value,) in db.execute("SELECT value FROM rows"))
    assert kept == sorted(json.dumps([rows, warnings]) for rows, warnings in fresh)
    assert _plan(engine, files, memory) == fresh  # read back from what the workers made
    memory.close()


def test_no_memory_with_spend_caps_or_a_request_in_the_escalation_window(
    tree: Path, tmp_path: Path
) -> None:
    capped = Config()
    capped.budget.daily_usd = 5.0
    assert plan.remembered_salt(Engine(capped), ACTIONS, BUDGET) is None
    team = Config()
    team.budget.team.daily_usd = 5.0
    assert plan.remembered_salt(Engine(team), ACTIONS, BUDGET) is None
    engine = Engine(Config(), workspace_root=str(tmp_path))
    assert plan.remembered_salt(engine, ACTIONS, BUDGET) is not None
    assert engine.ledger is not None
    engine.ledger.record(
        LedgerRow(action="review", language="python", tier="mid", model="m", provider="p")
    )
    assert plan.remembered_salt(engine, ACTIONS, BUDGET) is None
    # ... and then plan neither reads nor writes the memory.
    memory = PlanRows(tmp_path / "cache")
    files = sorted(tree.rglob("*.py"))[:3]
    _plan(engine, files, memory)
    with sqlite3.connect(tmp_path / "cache" / FILE_NAME) as db:
        assert db.execute("SELECT count(*) FROM rows").fetchone() == (0,)
    memory.close()


def test_the_salt_follows_actions_budget_and_configuration(tmp_path: Path) -> None:
    engine = Engine(Config(), workspace_root=str(tmp_path))
    base = plan.remembered_salt(engine, ACTIONS, BUDGET)
    assert base == plan.remembered_salt(engine, ACTIONS, BUDGET)
    assert base != plan.remembered_salt(engine, [Action.REVIEW], BUDGET)
    assert base != plan.remembered_salt(engine, ACTIONS, BUDGET - 1)
    other = Config()
    other.actions.docstring_style = "numpy"
    assert base != plan.remembered_salt(
        Engine(other, workspace_root=str(tmp_path)), ACTIONS, BUDGET
    )


def test_an_unusable_memory_plans_every_file(tree: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache directory should be", encoding="utf-8")
    memory = PlanRows(blocked)
    assert not memory.usable
    files = sorted(tree.rglob("*.py"))[:4]
    engine = Engine(Config(), workspace_root=str(tmp_path))
    assert _plan(engine, files, memory) == [
        plan.plan_file(engine, path, ACTIONS, BUDGET) for path in files
    ]


def test_cache_clear_forgets_the_remembered_rows(tree: Path, tmp_path: Path) -> None:
    files = sorted(tree.rglob("*.py"))[:5]
    engine = Engine(Config(), workspace_root=str(tmp_path))
    memory = PlanRows(tmp_path / "cache")
    _plan(engine, files, memory)
    memory.close()
    assert forget_all(tmp_path / "cache") == len(files)
    assert forget_all(tmp_path / "cache") == 0
    assert forget_all(tmp_path / "nothing-here") == 0


def test_rows_are_remembered_in_batches_as_they_come(tree: Path, tmp_path: Path) -> None:
    """Four files at a time while the run goes on, the rest at the end: every file's rows
    are kept once, and a run stopped after the first batch keeps that batch."""
    files = sorted(tree.rglob("*.py"))
    assert len(files) % 4 != 0  # a last, shorter batch
    engine = Engine(Config(), workspace_root=str(tmp_path))
    fresh = [plan.plan_file(engine, path, ACTIONS, BUDGET) for path in files]
    memory = PlanRows(tmp_path / "cache")
    bar = plan.ProgressBar(len(files), enabled=False)
    run = plan.plan_files(engine, files, ACTIONS, BUDGET, bar, memory=memory, remember_every=4)
    assert [next(run) for _ in range(5)] == fresh[:5]
    with sqlite3.connect(tmp_path / "cache" / FILE_NAME) as db:
        (count,) = db.execute("SELECT count(*) FROM rows").fetchone()
    assert count == 4  # the first batch, written while the run goes on
    run.close()  # stopped here: the fifth file is not kept
    done = list(
        plan.plan_files(engine, files, ACTIONS, BUDGET, bar, memory=memory, remember_every=4)
    )
    assert done == fresh
    with sqlite3.connect(tmp_path / "cache" / FILE_NAME) as db:
        kept = sorted(value for (value,) in db.execute("SELECT value FROM rows"))
    assert kept == sorted(json.dumps([rows, warnings]) for rows, warnings in fresh)
    assert _plan(engine, files, memory) == fresh
    memory.close()
