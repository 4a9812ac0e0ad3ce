"""Formatter output keeps the cache key: `ruff format` at several line lengths over real code.

The docs promise that formatting-only edits hit. Each real function (Django, Flask, requests) is
keyed as a request would be (target and context), then its file is reformatted by ruff, the
same function found again, and keyed again: every formatted copy must give the same key.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests import realcode
from tierwise.cache.keys import normalise
from tierwise.config import Config
from tierwise.context.extract import extract_all
from tierwise.core.errors import TierwiseError
from tierwise.core.task import Action
from tierwise.engine import Engine
from tierwise.handlers.registry import get_handler

RUFF = Path(sys.executable).parent / "ruff"
FILES = {
    "django": [
        "django/contrib/auth/hashers.py",
        "django/utils/text.py",
        "django/core/paginator.py",
    ],
    "flask": ["src/flask/app.py", "src/flask/helpers.py"],
    "requests": ["src/requests/utils.py", "src/requests/sessions.py"],
}
# Narrow widths split signatures, calls and conditions (trailing commas, added parentheses);
# the widest joins lines and removes what the narrow ones added.
LINE_LENGTHS = (40, 60, 88, 200)


def ruff_format(source: str, *options: str) -> str:
    done = subprocess.run(
        [str(RUFF), "format", "--isolated", *options, "-"],
        input=source,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def ruff_sort_imports(source: str) -> str:
    done = subprocess.run(
        [str(RUFF), "check", "--isolated", "--select", "I", "--fix", "--exit-zero", "-q", "-"],
        input=source,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return Engine(Config(), workspace_root=str(tmp_path_factory.mktemp("ws")))


def request_keys(engine: Engine, path: str, source: str, action: Action) -> dict[str, str]:
    """Each function's key for the action, by its name and place among namesakes."""
    out: dict[str, str] = {}
    for ctx in extract_all(path, source, budget_tokens=engine.context_budget(action)):
        target = ctx.target
        if target.kind not in ("function", "method"):
            continue
        task = engine.task_for(action, ctx)
        try:
            decision = engine.decide(task, assume_available=True)
        except TierwiseError:
            continue  # e.g. a docstring for a one-line `def f(): ...` overload
        name = f"{target.kind}:{target.name}"
        while name in out:
            name += "'"
        out[name] = engine.cache_keys(task, get_handler(task.action), decision)[0]
    return out


@pytest.mark.parametrize("package", list(FILES))
def test_every_formatted_copy_of_a_real_function_hits(engine: Engine, package: str) -> None:
    root = realcode.sdist(package)
    checked = 0
    for relative in FILES[package]:
        path = str(root / relative)
        source = (root / relative).read_text(encoding="utf-8")
        variants = {
            f"ruff format --line-length {n}": ("--line-length", str(n)) for n in LINE_LENGTHS
        }
        variants["ruff format, skip magic trailing commas"] = (
            "--config",
            "format.skip-magic-trailing-comma = true",
        )
        for action in (Action.REVIEW, Action.DOCSTRING):
            original = request_keys(engine, path, source, action)
            for label, options in variants.items():
                formatted = request_keys(engine, path, ruff_format(source, *options), action)
                assert formatted.keys() == original.keys()
                missed = [name for name in original if formatted[name] != original[name]]
                assert not missed, f"{relative} {label} ({action}): {missed[:5]} missed"
                checked += len(original)
    assert checked > 300


def test_sorting_imports_inside_a_function_keeps_the_key() -> None:
    code = (
        "def load(path):\n"
        "    import os\n"
        "    from json import loads, dumps\n"
        "    from json import JSONDecodeError\n"
        "    import sys\n"
        "    return loads(os.fspath(path)), dumps, sys, JSONDecodeError\n"
    )
    sorted_code = ruff_sort_imports(code)
    assert sorted_code != code
    assert normalise("python", sorted_code) == normalise("python", code)
