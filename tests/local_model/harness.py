"""Asking the real local model through the real engine, and judging what came back without
tierwise's own checks, for tests/local_model and bench/local_model.py.

Targets are real functions from the pinned packages of the routing corpus (tests/routing; fetched
by tests/realcode.py, never committed). The engine is built from a user config file, as a user's
is, and every request it runs is read back from its ledger.
"""

from __future__ import annotations

import ast
import keyword
import re
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from tests.routing.corpus import Case, Located, load_cases, locate
from tierwise.config import load_config
from tierwise.context.extract import SourceFile
from tierwise.core.code import Span
from tierwise.core.errors import TierwiseError
from tierwise.core.results import (
    DocstringResult,
    MarkdownResult,
    RenameResult,
    Result,
    ReviewResult,
    TextEdit,
)
from tierwise.core.task import Task
from tierwise.engine import Engine, Outcome

SEVERITIES = frozenset({"error", "warning", "info", "hint"})
_JS_WORDS = (
    "break case catch class const continue debugger default delete do else export extends false "
    "finally for function if import in instanceof new null return super switch this throw true "
    "try typeof var void while with yield let static enum await implements package protected "
    "interface private public"
)
_JS_RESERVED = frozenset(_JS_WORDS.split())
_GO_WORDS = (
    "break default func interface select case defer go map struct chan else goto package switch "
    "const fallthrough if range type continue for import return var"
)
_GO_RESERVED = frozenset(_GO_WORDS.split())
_IDENTIFIER = {"javascript": r"[A-Za-z_$][\w$]*", "typescript": r"[A-Za-z_$][\w$]*"}


@attrs.frozen
class Target:
    """A real definition to ask about: where it is and its text."""

    id: str  # "project:file:symbol"
    language: str
    located: Located


@attrs.define
class Attempt:
    """One request as it ran: the outcome or the error, the ledger rows it wrote, the time."""

    target: Target
    action: str
    task: Task
    outcome: Outcome | None
    error: TierwiseError | None
    rows: list[dict[str, Any]]
    seconds: float

    @property
    def first(self) -> dict[str, Any]:
        """The ledger row of the first tier's answer (or failure)."""
        return self.rows[0]


def engine_from(config_text: str, root: Path) -> Engine:
    """An engine built from a user config file under `root`, with its own ledger and no cache
    (every request reaches the model)."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "config.toml"
    path.write_text(
        config_text
        + f'\n[ledger]\npath = "{root / "ledger.sqlite3"}"\n'
        + f'\n[cache]\nenabled = false\ndir = "{root / "cache"}"\n',
        encoding="utf-8",
    )
    config, _ = load_config(config_path=path, workspace_root=root)
    return Engine(config, workspace_root=str(root))


def targets(
    *, languages: Iterable[str] = ("python",), actions: Iterable[str] | None = None
) -> list[Target]:
    """Distinct definitions of the corpus, in corpus order (optionally only the cases of some
    actions), in the given languages."""
    wanted_actions = set(actions) if actions is not None else None
    langs = set(languages)
    seen: set[str] = set()
    parsed: dict[Path, SourceFile] = {}
    out: list[Target] = []
    for case in load_cases():
        if case.language not in langs:
            continue
        if wanted_actions is not None and case.action not in wanted_actions:
            continue
        key = f"{case.project}:{case.file}:{case.symbol}"
        if key in seen:
            continue
        seen.add(key)
        out.append(Target(key, case.language, locate(case, parsed)))
    return out


def target_of(case: Case) -> Target:
    """The target of one corpus case."""
    return Target(f"{case.project}:{case.file}:{case.symbol}", case.language, locate(case))


def build(engine: Engine, action: str, target: Target, *, tier: str | None = None) -> Task:
    """The task an editor request at the definition's name would make."""
    at = target.located
    return engine.build_task(action, str(at.path), at.source, at.line, at.col, tier=tier)


def _last_id(engine: Engine) -> int:
    con = sqlite3.connect(engine.ledger_path)
    try:
        return int(con.execute("SELECT COALESCE(MAX(id), 0) FROM requests").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()


def rows_after(engine: Engine, after: int) -> list[dict[str, Any]]:
    """The ledger rows written after row `after`, oldest first."""
    con = sqlite3.connect(engine.ledger_path)
    con.row_factory = sqlite3.Row
    try:
        found = con.execute("SELECT * FROM requests WHERE id > ? ORDER BY id", (after,))
        return [dict(row) for row in found.fetchall()]
    finally:
        con.close()


async def attempt(
    engine: Engine, action: str, target: Target, *, tier: str | None = None
) -> Attempt:
    """Run one request end to end; a TierwiseError is kept, not raised."""
    task = build(engine, action, target, tier=tier)
    before = _last_id(engine)
    started = time.perf_counter()
    outcome: Outcome | None = None
    error: TierwiseError | None = None
    try:
        outcome = await engine.run(task)
    except TierwiseError as exc:
        error = exc
    finally:
        await engine.stores.drain()
    seconds = time.perf_counter() - started
    return Attempt(target, action, task, outcome, error, rows_after(engine, before), seconds)


# -- judging an answer without tierwise's checks ---------------------------------------------


def problems(task: Task, result: Result) -> list[str]:
    """What makes an answer unusable, judged independently of tierwise's checks (handlers/
    checks.py): an edit that changes code or breaks parsing, an undocumented or invented
    parameter, an invalid name, a finding outside the target, an empty document."""
    if isinstance(result, DocstringResult):
        return _docstring_problems(task, result)
    if isinstance(result, RenameResult):
        return _rename_problems(task, result)
    if isinstance(result, ReviewResult):
        return _review_problems(task, result)
    if isinstance(result, MarkdownResult):
        return [] if result.markdown.strip() else ["an empty document"]
    return [f"an unknown result type {type(result).__name__}"]


def apply_edit(source: str, edit: TextEdit) -> str:
    """The source with one edit applied (0-based lines, columns in characters)."""
    lines = source.splitlines(keepends=True)
    span = edit.span

    def offset(line: int, col: int) -> int:
        return sum(len(text) for text in lines[:line]) + col

    start = offset(span.start_line, span.start_col)
    end = offset(span.end_line, span.end_col)
    return source[:start] + edit.new_text + source[end:]


def without_docstrings(tree: ast.AST) -> str:
    """The syntax tree's dump with every docstring left out (to compare code, not prose)."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def _function_at(tree: ast.AST, line: int) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            if first <= line + 1 <= node.body[0].lineno:
                return node
    return None


def _param_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    args = function.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    every += [a for a in (args.vararg, args.kwarg) if a is not None]
    return [a.arg for a in every if a.arg not in ("self", "cls")]


def _docstring_problems(task: Task, result: DocstringResult) -> list[str]:
    if result.edit is None:
        return [] if result.note else ["no edit and no note saying why"]
    target = task.context.target
    source = Path(target.path).read_text(encoding="utf-8")
    edited = apply_edit(source, result.edit)
    if target.language != "python":
        inserted = result.edit.new_text.strip()
        comment = inserted.startswith(("/**", "//", "/*")) and (
            inserted.endswith("*/") or inserted.startswith("//")
        )
        return [] if comment else [f"the edit inserts code, not a comment: {inserted[:60]!r}"]
    try:
        after = ast.parse(edited)
    except SyntaxError as exc:
        return [f"the edited file no longer parses: {exc.msg} (line {exc.lineno})"]
    if without_docstrings(after) != without_docstrings(ast.parse(source)):
        return ["the edit changes code, not only the docstring"]
    function = _function_at(ast.parse(source), target.span.start_line)
    if function is None:
        return []
    params = _param_names(function)
    words = set(re.findall(r"\w+", result.docstring))
    missing = [p for p in params if p not in words]
    if len(params) >= 2 and missing:
        return [f"parameter {', '.join(missing)} not documented"]
    return []


def _rename_problems(task: Task, result: RenameResult) -> list[str]:
    language = task.context.target.language
    if not result.candidates:
        return ["no candidates"]
    out: list[str] = []
    for candidate in result.candidates:
        name = candidate.name
        if language == "python":
            valid = name.isidentifier() and not keyword.iskeyword(name)
        else:
            pattern = _IDENTIFIER.get(language, r"[A-Za-z_]\w*")
            reserved = _GO_RESERVED if language == "go" else _JS_RESERVED
            valid = re.fullmatch(pattern, name) is not None and name not in reserved
        if not valid:
            out.append(f"{name!r} is not a valid {language} identifier")
        if name == result.old_name:
            out.append(f"{name!r} is the current name")
    return out


def _review_problems(task: Task, result: ReviewResult) -> list[str]:
    span: Span = task.context.target.span
    out: list[str] = []
    for finding in result.findings:
        if finding.severity not in SEVERITIES:
            out.append(f"severity {finding.severity!r}")
        if not finding.message.strip():
            out.append("a finding with no message")
        inside = span.start_line <= finding.span.start_line <= finding.span.end_line
        if not inside or finding.span.end_line > span.end_line + 1:
            out.append(
                f"a finding at lines {finding.span.start_line + 1}-{finding.span.end_line + 1},"
                f" outside the target (lines {span.start_line + 1}-{span.end_line + 1})"
            )
    return out
