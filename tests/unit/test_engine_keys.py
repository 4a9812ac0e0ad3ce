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


CALLER = "def report(rows):\n    return pad(rows)\n"


def test_a_callee_whose_string_default_changed_is_another_key(engine: Engine) -> None:
    """Whitespace inside a string is meaning: an answer for `"    "` must not serve `"  "`."""
    wide = keys(
        engine, "review", 'def pad(rows, fill="    "):\n    pass\n\n\n' + CALLER, "return pad"
    )
    narrow = keys(
        engine, "review", 'def pad(rows, fill="  "):\n    pass\n\n\n' + CALLER, "return pad"
    )
    assert wide[0] != narrow[0]


def test_a_callee_signature_wrapped_by_a_formatter_keeps_the_key(engine: Engine) -> None:
    flat = 'def pad(rows, fill="  "):\n    pass\n\n\n' + CALLER
    wrapped = 'def pad(\n    rows,\n    fill="  ",\n):\n    pass\n\n\n' + CALLER
    assert keys(engine, "review", flat, "return pad") == keys(
        engine, "review", wrapped, "return pad"
    )


def test_sorted_file_imports_keep_the_key(engine: Engine) -> None:
    body = "\n\ndef load(p):\n    return json.loads(os.fspath(p)), sys.argv\n"
    one = keys(engine, "review", "import sys\nimport os\nimport json\n" + body, "return json")
    two = keys(engine, "review", "import json\nimport os\nimport sys\n" + body, "return json")
    assert one == two


def long_function(last: str) -> str:
    body = "".join(f"    total = total + item_{i} * weight_{i} + offset_{i}\n" for i in range(150))
    return f"def score(items):\n    total = 0\n{body}    return {last}\n"


def test_a_long_target_is_sent_whole_and_keyed_whole(engine: Engine) -> None:
    """Past the budget tier's 1500 tokens: nothing is cut, an edit at the end is a new key."""
    source = long_function("total")
    task = engine.build_task("docstring", "m.py", source, 0, 4)
    assert task.context.target.text.endswith("return total")
    decision = engine.decide(task, assume_available=True)
    assert decision.tier.label == "mid" and "context budget" in decision.reasons[-1]
    one = keys(engine, "docstring", source, "def score")
    two = keys(engine, "docstring", long_function("total + 1"), "def score")
    assert one[0] != two[0]
