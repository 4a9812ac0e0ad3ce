"""The static tier on an existing docstring: what counts as documented.

With a parameter section, a parameter is documented when the section names it; a mention in
the summary or under Returns is prose, not a listing. Without a section, prose that mentions
every parameter is complete, and one that leaves any out gets a section listing them all.
"""

from __future__ import annotations

import ast

import pytest

from tierwise.context.extract import extract
from tierwise.core.results import DocstringResult
from tierwise.core.task import Action, Task
from tierwise.edits import apply_text_edit
from tierwise.handlers.registry import get_handler


def static_update(source: str, name: str, style: str = "google") -> tuple[DocstringResult, str]:
    """The static docstring result for `name` in `source`, and the source it edits to."""
    line = next(i for i, text in enumerate(source.split("\n")) if f" {name}(" in text)
    context = extract("mod.py", source, line, 4)
    result = get_handler(Action.DOCSTRING).run_static(
        Task(Action.DOCSTRING, context, options={"style": style})
    )
    assert isinstance(result, DocstringResult) and result.existing
    edited = apply_text_edit(source, result.edit) if result.edit else source
    return result, edited


def docstring_of(source: str, name: str) -> str:
    """The docstring of the function `name` in `source`."""
    node = next(
        n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef) and n.name == name
    )
    return ast.get_docstring(node) or ""


GOOGLE = '''\
def scale(a, b, c):
    """Scale a.

    Args:
        a: The value.

    Returns:
        a times b, plus c.
    """
    return a * b + c
'''
NUMPY = '''\
def scale(a, b):
    """Scale a by b.

    Parameters
    ----------
    a : float
        The value.

    Returns
    -------
    float
        a times b.
    """
    return a * b
'''
SPHINX = '''\
def scale(a, b):
    """Scale a by b.

    :param a: The value.
    :returns: a times b.
    """
    return a * b
'''


@pytest.mark.parametrize(
    ("source", "style", "after", "inserted"),
    [
        (
            GOOGLE,
            "google",
            "        a: The value.",
            ["        b: TODO - describe.", "        c: TODO - describe."],
        ),
        (NUMPY, "numpy", "        The value.", ["    b", "        TODO - describe."]),
        (SPHINX, "sphinx", "    :param a: The value.", ["    :param b: TODO - describe."]),
    ],
    ids=["google", "numpy", "sphinx"],
)
def test_a_parameter_mentioned_outside_the_section_is_added_to_it(
    source: str, style: str, after: str, inserted: list[str]
) -> None:
    # b (and c) are mentioned under Returns: prose, not a listing.
    result, edited = static_update(source, "scale", style)
    assert result.edit is not None
    lines = source.split("\n")
    at = lines.index(after) + 1
    assert edited.split("\n") == [*lines[:at], *inserted, *lines[at:]]
    assert result.note.endswith(": the parameters its parameter section did not list")
    assert result.note.startswith("added b")


def test_a_section_that_lists_every_parameter_gets_nothing() -> None:
    source = GOOGLE.replace(
        "        a: The value.\n", "        a: The value.\n        b: x.\n        c: y.\n"
    )
    result, edited = static_update(source, "scale")
    assert result.edit is None and edited == source
    assert "nothing to add" in result.note


def test_prose_that_mentions_every_parameter_is_complete() -> None:
    source = 'def add(a, b):\n    """Add a to b."""\n    return a + b\n'
    result, edited = static_update(source, "add")
    assert result.edit is None and edited == source


def test_prose_that_leaves_one_out_gets_a_section_listing_all() -> None:
    source = 'def half(a, b):\n    """Halve a."""\n    return a / 2 + b * 0\n'
    result, edited = static_update(source, "half")
    doc = docstring_of(edited, "half")
    assert doc.split("\n")[0] == "Halve a."
    entries = doc.split("Args:\n", 1)[1].split("\n")
    assert [e.split(":")[0].strip() for e in entries] == ["a", "b"]
    assert (
        result.note
        == "added a parameter section (a, b): the docstring had none, and did not mention b"
    )


def test_a_jsdoc_tag_list_gains_the_unlisted_parameter() -> None:
    source = (
        "/**\n * Scale a by b.\n *\n * @param a - The value.\n * @returns a times b.\n */\n"
        "function scale(a, b) {\n  return a * b;\n}\n"
    )
    context = extract("mod.js", source, 6, 10)
    result = get_handler(Action.DOCSTRING).run_static(Task(Action.DOCSTRING, context))
    assert isinstance(result, DocstringResult) and result.edit is not None
    lines = source.split("\n")
    assert apply_text_edit(source, result.edit).split("\n") == [
        *lines[:4],
        " * @param b - TODO - describe.",
        *lines[4:],
    ]
