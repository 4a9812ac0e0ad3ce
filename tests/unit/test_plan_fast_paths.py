"""The shortcuts `tierwise plan` takes give what the straightforward code gives, on real code.

- Context fitting (`fitting.fit`) counts each trial's size instead of assembling and
  rendering it; the reference below is the code it replaced, assembling every trial.
- The name rules of the risk signals (`risk._names`) keep each identifier's evidence instead
  of running every rule on every occurrence; the reference runs them in place, as before.

Both are compared on Django's ORM and requests, at budgets small enough that items are
refused as well as taken, and on hand-made items for the corners real files rarely have.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests import realcode
from tierwise.context import extract, fitting, gather
from tierwise.context.lexer import lex
from tierwise.core.code import CodeContext, Span, Target, budget_tokens
from tierwise.routing import risk
from tierwise.routing import vocabulary as v

BUDGETS = (60, 400)


def _reference_fit(
    context: CodeContext,
    items: list[tuple[str, str]],
    budget: int,
    import_order: list[str] | None = None,
) -> CodeContext:
    """Add items while they fit, assembling and rendering every trial (pass 2's code)."""
    target_tokens = budget_tokens(context.target.text)
    if target_tokens > budget:
        return context
    chosen: dict[str, list[str]] = {"enclosing": [], "import": [], "callee": []}
    current = context
    for kind, text in items:
        chosen[kind].append(text)
        trial = fitting.assemble(context, chosen, import_order or [])
        if target_tokens + budget_tokens(trial.render()) <= budget:
            current = trial
        else:
            chosen[kind].pop()
    return current


def _reference_names(
    found: dict[str, str], identifiers: list[str], name: str, calls: tuple[str, ...]
) -> None:
    """The name rules run on every identifier in turn (pass 2's code)."""
    for identifier in identifiers:
        words = risk.words_of(identifier)
        if not words:
            continue
        squashed = "".join(words)
        for word in words:
            category = risk._WORD.get(word)
            if category is not None and category not in found:
                found[category] = risk._TEMPLATES[category].format(identifier)
        for category, compounds in v.COMPOUNDS:
            if (
                category not in found
                and any(c in squashed for c in compounds)
                and any(squashed == c or risk._joins(words, c) for c in compounds)
            ):
                found[category] = risk._TEMPLATES[category].format(identifier)
        bag = set(words)
        if "crypto" not in found and bag & v.SAFE_WORDS and bag & v.COMPARE_WORDS:
            found["crypto"] = f"compares in constant time ({identifier})"
        if "filesystem" not in found and bag & {"safe", "secure"} and bag & v.PATH_WORDS:
            found["filesystem"] = f"guards paths ({identifier})"
        if "deletion" not in found and bag & risk._VERBS and bag & risk._OBJECTS:
            found["deletion"] = f"deletes data ({identifier})"
        if "sql" not in found and "sql" in bag:
            found["sql"] = f"builds SQL ({identifier})"
        unsafe = "unsafe" in bag or {"full", "loader"} <= bag or {"full", "load"} <= bag
        if "deserialization" not in found and unsafe and bag & v.LOADER_WORDS:
            found["deserialization"] = f"deserialises data ({identifier})"
    if "deserialization" not in found and name in v.LOAD_FUNCTIONS:
        loader = next((i for i in identifiers if "loader" in risk.words_of(i)), None)
        if loader is not None:
            found["deserialization"] = f"loads objects with a {loader}"


def _real_files() -> list[Path]:
    django = realcode.sdist("django") / "django"
    files = sorted((django / "db" / "models").rglob("*.py"))
    files += sorted((realcode.sdist("requests") / "src" / "requests").rglob("*.py"))
    return files


@pytest.fixture(scope="module")
def real_files() -> list[Path]:
    files = _real_files()
    assert len(files) > 40
    return files


def test_fitting_by_count_gives_the_contexts_of_rendering_every_trial(
    real_files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = taken = 0
    for path in real_files:
        source = path.read_text(encoding="utf-8")
        full = extract.extract_all(str(path), source, budget_tokens=10**6)
        for budget in BUDGETS:
            fast = extract.extract_all(str(path), source, budget_tokens=budget)
            with monkeypatch.context() as patched:
                patched.setattr(gather, "fit", _reference_fit)
                patched.setattr(extract, "fit", _reference_fit)
                slow = extract.extract_all(str(path), source, budget_tokens=budget)
            assert fast == slow, f"{path} at budget {budget}"
            for ctx in fast:
                taken += len(ctx.imports) + len(ctx.callees) + bool(ctx.enclosing)
            refused += sum(
                (len(a.imports) + len(a.callees)) - (len(b.imports) + len(b.callees))
                for a, b in zip(full, fast, strict=True)
            )
    assert taken > 2_000 and refused > 2_000  # both branches ran, many times


def _context(text: str = "def f(x):\n    return g(x)\n") -> CodeContext:
    target = Target(
        path="m.py",
        language="python",
        kind="function",
        name="f",
        span=Span(0, 0, 1, 15),
        text=text,
        signature="def f(x):",
    )
    return CodeContext(target=target)


@pytest.mark.parametrize(
    ("items", "order"),
    [
        # the same import twice in the file, chosen once, listed twice in items
        (
            [("import", "import os"), ("import", "import os"), ("callee", "def g(x):")],
            ["import os", "import sys", "import os"],
        ),
        # an import item that is not in the file's import order (render() leaves it out)
        ([("import", "import json"), ("import", "import os")], ["import os"]),
        # two enclosing items (only the first is rendered) and an empty one first
        ([("enclosing", ""), ("enclosing", "class A:"), ("callee", "def g(x):")], []),
        ([("enclosing", "class A:"), ("enclosing", "class B(Base):")], []),
        # the same callee twice, and callees with only layout characters
        ([("callee", "def g(x):"), ("callee", "def g(x):"), ("callee", " ,() ")], []),
        # a long import that does not fit between short ones that do
        (
            [("import", "import a"), ("import", "from x import " + "y, " * 80), ("import", "b")],
            ["import a", "from x import " + "y, " * 80, "b"],
        ),
    ],
)
def test_fitting_by_count_on_corner_items(items: list[tuple[str, str]], order: list[str]) -> None:
    context = _context()
    for budget in range(0, 120):
        fast = fitting.fit(context, items, budget, import_order=order)
        assert fast == _reference_fit(context, items, budget, import_order=order), budget


def _identifier_lists(real_files: list[Path]) -> list[tuple[str, list[str], tuple[str, ...]]]:
    lists = []
    for path in real_files:
        source = path.read_text(encoding="utf-8")
        for ctx in extract.extract_all(str(path), source):
            code = lex(ctx.target.language, ctx.target.text).code
            identifiers = [
                i
                for i in dict.fromkeys(risk._IDENT.findall(code))
                if not i.endswith(risk._ERROR_SUFFIXES)
            ]
            lists.append((ctx.target.name, identifiers, ctx.called_names))
    return lists


def test_name_rules_kept_per_identifier_find_what_running_them_in_place_finds(
    real_files: list[Path],
) -> None:
    lists = _identifier_lists(real_files)
    assert len(lists) > 1_000
    categories = sorted(v.RISK_CATEGORIES)
    # Found already by other rules: nothing, or each category alone (its rules are skipped).
    seeds: list[dict[str, str]] = [{}, *({c: "earlier rule"} for c in categories)]
    hits = 0
    for (name, identifiers, calls), seed in itertools.product(lists, seeds):
        fast, slow = dict(seed), dict(seed)
        risk._names(fast, identifiers, name, calls)
        _reference_names(slow, identifiers, name, calls)
        assert list(fast.items()) == list(slow.items()), (name, seed)
        hits += len(fast) > len(seed)
    assert hits > 1_000  # the rules found evidence, often
