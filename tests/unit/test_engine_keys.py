"""The cache keys the engine builds for a task: what must share a key, and what never may."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierwise.config import Config
from tierwise.engine import Engine
from tierwise.handlers.registry import get_handler


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("TIERWISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TIERWISE_CACHE_DIR", str(tmp_path / "cache"))
    return Engine(Config(), workspace_root=str(tmp_path))


def keys(engine: Engine, action: str, source: str, needle: str, tier: str = "budget") -> list[str]:
    line = next(i for i, text in enumerate(source.split("\n")) if needle in text)
    task = engine.build_task(action, "m.py", source, line, 4, tier=tier)
    decision = engine.decide(task, assume_available=True)
    return engine.cache_keys(task, get_handler(task.action), decision)


def test_a_docstring_update_is_keyed_on_the_existing_docstring(engine: Engine) -> None:
    """The prompt carries the existing text, so another text may get another answer."""
    body = "    return a + b\n"
    one = keys(engine, "docstring", f'def add(a, b):\n    """Sum."""\n{body}', "def add")
    other = keys(engine, "docstring", f'def add(a, b):\n    """Concatenate."""\n{body}', "def add")
    bare = keys(engine, "docstring", f"def add(a, b):\n{body}", "def add")
    assert one[0] != other[0] and one[0] != bare[0] and other[0] != bare[0]
    assert keys(engine, "docstring", f'def add(a, b):\n    """Sum."""\n{body}', "def add") == one
