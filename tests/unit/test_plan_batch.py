"""`tierwise plan` routes a file's targets in one batch; each shortcut gives what routing every
target alone gives, on real code (Django's ORM, requests, express, zod) and on corners.

- `signals.file_signals` lexes the file once and slices each target's code, literals and
  comments (and, for Python, its logical lines) out of it; the reference lexes each target
  alone and joins its lines twice (body lines, nesting), as `compute_signals` did, with the
  lexer's docstring test reading the whole text before each literal (`_tail` reads only the
  last lines it needs) and the risk code as it was (test_plan_fast_paths).
- Mentions of imported names are found name by name with `str.find` (no pattern compiled
  for each file's set of names); the reference is that pattern's scan.
- `plan_file` sizes each task once, without the prompt-size memory, and hands the batch's
  signals to the route; its rows must be those of deciding every target alone.
- Its routes come from a `Decider`, which keeps one routing choice per distinct input of the
  rules and prices each row alone; under many policies, tiers and states, every route must be
  what `route()` decides in full.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from tests import realcode
from tests.unit.test_plan_fast_paths import _reference_find_risks
from tierwise import report
from tierwise.cli import plan
from tierwise.config import Config
from tierwise.context import extract, lexer, metrics
from tierwise.core.code import CodeContext
from tierwise.core.errors import TierwiseError
from tierwise.core.records import evolve
from tierwise.core.task import Action
from tierwise.core.tiers import Tier
from tierwise.engine import Engine
from tierwise.routing import batch, risk, router, signals
from tierwise.routing.policy import Policy
from tierwise.routing.router import Availability, ModelOption, RouteState


def _reference_logical_lines(code: str) -> str:
    """metrics.logical_lines as it was (pass 4's code)."""
    out: list[str] = []
    current: list[str] = []
    depth = 0
    for line in code.split("\n"):
        current.append(line.strip() if current else line)
        opened = line.count("(") + line.count("[") + line.count("{")
        closed = line.count(")") + line.count("]") + line.count("}")
        depth = max(0, depth + opened - closed)
        if depth == 0 and not line.rstrip().endswith("\\"):
            out.append(" ".join(current))
            current = []
    if current:
        out.append(" ".join(current))
    return "\n".join(out)


def _reference_signals(ctx: CodeContext) -> signals.Signals:
    """compute_signals as it was: the target lexed alone, its lines joined twice."""
    target = ctx.target
    language = target.language
    text = " " * target.span.start_col + target.text
    lexed = lexer.lex(language, text)
    lines = metrics.body_lines(language, text, lexed.code, target.signature)
    cyclomatic = 1 + metrics.decision_count(language, lexed.code)
    nesting = metrics.nesting_depth(language, lexed.code)
    found = _reference_find_risks(ctx, lexed, text)
    risks = tuple(signals.RiskHit(c, found[c]) for c in signals.RISK_CATEGORIES if c in found)
    return signals.Signals(
        lines=lines,
        cyclomatic=cyclomatic,
        nesting=nesting,
        cross_file_calls=ctx.cross_file_calls,
        risks=risks,
        trivial=lines <= signals.TRIVIAL_LINES and cyclomatic == 1 and not risks,
        directive=signals._directive(ctx.leading_comment, lexed.comments),
        target_key=signals.target_key(target.path, target.kind, target.name),
        test_code=signals.is_test_path(target.path),
    )


# Corners real packages rarely have: targets that must be lexed alone (a literal joined to
# one after it, trailing whitespace on the last line, a file that does not parse) next to ones
# that slice: tabs, decorators with literals, a multi-line string, a bracket left open above,
# a directive comment, a file without a final line break, JavaScript, literal rules.
CORNERS = (
    # The file's lex joins the two literals into an SQL statement; f's own holds half of it.
    ("joined.py", 'def f():\n    return "SELECT a"\n" FROM t"\ndef g():\n    return "y"\n'),
    (
        "trailing.py",
        "def g():\n    return 1   \ndef h(a,\n      b):  # tierwise: frontier\n  pass\n",
    ),
    ("tabs.py", "class T:\n\tdef m(self):\n\t\tif x:\n\t\t\treturn (1,\n\t\t\t\t2)\n"),
    (
        "above.py",
        'x = [\n    1]\n# tierwise: frontier\ndef h():\n    """Doc."""\n    return {"a":\n'
        '        "b"}\nclass K: pass\n',
    ),
    (
        "deco.py",
        '@deco(\n    "arg")\ndef k(a,\n      b):\n    s = """\n    multi\n    """\n    return s'
        "\n\n\nasync def last(): return f'{1}' \\\n    'tail'",
    ),
    ("open.py", "def broken(:\n    return 1\ndef fine():\n    return 2\n"),  # the fallback parse
    # Literal rules real packages here rarely hit: a '..' segment, a currency code, a write mode.
    (
        "paths.py",
        'def guard(path, amount_cents):\n    if ".." in path.split("/"):\n'
        '        raise ValueError("EUR " + path)\n    with open(path, "w") as f:\n'
        "        f.write(str(amount_cents))\n"
        'def describe(amount):\n    if ".." in str(amount):\n        return None\n'
        '    return str(amount) + " EUR"\n',
    ),
    ("c.js", "function h(p) {\n  const cp = require('child_process');\n  return cp.exec(p);\n}\n"),
)


def _files() -> list[Path]:
    django = realcode.sdist("django") / "django"
    files = sorted((django / "db").rglob("*.py"))
    files += sorted((realcode.sdist("requests") / "src" / "requests").rglob("*.py"))
    files += sorted((realcode.npm_package("express") / "lib").rglob("*.js"))
    core = realcode.npm_package("zod") / "src" / "v4" / "core"
    files += sorted(p for p in core.rglob("*.ts") if not p.name.endswith(".d.ts"))
    return files


@pytest.fixture(scope="module")
def sources() -> list[tuple[str, str]]:
    found = [(str(path), path.read_text(encoding="utf-8")) for path in _files()]
    assert len(found) > 150
    return [*found, *CORNERS]


def test_a_files_signals_from_one_lex_equal_each_target_lexed_alone(
    sources: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    batches = []
    for path, source in sources:
        file = extract.load(path, source)
        batches.append((extract.extract_all(path, source, parsed=file), file.lines))
    alone = 0
    compute = signals.compute_signals

    def counted(ctx: CodeContext) -> signals.Signals:
        nonlocal alone
        alone += 1
        return compute(ctx)

    with monkeypatch.context() as patched:
        patched.setattr(signals, "compute_signals", counted)  # counts the targets lexed alone
        fast = [s for contexts, lines in batches for s in signals.file_signals(contexts, lines)]
    with monkeypatch.context() as patched:
        patched.setattr(lexer, "_tail", lambda parts, lines: "".join(parts))
        patched.setattr(metrics, "logical_lines", _reference_logical_lines)
        patched.setattr(risk, "find_risks", _reference_find_risks)
        slow = [_reference_signals(ctx) for contexts, _ in batches for ctx in contexts]
    contexts = [ctx for batch, _ in batches for ctx in batch]
    assert len(fast) == len(slow) == len(contexts) > 4_000
    for ctx, a, b in zip(contexts, fast, slow, strict=True):
        assert a == b, f"{ctx.target.path}:{ctx.target.span.start_line + 1} {ctx.target.name}"
    # Nearly every target was sliced, and the corners that must be lexed alone were.
    assert 3 <= alone < len(contexts) // 50
    assert sum(1 for s in fast if s.risks) > 300 and sum(1 for s in fast if s.nesting > 2) > 50
    assert {s.directive for s in fast} >= {None, "frontier"}


def test_mentions_found_name_by_name_equal_one_pattern_of_every_name() -> None:
    code = (
        "a = os . path + os::sep ; x[os::os] ; B :: A :: A ; é_os = os\n"
        "os.path.join(osx, y.os, $os, A.b.c, B::A.x, re, return_, réos, 1os)\nos"
    )
    every = dict.fromkeys(risk._IDENT.findall(code))
    for names in (["os"], ["path"], ["A", "B"], ["os", "A", "B", "path"], ["A", "AB", "x", "re"]):
        bindings = {name: f"m.{name}" for name in names}
        assert risk._used_origins(code, bindings, every) == risk._used_origins(code, bindings)
    assert "m.B::A" in risk._used_origins(code, {"A": "m.A", "B": "m.B"}, every)


def _rows_alone(engine: Engine, path: Path, actions: list[Action]) -> list[dict[str, object]]:
    """The plan rows of routing each target alone, its signals and prompt size remembered."""
    rows = []
    shown = report.display_path(path)
    source = path.read_text(encoding="utf-8")
    for ctx in extract.extract_all(str(path), source):
        for action in actions:
            # the file's text, as a single request has it: docstring_style "auto" reads it
            task = engine.task_for(action, ctx, source=source)
            decision = engine.decide(task, assume_available=True)
            bare = None
            if decision.tier is Tier.LOCAL and "local" not in engine.configured_tiers():
                bare = batch.Routed.of(
                    engine.decide(task, assume_available=True, assume_local=False)
                )
            rows.append(report.plan_row(path, ctx.target, decision, shown, bare))
    return rows


def test_plan_rows_in_one_batch_equal_routing_each_target_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIERWISE_DATA_DIR", str(tmp_path / "data"))
    files = [Path(p) for p in _files()][::3]
    engine = Engine(Config(), workspace_root=str(tmp_path))
    actions = [Action.DOCSTRING, Action.REVIEW, Action.EXPLAIN]
    count = assumed = 0
    for path in files:
        rows, warnings = plan.plan_file(engine, path, actions, 2000)
        assert rows == _rows_alone(engine, path, actions), path
        count += len(rows)
        assumed += sum("without_local" in row for row in rows)
        assert all("skipped" not in w for w in warnings)
    assert count > 3_000
    # Nothing is configured, so the local rows are assumed: each carries its route without one.
    assert assumed > 100


# Policies, tiers and states that take the router's other branches: context budgets small
# enough that a target's size moves or refuses it (a choice only that target may use), a
# learned override, clamps, spend caps (every row routed in full), a local_only path, a
# repeat, a session tier, and tiers that are configured rather than assumed.
_OPTIONS = {
    Tier.LOCAL: ModelOption("local:qwen", 0.0, 0.0),
    Tier.BUDGET: ModelOption("anthropic:claude-haiku-4-5", 1.0, 5.0),
    Tier.MID: ModelOption("anthropic:claude-sonnet-4-6", 3.0, 15.0),
    Tier.FRONTIER: ModelOption("anthropic:claude-opus-5", 5.0, 25.0),
}
_CLOUD = Availability(
    chains={t: (o,) for t, o in _OPTIONS.items() if t is not Tier.LOCAL}, reference=_OPTIONS
)
_TIGHT = {Tier.LOCAL: 40, Tier.BUDGET: 120, Tier.MID: 400, Tier.FRONTIER: 1500}


def _policies(base: Policy) -> list[Policy]:
    return [
        base,
        evolve(base, context_tokens=_TIGHT),
        evolve(
            base,
            context_tokens={**base.context_tokens, Tier.LOCAL: 60},
            overrides={(Action.REVIEW, "none", Tier.MID): Tier.BUDGET},
            min_tier=Tier.BUDGET,
            demote_trivial=False,
        ),
        evolve(base, max_tier=Tier.MID, daily_usd=0.01, budget_mode="hard", on_hard="demote"),
    ]


_STATES = (
    RouteState(assume_available=True),
    RouteState(),
    RouteState(local_only=True),
    RouteState(repeats=1, assume_available=True),
    RouteState(sticky=Tier.MID),
    RouteState(spent_today=0.009, assume_available=True),
    RouteState(assume_available=True, assume_local=False),
    RouteState(local_only=True, assume_available=True, assume_local=False),
)


def test_a_deciders_shared_choices_equal_routing_each_task_in_full(
    sources: list[tuple[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIERWISE_DATA_DIR", str(tmp_path / "data"))
    engine = Engine(Config(), workspace_root=str(tmp_path))
    inputs = []
    for path, source in sources[::3]:
        file = extract.load(path, source)
        contexts = extract.extract_all(path, source, parsed=file)
        for ctx, found in zip(contexts, signals.file_signals(contexts, file.lines), strict=True):
            for action in (Action.DOCSTRING, Action.REVIEW, Action.EXPLAIN):
                task = engine.task_for(action, ctx)
                with contextlib.suppress(TierwiseError):  # no docstring slot: no route
                    inputs.append((task, found, engine.token_estimate(task)))
    assert len(inputs) > 3_000
    compared = kept = sized = bare_count = 0
    for policy in _policies(engine.policy):
        for availability in (engine.pricing.availability, _CLOUD):
            decider = batch.Decider(policy, availability)
            for state in _STATES:
                for task, found, tokens in inputs:
                    full = router.route(task, found, policy, availability, state, tokens)
                    got = decider.route(task, found, state, tokens)
                    assert got == batch.Routed.of(full), (task.context.target.name, state)
                    bare = decider.without_local(got, task, found, state, tokens)
                    if bare is not None:  # on an assumed local: the same without one
                        no_local = evolve(state, assume_local=False)
                        alone = router.route(task, found, policy, availability, no_local, tokens)
                        assert bare == batch.Routed.of(alone), (task.context.target.name, state)
                        bare_count += 1
                    sized += any(" tokens, over the " in r for r in full.reasons)
                    compared += 1
            kept += len(decider._choices)
    # The choices were shared (far fewer kept than rows), and sizes moved some targets.
    assert kept < compared // 2 and sized > 1_000 and bare_count > 1_000
