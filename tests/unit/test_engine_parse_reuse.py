"""The engine reuses a file's parse only while its text is unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierwise.config import Config
from tierwise.core.task import Action
from tierwise.engine import Engine
from tierwise.engine.documents import PARSED_FILES_KEPT

SOURCE = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("TIERWISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TIERWISE_CACHE_DIR", str(tmp_path / "cache"))
    return Engine(Config(), workspace_root=str(tmp_path))


def test_an_edited_text_is_parsed_again(engine: Engine, tmp_path: Path) -> None:
    path = str(tmp_path / "calc.py")
    before = engine.build_task(Action.REVIEW, path, SOURCE, 4, 4)
    edited = SOURCE.replace("return a - b", "return b - a  # swapped")
    after = engine.build_task(Action.REVIEW, path, edited, 4, 4)

    assert before.context.target.name == after.context.target.name == "sub"
    assert "return a - b" in before.context.target.text
    assert "return b - a  # swapped" in after.context.target.text


def test_same_text_at_another_path_is_its_own_file(engine: Engine, tmp_path: Path) -> None:
    first = engine.build_task(Action.REVIEW, str(tmp_path / "a.py"), SOURCE, 0, 4)
    second = engine.build_task(Action.REVIEW, str(tmp_path / "b.py"), SOURCE, 0, 4)

    assert first.context.target.path.endswith("a.py")
    assert second.context.target.path.endswith("b.py")


def test_many_files_stay_correct_beyond_the_kept_parses(engine: Engine, tmp_path: Path) -> None:
    texts = {
        str(tmp_path / f"m{i}.py"): SOURCE.replace("add", f"add_{i}")
        for i in range(PARSED_FILES_KEPT + 3)
    }
    for _ in range(2):  # the second round finds the oldest parses evicted
        for path, text in texts.items():
            task = engine.build_task(Action.DOCSTRING, path, text, 0, 4)
            assert task.context.target.name == f"add_{Path(path).stem[1:]}"
