"""Each action's answer check on its own (handlers/checks.py): what passes, what fails, and
the name and detail a failure carries (docs/routing.md, "Verified answers")."""

from __future__ import annotations

import pytest

from tierwise.context.extract import extract
from tierwise.core.code import Span
from tierwise.core.records import evolve
from tierwise.core.results import (
    DocstringResult,
    Finding,
    MarkdownResult,
    RenameCandidate,
    RenameResult,
    ReviewResult,
    TextEdit,
)
from tierwise.core.task import Action, Task
from tierwise.handlers.checks import check, documented_params
from tierwise.handlers.docstring import handler as docstring_handler

SOURCE = """\
import json
from decimal import Decimal


class Cart:
    def add_item(self, sku, qty=1):
        line = Decimal(qty)
        self.lines.append((sku, line))
        return json.dumps(self.lines)


def itemCount(cart):
    return len(cart.lines)
"""


def task(action: Action, needle: str, source: str = SOURCE, path: str = "cart.py") -> Task:
    line = next(i for i, text in enumerate(source.split("\n")) if needle in text)
    return Task(action, extract(path, source, line, 8))


def docstring(text: str, needle: str = "line = Decimal") -> tuple[Task, DocstringResult]:
    t = task(Action.DOCSTRING, needle)
    result = docstring_handler.parse(t, text)
    assert isinstance(result, DocstringResult)
    return t, result


@pytest.mark.parametrize(
    "text",
    [
        "Add an item.\n\nArgs:\n    sku: Stock unit.\n    qty: How many.\n\nReturns:\n    JSON.",
        "Add an item.\n\nParameters\n----------\nsku : str\n    Unit.\nqty : int\n    Count.",
        "Add an item.\n\n:param sku: Stock unit.\n:param int qty: How many.\n:returns: JSON.",
    ],
)
def test_a_docstring_documenting_every_parameter_passes(text: str) -> None:
    assert check(*docstring(text)) is None


def test_a_missing_or_an_invented_parameter_fails() -> None:
    missing = check(*docstring("Add an item.\n\nArgs:\n    sku: Stock unit.\n"))
    assert missing is not None and (missing.name, missing.detail) == (
        "docstring.params",
        "parameter qty not documented",
    )
    invented = "Add an item.\n\nArgs:\n    sku: Unit.\n    qty: Count.\n    price: Each.\n"
    failed = check(*docstring(invented))
    assert failed is not None and failed.detail == "documents parameter price, not in the signature"


def test_the_parameter_entries_of_each_style_are_read() -> None:
    google = (
        "S.\n\nArgs:\n    a (int): x.\n        more about a.\n    *rest: y.\n\nReturns:\n    z."
    )
    assert documented_params(google) == ["a", "rest"]
    numpy = "S.\n\nParameters\n----------\na : int\n    x.\nb\n    y.\n\nReturns\n-------\nint\n"
    assert documented_params(numpy) == ["a", "b"]
    assert documented_params("/**\n * @param {string} name - who\n * @param [n=1] count\n */") == [
        "name",
        "n",
    ]


def test_a_one_line_summary_is_enough_for_one_parameter_only() -> None:
    t = task(Action.DOCSTRING, "return len(cart")
    assert check(t, docstring_handler.parse(t, "Count the items in a cart.")) is None
    two = check(*docstring("Add an item to the cart."))
    assert two is not None and two.detail == "parameters sku, qty not documented"


def test_an_edit_that_changes_code_or_breaks_the_file_fails() -> None:
    t, result = docstring("Add.\n\nArgs:\n    sku: Unit.\n    qty: Count.")
    assert result.edit is not None
    changed = evolve(result.edit, new_text=result.edit.new_text + "        qty = 2\n")
    failed = check(t, evolve(result, edit=changed))
    assert failed is not None and failed.detail == "the edit changes code, not only the docstring"
    broken = evolve(result.edit, new_text=result.edit.new_text + "        (\n")
    failed = check(t, evolve(result, edit=broken))
    assert failed is not None and failed.detail.startswith("the edited code no longer parses")
    outside = TextEdit(Span(0, 0, 0, 0), '"""x"""\n')
    failed = check(t, evolve(result, edit=outside))
    assert failed is not None and failed.detail == "the edit lies outside the definition"


def rename(needle: str, *names: str) -> str | None:
    t = task(Action.RENAME, needle)
    candidates = tuple(RenameCandidate(n, "") for n in names)
    failed = check(t, RenameResult(t.context.target.name, candidates))
    return None if failed is None else f"{failed.name}: {failed.detail}"


def test_rename_candidates_are_identifiers_unused_in_scope_and_in_the_file_convention() -> None:
    assert rename("line = Decimal", "append_item", "add") is None
    assert rename("line = Decimal", "class") == "rename.identifier: 'class' is a Python keyword"
    assert rename("line = Decimal", "line") == "rename.collision: 'line' is already a name in scope"
    assert rename("line = Decimal", "json") == "rename.collision: 'json' is already a name in scope"
    assert rename("line = Decimal", "len") == "rename.collision: 'len' is already a name in scope"
    assert rename("line = Decimal", "addItem") == (
        "rename.convention: 'addItem' does not follow the file's snake_case"
    )
    # The current name is camelCase: the file's convention is the name's, not PEP 8.
    assert rename("return len(cart", "cartSize") is None
    assert rename("return len(cart", "cart_size") == (
        "rename.convention: 'cart_size' does not follow the file's camelCase"
    )


def test_review_findings_lie_inside_the_target_and_replacements_parse() -> None:
    t = task(Action.REVIEW, "line = Decimal")
    span = t.context.target.span
    inside = Span(span.start_line + 1, 8, span.start_line + 1, 27)
    good = Finding(inside, "warning", "m", "line = Decimal(str(qty))")
    assert check(t, ReviewResult((good,))) is None
    bad = evolve(good, replacement="line = Decimal(str(qty)")
    failed = check(t, ReviewResult((bad,)))
    assert failed is not None and failed.name == "review.replacement"
    outside = evolve(good, span=Span(0, 0, 0, 11))
    failed = check(t, ReviewResult((outside,)))
    assert (
        failed is not None
        and failed.detail == "the finding at line 1 lies outside the reviewed code"
    )


def test_cited_names_exist_in_the_code_with_leniency_for_everything_else() -> None:
    t = task(Action.EXPLAIN, "line = Decimal")
    fine = (
        "Appends `(sku, line)` to `self.lines` via `append()`, returning `json.dumps(...)`; "
        "`qty` is a `Decimal`, never `None`, see `cart.py` and `os.path`."
    )
    assert check(t, MarkdownResult("Explain", fine)) is None
    failed = check(t, MarkdownResult("Explain", "It calls `validate_sku` first."))
    assert failed is not None and (failed.name, failed.detail) == (
        "explain.names",
        "cites `validate_sku`, which is not in the code",
    )
    # A design may cite the names its own sketch introduces; an explain may not.
    sketch = "Add `CartLine`:\n\n```python\nclass CartLine: ...\n```\n"
    assert check(evolve(t, action=Action.DESIGN), MarkdownResult("Design", sketch)) is None
    assert check(t, MarkdownResult("Explain", sketch)) is not None
