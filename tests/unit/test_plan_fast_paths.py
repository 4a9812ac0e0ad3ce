"""The shortcuts `tierwise plan` takes give what the straightforward code gives, on real code.

- Context fitting (`fitting.fit`) counts each trial's size instead of assembling and
  rendering it; the reference below is the code it replaced, assembling every trial.
- The name rules of the risk signals (`risk._names`) keep each identifier's evidence instead
  of running every rule on every occurrence; the reference runs them in place, as before.
- The routing signals skip work that cannot find anything (a target without an import word
  binds nothing, code naming no bound name mentions none) and keep per-literal and
  per-identifier answers; the reference below is the signal code as it was, run on every
  target of Django's ORM, requests, express and zod.
- Prompt sizes are counted by each handler (`prompt_chars`) without building the prompt; they
  must equal the built prompt's length, for every target, action and option.
- A plan run reads the ledger's earlier asks once; its routes equal one query per target.

Fitting is compared on Django's ORM and requests, at budgets small enough that items are
refused as well as taken, and on hand-made items for the corners real files rarely have.
"""

from __future__ import annotations

import functools
import itertools
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import realcode
from tierwise.cli import plan
from tierwise.config import Config
from tierwise.context import extract, fitting, gather
from tierwise.context.imports import import_bindings
from tierwise.context.lexer import lex
from tierwise.core.code import CodeContext, Span, Target, budget_tokens
from tierwise.core.errors import TierwiseError
from tierwise.core.records import evolve
from tierwise.core.task import Action, Task
from tierwise.engine import Engine
from tierwise.handlers.registry import get_handler
from tierwise.handlers.sizing import prompt_chars
from tierwise.ledger import LedgerRow
from tierwise.routing import risk, signals
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


# --- the routing signals, against the code as it was ------------------------------------------


def _reference_direct(
    called_names: tuple[str, ...],
    lexed: Any,
    bindings: dict[str, str],
    path: str,
    name: str,
    mentions: bool,
) -> dict[str, str]:
    """risk._direct before its shortcuts (pass 3's code): every mention searched for, every
    literal and identifier checked in place."""
    found: dict[str, str] = {}
    for called in called_names:
        root = risk._IDENT.match(called)
        resolved = root is not None and root.group(0) in bindings
        if root is not None and resolved:
            called = bindings[root.group(0)] + called[root.end() :]
        category = risk._classify.__wrapped__(called.replace("()", "").replace("[]", ""), resolved)
        if category is not None:
            evidence = f"{'uses' if category == 'concurrency' else 'calls'} {called}"
            if len(evidence) < len(found.get(category, evidence + " ")):
                found[category] = evidence
    code = lexed.code
    for qualified in risk._used_origins(code, bindings) if mentions else ():
        category = risk._classify.__wrapped__(qualified, True)
        if category is not None:
            found.setdefault(category, f"uses {qualified}")
    identifiers = [
        i for i in dict.fromkeys(risk._IDENT.findall(code)) if not i.endswith(risk._ERROR_SUFFIXES)
    ]
    _reference_names(found, identifiers, name, called_names)
    if "payments" not in found:
        amount = next((i for i in identifiers if set(risk.words_of(i)) & risk._MONEY_WORDS), None)
        marker = next((i for i in identifiers if set(risk.words_of(i)) & risk._MONEY_MARKERS), None)
        currency = next((m for s in lexed.strings for m in risk._CURRENCY_CODE.findall(s)), None)
        marker = marker or (f'"{currency}"' if currency else None)
        if amount is not None and marker is not None:
            detail = amount if amount == marker else f"{amount} with {marker}"
            found["payments"] = f"handles money ({detail})"
    for literal in lexed.strings:
        if risk._SQL_UPPER.search(literal) or risk._SQL_LOWER.search(literal):
            found.setdefault("sql", "builds SQL")
            destructive = risk._SQL_DESTRUCTIVE.search(literal)
            if destructive:
                statement = re.sub(r"\s+", " ", destructive.group(1)).upper()
                found.setdefault("deletion", f"runs {statement}")
        if "filesystem" not in found and risk._PARENT_DIR.search(literal):
            found["filesystem"] = "checks paths for '..'"
    if "filesystem" not in found and any(
        c in ("open", "io.open", "os.fdopen") for c in called_names
    ):
        mode = next((s for s in lexed.strings if risk._WRITE_MODE.fullmatch(s)), None)
        if mode is not None:
            found["filesystem"] = f"opens a file for writing ({mode!r})"
    if "sql" not in found and path and risk._MIGRATION_PATH.search(path):
        found["sql"] = "is a database migration"
    risk._code_shapes(found, code)
    return found


def _reference_find_risks(ctx: CodeContext, lexed: Any, text: str) -> dict[str, str]:
    """risk.find_risks before its shortcuts: the target's own imports always read."""
    language = ctx.target.language
    bindings = dict(import_bindings(language, "\n".join(ctx.imports)))
    bindings.update(import_bindings(language, text))
    found = _reference_direct(
        ctx.called_names, lexed, bindings, ctx.target.path, ctx.target.name, True
    )
    named = risk._LAST.get(ctx.target.name)
    if named is not None:
        found.setdefault(named, f"is named {ctx.target.name} (a {named} call)")
    for category, evidence in risk._enclosing(ctx.enclosing, ctx.target.name).items():
        found.setdefault(category, evidence)
    for helper in ctx.helpers:
        if len(found) == len(v.RISK_CATEGORIES):
            break
        path = f"{helper.via} → {helper.name}" if helper.via else helper.name
        inner = _reference_direct(
            helper.called_names, lex(language, helper.text), dict(bindings), "", "", False
        )
        for category, evidence in inner.items():
            found.setdefault(category, f"through {path}: {evidence}")
    return found


def _all_real_files() -> list[Path]:
    files = _real_files()
    files += sorted((realcode.npm_package("express") / "lib").rglob("*.js"))
    core = realcode.npm_package("zod") / "src" / "v4" / "core"
    files += sorted(p for p in core.rglob("*.ts") if not p.name.endswith(".d.ts"))
    return files


@pytest.fixture(scope="module")
def contexts() -> list[CodeContext]:
    found = []
    for path in _all_real_files():
        found += extract.extract_all(str(path), path.read_text(encoding="utf-8"))
    languages = {ctx.target.language for ctx in found}
    assert {"python", "javascript", "typescript"} <= languages
    assert len(found) > 2_000
    return found


# Targets whose own imports bind the names that make them risky, and a JavaScript one whose
# `require` does: the shortcuts must still read them.
SIGNAL_CORNERS = (
    ("c.py", "def f(x):\n    from subprocess import run as go\n    return go(x)\n"),
    ("c.py", "def g():\n    import threading as t\n    guard = t.Lock\n    return guard\n"),
    ("c.js", "function h(p) {\n  const cp = require('child_process');\n  return cp.exec(p);\n}\n"),
)


def test_the_signals_equal_the_signal_code_without_its_shortcuts(
    contexts: list[CodeContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    corners = [c for path, text in SIGNAL_CORNERS for c in extract.extract_all(path, text)]
    assert all(signals.compute_signals(c).risks for c in corners)
    contexts = [*contexts, *corners]
    fast = [signals.compute_signals(ctx) for ctx in contexts]
    with monkeypatch.context() as patched:
        patched.setattr(risk, "find_risks", _reference_find_risks)
        patched.setattr(signals, "find_risks", _reference_find_risks)
        slow = [signals.compute_signals(ctx) for ctx in contexts]
    for ctx, a, b in zip(contexts, fast, slow, strict=True):
        assert a == b, f"{ctx.target.path}:{ctx.target.span.start_line + 1} {ctx.target.name}"
    categories = {hit.category for s in fast for hit in s.risks}
    assert len(categories) >= 8  # the rules found many kinds of evidence
    assert sum(1 for s in fast if s.risks) > 300


# --- prompt sizes, against the built prompt --------------------------------------------------

OPTIONS: dict[Action, list[dict[str, str]]] = {
    Action.DOCSTRING: [{"style": "google"}, {"style": "numpy", "extra": "Be brief.\n"}],
    Action.REVIEW: [{}, {"hints": "3: F401 unused import\n7: E711 comparison to None"}],
    Action.EXPLAIN: [{}],
}


def _size_or_error(compute: Any) -> int | str:
    try:
        return int(compute())
    except TierwiseError as exc:
        return f"{type(exc).__name__}: {exc}"


# Corners real files rarely have: blank lines of spaces, tabs or a no-break space, trailing
# whitespace, a one-line body (docstring refuses it), more than 9 and 99 lines (the numbers'
# width), a selection (no docstring slot), an empty context.
CORNERS = (
    "def tabbed(x):\n\tif x:   \n\t\treturn 1\n\t\n\treturn 2\t\n",
    'class A:\n    def m(self):\n        """Doc."""\n        \n\u00a0\n        return 1  \n',
    "def one(x): return x\n",
    "def long(x):\n" + "    x += 1\n\n" * 60 + "    return x\n",
)


def _corner_contexts() -> list[CodeContext]:
    found = [c for i, text in enumerate(CORNERS) for c in extract.extract_all(f"c{i}.py", text)]
    selection = evolve(_context().target, kind="selection", doc_slot=None)
    return [*found, CodeContext(target=selection), _context()]


def test_prompt_sizes_are_the_built_prompts_lengths(contexts: list[CodeContext]) -> None:
    counted = refused = 0
    for action, variants in OPTIONS.items():
        handler = get_handler(action)
        sized = getattr(handler, "prompt_chars", None)
        for ctx, options in itertools.product([*contexts, *_corner_contexts()], variants):
            task = Task(action, ctx, options=options)
            want = _size_or_error(functools.partial(_built_chars, handler, task))
            got = _size_or_error(functools.partial(prompt_chars, handler, task))
            assert got == want, ctx.target.name
            if sized is not None:
                assert _size_or_error(functools.partial(sized, task)) == want, ctx.target.name
                counted += 1
                refused += isinstance(want, str)
    assert counted > 8_000 and refused > 0  # docstring refuses targets with no slot


def test_prompt_sizes_of_targets_inside_a_minified_line() -> None:
    """A target that starts 100,000 columns into a minified file's one line: its display
    line is padded to that column (the sizes count the padding without comparing it
    character by character)."""
    static = realcode.sdist("django") / "django" / "contrib" / "admin" / "static" / "admin"
    found = []
    for name in ("vendor/xregexp/xregexp.min.js", "vendor/select2/select2.full.min.js"):
        path = static / "js" / name
        found += extract.extract_all(str(path), path.read_text(encoding="utf-8"))
    assert max(ctx.target.span.start_col for ctx in found) > 100_000
    assert sum(ctx.target.span.start_line == ctx.target.span.end_line for ctx in found) > 50
    for ctx in found:
        for action in (Action.DOCSTRING, Action.REVIEW):
            handler = get_handler(action)
            task = Task(action, ctx)
            want = _size_or_error(functools.partial(_built_chars, handler, task))
            assert _size_or_error(functools.partial(prompt_chars, handler, task)) == want


def _built_chars(handler: Any, task: Task) -> int:
    """The length of the prompt the handler builds."""
    prompt = handler.build_prompt(task)
    return len(prompt.system) + len(prompt.context) + len(prompt.question)


# --- the ledger, read once per plan run --------------------------------------------------------


def test_a_plan_run_reads_earlier_asks_once_and_routes_as_one_query_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIERWISE_DATA_DIR", str(tmp_path / "data"))
    files = sorted((realcode.sdist("requests") / "src" / "requests").rglob("*.py"))[:6]
    engine = Engine(Config(), workspace_root=str(tmp_path))
    ledger = engine.ledger
    assert ledger is not None
    actions = [Action.DOCSTRING, Action.REVIEW]
    targets = [
        ctx.target
        for path in files
        for ctx in extract.extract_all(str(path), path.read_text(encoding="utf-8"))
    ]
    asked = targets[::7]
    for target in asked:
        key = engine.stores.target_id(signals.target_key(target.path, target.kind, target.name))
        for _ in range(2):  # asked twice: escalated two tiers
            ledger.record(
                LedgerRow(
                    action="review", language="python", tier="budget", target=key, output_tokens=90
                )
            )
    bar = plan.ProgressBar(len(files), enabled=False)
    once = list(plan.plan_files(engine, files, actions, 2000, bar, parallel_from=10**9))
    each = [plan.plan_file(engine, path, actions, 2000) for path in files]
    assert once == each
    escalated = [
        r for rows, _ in once for r in rows if any("asked again" in x for x in r["reasons"])
    ]
    # (a target routed to frontier already has no tier to escalate to)
    assert {r["name"] for r in escalated} <= {t.name for t in asked}
    assert len({r["name"] for r in escalated}) >= len(asked) // 2
    assert all(r["action"] == "review" for r in escalated)
    # The run answered from what it read at its start: a request recorded since is not in it.
    target = targets[1]
    since = datetime.now(UTC) - timedelta(seconds=60)
    engine.stores.held = engine.stores.read_asks(since)
    key = engine.stores.target_id(signals.target_key(target.path, target.kind, target.name))
    ledger.record(
        LedgerRow(action="review", language="python", tier="budget", target=key, output_tokens=90)
    )
    assert engine.stores.asks(key, "review", since) == []
    engine.stores.held = None
    assert len(engine.stores.asks(key, "review", since)) == 1
