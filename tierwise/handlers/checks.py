"""Deterministic checks of a model's answer, one per action (docs/routing.md, "Verified answers").

A check reads only the answer, the target and its context: no model, no clock, no I/O. It
returns the first failure found, with a name the ledger records (`docstring.params`) and a
detail the user reads ("parameter qty not documented"), or None when the answer passes.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re
import sys
import textwrap

import attrs

from tierwise.context.imports import import_bindings
from tierwise.context.lexer import lex
from tierwise.core.code import CodeContext, Span, Target
from tierwise.core.results import (
    DocstringResult,
    MarkdownResult,
    RenameResult,
    Result,
    ReviewResult,
    TextEdit,
)
from tierwise.core.task import Action, Task
from tierwise.handlers.docstring_static import facts
from tierwise.handlers.docstring_update import missing_params
from tierwise.handlers.parsing import Layout, fenced_blocks, is_identifier

_WORD = re.compile(r"(?<![\w$.])[A-Za-z_$][\w$]*")
_ANY_WORD = re.compile(r"[A-Za-z_$][\w$]*")
# Parameter entries as each docstring style writes them.
_SPHINX_PARAM = re.compile(r"^\s*:(?:param|parameter|arg|argument|key)\s+(?:[^:]*\s)?\**(\w+)\s*:")
_JSDOC_PARAM = re.compile(r"@(?:param|arg|argument)\s+(?:\{[^}]*\}\s*)?\[?([\w$]+)")
_GOOGLE_HEADER = re.compile(
    r"^(?:Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments):\s*$"
)
_NUMPY_HEADER = re.compile(r"^(?:Parameters|Other Parameters)\s*$")
_GOOGLE_ENTRY = re.compile(r"^\**([A-Za-z_]\w*)\s*(?:\([^)]*\))?\s*:")
_NUMPY_ENTRY = re.compile(r"^\**([A-Za-z_]\w*)(?:\s*:.*)?$")
_BACKTICKED = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_CODE_NAME = re.compile(r"^[A-Za-z_$][\w$]*(?:(?:\.|::)[A-Za-z_$][\w$]*)*$")
_FILE_NAME = re.compile(
    r"\.(?:py|pyi|js|mjs|cjs|ts|tsx|go|rs|md|toml|json|txt|cfg|ini|ya?ml|lock)$"
)
# Names every language has that no code defines: a cited `None` or `Promise` is not invented.
_COMMON_TEXT = (
    "true false null undefined nil self cls this super Promise Error Object Array String Number "
    "Boolean Map Set JSON Math console window document async await err error ctx context "
    "fmt errors Result Option Some Ok Err Vec Box"
)
_COMMON = frozenset(_COMMON_TEXT.split())
_KNOWN_EVERYWHERE = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | _COMMON
_STDLIB = frozenset(sys.stdlib_module_names)


@attrs.frozen
class CheckFailure:
    """Why an answer failed its action's check: a stable name and a detail for the user."""

    name: str
    detail: str


def check(task: Task, result: Result) -> CheckFailure | None:
    """The first failure of the action's check on this answer, or None when it passes."""
    if isinstance(result, DocstringResult):
        return _docstring(task.context.target, result)
    if isinstance(result, RenameResult):
        return _rename(task, result)
    if isinstance(result, ReviewResult):
        return _review(task.context.target, result)
    if isinstance(result, MarkdownResult):
        return _cited_names(task, result)
    return None


# -- docstring -----------------------------------------------------------------------------------


def _docstring(target: Target, result: DocstringResult) -> CheckFailure | None:
    text = result.docstring
    if target.kind in ("function", "method"):
        params = [p.name.lstrip("*") for p in facts(target).params]
        params = [p for p in params if p not in ("self", "cls")]
        missing = [p.name.lstrip("*") for p in missing_params(target, text)]
        missing = [p for p in missing if p not in ("self", "cls")]
        # A PEP 257 one-line summary is a whole docstring for a function of one parameter.
        one_liner = "\n" not in text.strip() and len(params) <= 1
        if missing and not one_liner:
            return CheckFailure("docstring.params", f"{_params(missing)} not documented")
        invented = [name for name in documented_params(text) if name not in params]
        if invented:
            return CheckFailure(
                "docstring.params", f"documents {_params(invented)}, not in the signature"
            )
    if result.edit is not None and target.language == "python":
        return _docstring_edit(target, result.edit)
    return None


def _params(names: list[str]) -> str:
    shown = ", ".join(dict.fromkeys(names))
    return f"parameter{'s' if len(set(names)) > 1 else ''} {shown}"


def documented_params(text: str) -> list[str]:
    """Parameter names the docstring's parameter entries name (Google, NumPy, reST, JSDoc)."""
    names: list[str] = []
    lines = text.split("\n")
    section: str | None = None
    entry_indent: int | None = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        for pattern in (_SPHINX_PARAM, _JSDOC_PARAM):
            names += pattern.findall(line)
        indent = len(line) - len(line.lstrip())
        if _GOOGLE_HEADER.match(stripped):
            section, entry_indent = "google", None
            continue
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if _NUMPY_HEADER.match(stripped) and re.fullmatch(r"-{3,}", nxt):
            section, entry_indent = "numpy", indent
            continue
        if section is None or not stripped or re.fullmatch(r"-{3,}", stripped):
            continue
        if section == "google":
            if entry_indent is None:
                entry_indent = indent
            if indent < entry_indent:
                section = None
                continue
            if indent == entry_indent:
                match = _GOOGLE_ENTRY.match(stripped)
                if match is None:
                    section = None
                    continue
                names.append(match.group(1))
        elif section == "numpy" and indent == entry_indent:
            if i + 1 < len(lines) and re.fullmatch(r"-{3,}", nxt):
                section = None  # the next section's header
                continue
            match = _NUMPY_ENTRY.match(stripped)
            if match:
                names.append(match.group(1))
    return list(dict.fromkeys(names))


def _docstring_edit(target: Target, edit: TextEdit) -> CheckFailure | None:
    before = _parse_target(target)
    if before is None:
        return None  # a fragment that does not parse alone: nothing to compare with
    after_text = _apply(target, edit)
    if after_text is None:
        return CheckFailure("docstring.edit", "the edit lies outside the definition")
    try:
        after = ast.parse(textwrap.dedent(after_text))
    except SyntaxError as exc:
        return CheckFailure("docstring.edit", f"the edited code no longer parses ({exc.msg})")
    if _without_docstrings(before) != _without_docstrings(after):
        return CheckFailure("docstring.edit", "the edit changes code, not only the docstring")
    return None


def _without_docstrings(tree: ast.Module) -> str:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


# -- rename --------------------------------------------------------------------------------------


def _rename(task: Task, result: RenameResult) -> CheckFailure | None:
    target = task.context.target
    taken = _names_in_scope(task)
    convention = _convention(target)
    for candidate in result.candidates:
        name = candidate.name
        problem = is_identifier(name, target.language)
        if problem is not None:
            return CheckFailure("rename.identifier", problem)
        if name in taken:
            return CheckFailure("rename.collision", f"{name!r} is already a name in scope")
        if convention and _case(name) not in convention[1]:
            return CheckFailure(
                "rename.convention", f"{name!r} does not follow the file's {convention[0]}"
            )
    return None


def _names_in_scope(task: Task) -> set[str]:
    """Names a new name would collide with: the target's own, its imports, helpers, builtins."""
    ctx = task.context
    target = ctx.target
    code = lex(target.language, target.text).code
    names = {m.group(0) for m in _WORD.finditer(code)}
    names |= {name for name, _ in import_bindings(target.language, "\n".join(ctx.imports))}
    names |= {helper.name for helper in ctx.helpers}
    for signature in ctx.callees:
        match = re.search(r"\b(?:def|function|func|fn|class)\s+([\w$]+)", signature)
        if match:
            names.add(match.group(1))
    if target.language == "python":
        names |= set(dir(builtins))
    names.discard(target.name)
    return names


def _case(name: str) -> str:
    bare = name.strip("_")
    if not bare:
        return "other"
    if bare.isupper() and "_" in bare:
        return "constant"
    if "_" in bare:
        return "snake" if bare == bare.lower() else "other"
    if bare == bare.lower():
        return "lower"
    if bare[0].isupper():
        return "pascal"
    return "camel"


def _convention(target: Target) -> tuple[str, frozenset[str]] | None:
    """The naming convention a new name must follow: the current name's, else the language's."""
    current = _case(target.name)
    if current in ("snake", "camel", "pascal"):
        label = {"snake": "snake_case", "camel": "camelCase", "pascal": "PascalCase"}[current]
        allowed = {current, "lower"} if current != "pascal" else {current}
        if target.language == "go" and target.name[:1].isupper():
            allowed = {"pascal"}  # an exported Go name stays exported: its callers need it
        return label, frozenset(allowed)
    if target.kind == "class":
        return "PascalCase", frozenset({"pascal"})
    if target.language in ("python", "rust"):
        return "snake_case", frozenset({"snake", "lower"})
    # A one-word name says nothing of the file's convention, and JavaScript and Go code bases
    # use snake_case too (generated code, ports): only a function's PascalCase is off there.
    return "case for a function (not PascalCase)", frozenset({"camel", "lower", "snake"})


# -- review --------------------------------------------------------------------------------------


def _review(target: Target, result: ReviewResult) -> CheckFailure | None:
    parses = target.language == "python" and _parse_target(target) is not None
    for finding in result.findings:
        line = finding.span.start_line + 1
        if not _inside(finding.span, target.span):
            return CheckFailure(
                "review.range", f"the finding at line {line} lies outside the reviewed code"
            )
        if finding.replacement is None or target.language != "python":
            continue
        if parses:
            spliced = _apply(target, TextEdit(finding.span, finding.replacement))
            code = textwrap.dedent(spliced or "")
        else:
            code = textwrap.dedent(finding.replacement)
        if not _parses(code):
            return CheckFailure(
                "review.replacement", f"the replacement suggested at line {line} does not parse"
            )
    return None


def _inside(span: Span, outer: Span) -> bool:
    start = (span.start_line, span.start_col)
    end = (span.end_line, span.end_col)
    # A deletion of whole lines ends at column 0 of the line after the target.
    return (
        (outer.start_line, 0)
        <= start
        <= end
        <= max((outer.end_line, outer.end_col), (outer.end_line + 1, 0))
    )


# -- explain and design --------------------------------------------------------------------------


def _cited_names(task: Task, result: MarkdownResult) -> CheckFailure | None:
    ctx = task.context
    prose = result.markdown
    proposed = ""
    for _, body in fenced_blocks(prose):
        prose = prose.replace(body, "")
        proposed += body + "\n"
    known: set[str] | None = None  # the words of the code, read only if a name needs them
    for cited in _BACKTICKED.findall(prose):
        name = cited.strip().removesuffix("()")
        if not _CODE_NAME.match(name) or _FILE_NAME.search(name):
            continue  # an expression, a value or a file: not a name to look up
        parts = re.split(r"\.|::", name)
        if any(p in _KNOWN_EVERYWHERE or p in _STDLIB for p in parts):
            continue
        if known is None:
            known = _code_words(ctx, proposed if task.action is Action.DESIGN else "")
        if any(p in known for p in parts):
            continue
        return CheckFailure(
            f"{task.action.value}.names", f"cites `{name}`, which is not in the code"
        )
    return None


def _code_words(ctx: CodeContext, proposed: str) -> set[str]:
    """Every word of the target, its context, called names and helpers (and a design's own
    sketch, `proposed`: a design may cite the names it introduces)."""
    corpus = "\n".join(
        [ctx.target.text, ctx.render(), *ctx.called_names, *(h.text for h in ctx.helpers), proposed]
    )
    return set(_ANY_WORD.findall(corpus))


# -- shared --------------------------------------------------------------------------------------


def _parse_target(target: Target) -> ast.Module | None:
    if target.language != "python":
        return None
    try:
        return ast.parse(textwrap.dedent("\n".join(Layout.of(target).lines)))
    except SyntaxError:
        return None


def _parses(code: str) -> bool:
    for mode in ("exec", "eval"):
        try:
            ast.parse(code, mode=mode)
            return True
        except SyntaxError:
            continue
    return False


def _apply(target: Target, edit: TextEdit) -> str | None:
    """The target's text (document columns) with the edit applied; None when it lies outside."""
    layout = Layout.of(target)
    lines = list(layout.lines)
    span = edit.span
    first, last = span.start_line - layout.start_line, span.end_line - layout.start_line
    if first < 0 or last > len(lines) or (last == len(lines) and span.end_col > 0):
        return None
    lines.append("")  # the line after the target: a deletion of whole lines ends there
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    text = "\n".join(lines)
    start = offsets[first] + min(span.start_col, len(lines[first]))
    end = offsets[last] + min(span.end_col, len(lines[last]))
    return (text[:start] + edit.new_text + text[end:]).rstrip("\n") + "\n"
