"""A big file parsed in a child process gives exactly the in-process parse (engine/apart.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.realcode import sdist
from tierwise.config import Config
from tierwise.context.extract import load
from tierwise.core.task import Action
from tierwise.engine import Engine
from tierwise.engine.apart import ApartParser

SCHEMA = "django/db/backends/base/schema.py"


@pytest.fixture(scope="module")
def schema() -> tuple[str, str]:
    path = sdist("django") / SCHEMA
    return str(path), path.read_text(encoding="utf-8")


def test_the_child_parse_equals_the_in_process_parse(schema: tuple[str, str]) -> None:
    path, source = schema
    apart = ApartParser(min_chars=1)
    try:
        assert apart.wants(path, source) and not apart.wants("x.js", source)
        child = apart.parse(path, source)
        broken = apart.parse("broken.py", source + "\ndef (:\n")  # the fallback parser's turn
    finally:
        apart.close()
    here = load(path, source)
    assert child is not None and broken is not None
    assert (child.parsed, child.backend, child.lines) == (here.parsed, "python", here.lines)
    assert len(child.parsed.definitions) > 50
    assert broken.backend == "fallback"
    assert broken.parsed == load("broken.py", source + "\ndef (:\n").parsed


def test_the_server_engine_parses_big_files_apart_and_edits_here(
    schema: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIERWISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TIERWISE_CACHE_DIR", str(tmp_path / "cache"))
    path, source = schema
    line = source.split("\n").index("    def _field_indexes_sql(self, model, field):") + 1
    apart = Engine(Config(), workspace_root=str(tmp_path), parse_apart=True)
    here = Engine(Config(), workspace_root=str(tmp_path))
    assert apart.apart is not None and here.apart is None
    apart.apart.min_chars = len(source) - 100  # this file (and its edit) count as big
    try:
        task = apart.build_task(Action.REVIEW, path, source, line, 8)
        assert apart.apart._pool is not None  # the child did the parse
        assert task.context == here.build_task(Action.REVIEW, path, source, line, 8).context
        edited = source.replace("    def _field_indexes_sql(", "    def _field_index_sql(", 1)
        apart.apart.close()
        again = apart.build_task(Action.REVIEW, path, edited, line, 8)
        assert apart.apart._pool is None  # an edit of a parsed file: incremental, in-process
        assert again.context.target.name == "_field_index_sql"
    finally:
        apart.apart.close()
