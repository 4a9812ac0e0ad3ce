"""docstring_style = "auto": a new docstring follows the style the file already uses.

The file's style is read from its text (handlers/docstring_styles.py). A reference reads the
same thing another way, from the docstrings `ast` finds, one vote per docstring; both must
agree on every file of Flask, requests and Django. Then through the engine: the static tier,
the model prompt and the cache key all use the resolved style.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest

from tests import realcode
from tierwise.config import Config
from tierwise.core.results import DocstringResult
from tierwise.engine import Engine
from tierwise.handlers.docstring_styles import file_style, resolved_style
from tierwise.handlers.registry import get_handler

_REFERENCE = {
    "sphinx": re.compile(
        r"^\s*:(param|parameter|arg|argument|key|keyword|type|raises?|except|exception"
        r"|returns?|rtype|yields?|ytype)\b[^:\n]*:",
        re.M,
    ),
    "google": re.compile(
        r"^\s*(Args|Arguments|Keyword Args|Keyword Arguments|Returns|Yields|Raises):\s*$", re.M
    ),
    "numpy": re.compile(
        r"^\s*(Parameters|Other Parameters|Returns|Yields|Receives|Raises|Warns)\s*\n\s*-{3,}\s*$",
        re.M,
    ),
}


def reference_style(source: str) -> str | None:
    """One vote per docstring `ast` finds for each style it shows; the most votes win."""
    votes: Counter[str] = Counter()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module):
            doc = ast.get_docstring(node, clean=False)
            for style, pattern in _REFERENCE.items():
                if doc and pattern.search(doc):
                    votes[style] += 1
    ranked = votes.most_common()
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


_WORDS = re.compile(
    r":(?:param|parameter|arg|key|type|raise|except|return|rtype|yield|ytype)|"
    r"Args:|Arguments:|Returns:|Yields:|Raises:|---"
)


def _marked(root: Path) -> list[tuple[Path, str]]:
    """The files that hold a word some style's marker is made of: in the others neither reading
    can find a style (each reference pattern needs one of these words), so parsing them would
    only make the test slower."""
    out = []
    for path in realcode.python_files(root):
        source = path.read_text(encoding="utf-8", errors="replace")
        if not _WORDS.search(source):
            assert file_style(source) is None, path
            continue
        try:
            ast.parse(source)
        except SyntaxError:
            continue
        out.append((path, source))
    return out


def test_the_files_style_agrees_with_its_docstrings_on_real_packages() -> None:
    found: Counter[str | None] = Counter()
    for package in ("flask", "requests", "django"):
        for path, source in _marked(realcode.sdist(package)):
            style = file_style(source)
            assert style == reference_style(source), path
            found[style] += 1
    # Flask and requests write reST fields, a few Django modules Google sections: the
    # comparison is not all "no style" on both sides.
    assert found["sphinx"] >= 20 and found["google"] >= 5 and found[None] > 30


def test_flask_helpers_gets_reST_fields_and_a_configured_style_still_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIERWISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TIERWISE_CACHE_DIR", str(tmp_path / "cache"))
    path = realcode.sdist("flask") / "src" / "flask" / "helpers.py"
    source = path.read_text(encoding="utf-8")
    line = next(
        i for i, text in enumerate(source.split("\n")) if "def _split_blueprint_path" in text
    )
    results = {}
    for style in ("auto", "google"):
        config = Config()
        config.actions.docstring_style = style
        engine = Engine(config, workspace_root=str(tmp_path))
        task = engine.build_task("docstring", str(path), source, line, 4, tier="budget")
        handler = get_handler(task.action)
        result = handler.run_static(task)
        assert isinstance(result, DocstringResult)
        keys = engine.cache_keys(task, handler, engine.decide(task, assume_available=True))
        assert keys
        results[style] = (task.options["style"], result.docstring, handler.build_prompt(task), keys)
    auto, google = results["auto"], results["google"]
    assert auto[0] == "sphinx" and google[0] == "google"
    assert ":param name:" in auto[1] and "Args:" not in auto[1]
    assert "Args:" in google[1] and ":param" not in google[1]
    assert auto[2].system != google[2].system  # the model is asked for the file's style
    assert set(auto[3]).isdisjoint(google[3])  # and an answer in one style never serves the other


def test_block_counting_tie_and_fallback() -> None:
    sphinx = '''def a(x, y, z):
    """A.

    :param x: the x.
    :param y: the y.
    :param z: the z.
    """
'''
    google = '''def b(x):
    """B.

    Args:
        x: the x.
    """
'''
    numpy = '''def c(x):
    """C.

    Parameters
    ----------
    x : int
    """
'''
    assert file_style(sphinx) == "sphinx"
    assert file_style(numpy + numpy) == "numpy"
    # three fields in one docstring are one block: one Sphinx docstring against two Google ones
    assert file_style(sphinx + google + google) == "google"
    assert file_style(sphinx + google) is None  # a tie names no style
    assert file_style('def d():\n    """Only prose."""\n') is None
    assert resolved_style("auto", sphinx + google) == "google"  # the fallback
    assert resolved_style("auto", None) == "google"
    assert resolved_style("numpy", sphinx) == "numpy"  # a configured style is used everywhere
