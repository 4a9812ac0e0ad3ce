"""Find the target code at a position and the context it needs, within a token budget.

Positions are 0-based (LSP style). Python goes through `ast`, JavaScript/TypeScript/Go/Rust
through tree-sitter, anything else (or a failure) through the fallback block heuristic.

Budget: the target text comes first. Context items are added most relevant first while they
fit: the enclosing class/function signatures, imports whose names the target uses, signatures
of same-file functions it calls, then the remaining imports. Sizes are `budget_tokens`, which
ignores what a formatter changes, so a reformatted copy gets the same context. The target
itself is never cut: one that alone exceeds the budget gets no context, and the router decides
(a tier with a larger budget, or a refusal that says so).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from pathlib import PurePath
from typing import Any

import attrs

from tierwise.context import fallback, grammars, incremental, python, treesitter
from tierwise.context.languages import (
    Call,
    Definition,
    ParsedFile,
    language_for,
    slice_span,
    split_lines,
)
from tierwise.core.code import (
    CodeContext,
    Helper,
    Span,
    Target,
    budget_tokens,
    significant_chars,
    tokens_of_significant,
)
from tierwise.core.errors import UsageError
from tierwise.core.text import plural

# Same-file definitions a target calls (and they call) that the routing signals look into.
MAX_HELPERS = 12
# Roots that reach other modules without an import (Rust paths).
_PATH_ROOTS = frozenset({"crate", "super"})
_LEADING_COMMENT = ("#", "//", "/*", "*", "--", ";")


@attrs.frozen
class SourceFile:
    """One parsed version of a file, shared by every extraction from it (the engine keeps
    recent ones, so cursor moves do not re-parse and edits re-parse only what changed)."""

    path: str
    source: str
    language: str
    lines: list[str]
    parsed: ParsedFile
    backend: str = "fallback"  # "python" (ast), "treesitter" or "fallback"
    # Positional indexes of calls and names (see _in_span) and contexts, built on first use.
    memo: dict[Any, Any] = attrs.field(factory=dict, eq=False, repr=False)


def load(path: str, source: str, previous: SourceFile | None = None) -> SourceFile:
    """Parse a file once for any number of extractions.

    With the previous version of the same Python file, only the statements the edit touched
    are parsed again (context/incremental.py); the result is the same as a full parse.
    """
    language = language_for(path)
    if previous is not None and previous.backend == "python" and previous.path == path:
        if previous.source == source:
            return previous
        found = incremental.reparse(previous.parsed, previous.source, previous.lines, source)
        if found is not None:
            return SourceFile(path, source, language, found[1], found[0], "python")
    lines = split_lines(source)
    parsed: ParsedFile | None = None
    backend = "fallback"
    if language == "python":
        parsed = python.parse(source, lines)
        backend = "python"
    elif language in grammars.LANGUAGES:
        parsed = treesitter.parse(language, source, lines)
        backend = "treesitter"
    if parsed is None:
        parsed = fallback.parse(source, lines, language)
        backend = "fallback"
    return SourceFile(path, source, language, lines, parsed, backend)


def extract(
    path: str,
    source: str,
    line: int,
    col: int = 0,
    *,
    end_line: int | None = None,
    end_col: int | None = None,
    budget_tokens: int = 2000,
    parsed: SourceFile | None = None,
) -> CodeContext:
    """The target at a 0-based position (or the selection up to end_line/end_col) with context.

    `parsed` is an earlier `load` result; it is used only when it is of this very text.
    """
    fresh = parsed is not None and parsed.path == path and parsed.source == source
    file = parsed if fresh and parsed is not None else load(path, source)
    _check_position(file, line, col, "position")
    if end_line is not None or end_col is not None:
        end_line = line if end_line is None else end_line
        end_col = col if end_col is None else end_col
        _check_position(file, end_line, end_col, "selection end")
        if (end_line, end_col) != (line, col):
            start, end = sorted([(line, col), (end_line, end_col)])
            span = _trimmed(file, Span(*start, *end))
            meant = _definition_meant(file, span)
            if meant is not None:
                return _definition_context(file, meant, budget_tokens)
            if not _one_word(file, span):
                return _selection_context(file, span, budget_tokens)
            line, col = span.start_line, span.start_col  # a name is not code to work on alone
    index = _innermost(file.parsed.definitions, line, col)
    if index is None:
        return _module_context(file, budget_tokens)
    return _definition_context(file, index, budget_tokens)


def _trimmed(file: SourceFile, span: Span) -> Span:
    """The span without the whitespace (and line breaks) at either end of what it covers."""
    lines = file.lines
    sl, sc, el, ec = span.start_line, span.start_col, span.end_line, span.end_col
    while (sl, sc) < (el, ec):
        if sc >= len(lines[sl]):
            sl, sc = sl + 1, 0
        elif lines[sl][sc].isspace():
            sc += 1
        else:
            break
    while (sl, sc) < (el, ec):
        if ec == 0:
            el, ec = el - 1, len(lines[el - 1])
        elif lines[el][ec - 1].isspace():
            ec -= 1
        else:
            break
    return Span(sl, sc, el, ec)


def _definition_meant(file: SourceFile, span: Span) -> int | None:
    """The definition a range means: one it covers exactly (with or without its decorators),
    else the innermost one whose header holds the whole range.

    Editors send ranges that are not selections: eglot sends the bounds of the expression at
    point (the whole function with the cursor on `def`, the name, the parameter list), and a
    linewise selection of a function starts at column 0 and ends past its last character.
    """
    found: int | None = None
    for index, definition in enumerate(file.parsed.definitions):
        whole = definition.span
        start, end = (span.start_line, span.start_col), (span.end_line, span.end_col)
        header = _header(file, definition)
        if end == (whole.end_line, whole.end_col) and start in (
            (whole.start_line, whole.start_col),
            (header.start_line, header.start_col),
        ):
            return index
        if _inside(span, header):
            found = index  # later definitions are nested deeper
    return found


def _header(file: SourceFile, definition: Definition) -> Span:
    """From the `def`/`class`/`function` keyword to the end of the signature."""
    text = slice_span(file.lines, definition.span)
    signature = definition.signature.strip()
    at = text.find(signature) if signature else -1
    if at < 0:
        name = definition.name_span or definition.span
        return Span(name.start_line, 0, name.end_line, len(file.lines[name.end_line]))
    start = _advance(definition.span.start_line, definition.span.start_col, text[:at])
    end = _advance(*start, signature)
    return Span(*start, *end)


def _advance(line: int, col: int, text: str) -> tuple[int, int]:
    breaks = text.count("\n")
    if not breaks:
        return line, col + len(text)
    return line + breaks, len(text) - text.rfind("\n") - 1


def _one_word(file: SourceFile, span: Span) -> bool:
    """A range over one name (or dotted name) on one line: what eglot sends for a cursor on
    it, and no code to review or explain on its own."""
    if span.start_line != span.end_line:
        return False
    text = file.lines[span.start_line][span.start_col : span.end_col]
    return re.fullmatch(r"[^\W\d][\w$]*(?:\.[^\W\d][\w$]*)*", text) is not None


def list_targets(path: str, source: str) -> list[Target]:
    """Every function, method and class in the file, in source order (for `tierwise plan`)."""
    file = load(path, source)
    return [_target(file, d) for d in file.parsed.definitions]


def extract_all(path: str, source: str, *, budget_tokens: int = 2000) -> list[CodeContext]:
    """The context of every target `list_targets` returns, parsing the file once."""
    file = load(path, source)
    return [
        _definition_context(file, index, budget_tokens)
        for index in range(len(file.parsed.definitions))
    ]


def _check_position(file: SourceFile, line: int, col: int, what: str) -> None:
    """0-based, as every caller but the CLI counts (the CLI checks 1-based positions first)."""
    count = len(file.lines)
    if line < 0 or line >= count:
        raise UsageError(
            f"{what} line {line} is outside {file.path}: the file has {plural(count, 'line')}, "
            f"so lines run 0 to {count - 1} (positions are 0-based)"
        )
    length = len(file.lines[line])
    if col < 0 or col > length:
        raise UsageError(
            f"{what} column {col} is outside line {line} of {file.path}: that line has "
            f"{plural(length, 'character')}, so columns run 0 to {length} (positions are 0-based)"
        )


def _innermost(definitions: tuple[Definition, ...], line: int, col: int) -> int | None:
    """The smallest definition whose lines contain the position (columns break ties)."""
    best: int | None = None
    best_key: tuple[int, int, int] | None = None
    for index, definition in enumerate(definitions):
        span = definition.span
        if not span.contains_line(line):
            continue
        one_line = span.start_line == span.end_line
        outside = one_line and not span.start_col <= col <= span.end_col
        key = (int(outside), span.end_line - span.start_line, -span.start_col)
        if best_key is None or key < best_key:
            best, best_key = index, key
    return best


def _target(file: SourceFile, definition: Definition) -> Target:
    return Target(
        path=file.path,
        language=file.language,
        kind=definition.kind,
        name=definition.name,
        span=definition.span,
        text=slice_span(file.lines, definition.span),
        signature=definition.signature,
        name_span=definition.name_span,
        params=definition.params,
        returns=definition.returns,
        raises=definition.raises,
        doc_slot=definition.doc_slot,
    )


def _ancestors(file: SourceFile, index: int | None) -> list[int]:
    """Indices of the enclosing definitions, outermost first (Go methods: their receiver type)."""
    chain: list[int] = []
    definitions = file.parsed.definitions
    current = index
    while current is not None:
        chain.append(current)
        current = definitions[current].parent
    chain.reverse()
    if chain:
        head = definitions[chain[0]]
        if head.kind == "method" and head.parent is None and head.owner:
            classes = (i for i, d in enumerate(definitions) if d.kind == "class")
            owner = next((i for i in classes if definitions[i].name == head.owner), None)
            if owner is not None:
                chain.insert(0, owner)
    return chain


def _definition_context(file: SourceFile, index: int, budget: int) -> CodeContext:
    # A pure function of this file version: every request at a cursor inside the same
    # definition (listings, a cache hit) gets the same frozen context without fitting it again.
    key = ("definition", index, budget)
    found: CodeContext | None = file.memo.get(key)
    if found is None:
        definition = file.parsed.definitions[index]
        chain = _ancestors(file, index)
        found = _build(file, _target(file, definition), chain[:-1], chain, budget)
        file.memo[key] = found
    return found


def _selection_context(file: SourceFile, span: Span, budget: int) -> CodeContext:
    definitions = file.parsed.definitions
    enclosing = None
    for index, definition in enumerate(definitions):
        if definition.kind in ("function", "method") and _inside(span, definition.span):
            enclosing = index  # later matches are nested deeper
    name = definitions[enclosing].name if enclosing is not None else "selection"
    target = Target(
        path=file.path,
        language=file.language,
        kind="selection",
        name=name,
        span=span,
        text=slice_span(file.lines, span),
        signature="",
    )
    chain = _ancestors(file, enclosing) if enclosing is not None else []
    return _build(file, target, chain, chain, budget)


def _module_context(file: SourceFile, budget: int) -> CodeContext:
    last = len(file.lines) - 1
    span = Span(0, 0, last, len(file.lines[last]))
    target = Target(
        path=file.path,
        language=file.language,
        kind="module",
        name=PurePath(file.path).stem or "module",
        span=span,
        text=slice_span(file.lines, span),
        signature="",
        doc_slot=file.parsed.module_doc_slot,
    )
    calls = file.parsed.calls
    called = tuple(dict.fromkeys(c.name for c in calls))
    return _fit(
        CodeContext(target=target, called_names=called, cross_file_calls=_cross_file(file, calls)),
        [],
        budget,
    )


def _within(span: Span, line: int, col: int) -> bool:
    return (span.start_line, span.start_col) <= (line, col) <= (span.end_line, span.end_col)


def _in_span(file: SourceFile, kind: str, span: Span) -> list[int]:
    """Indices (in walk order) of the file's calls or names inside a span.

    A sorted positional index per file version makes this a bisection, not a scan of every
    call and name of the file for each target (which made `plan` quadratic in file size).
    """
    index = file.memo.get(kind)
    if index is None:
        items = file.parsed.calls if kind == "calls" else file.parsed.names
        positions = (
            [(c.line, c.col, i) for i, c in enumerate(file.parsed.calls)]
            if kind == "calls"
            else [(n[1], n[2], i) for i, n in enumerate(file.parsed.names)]
        )
        positions.sort()
        index = file.memo[kind] = (positions, items)
    positions, _ = index
    lo = bisect.bisect_left(positions, (span.start_line, span.start_col, -1))
    hi = bisect.bisect_right(positions, (span.end_line, span.end_col, len(positions)))
    return sorted(p[2] for p in positions[lo:hi])


def _cross_file(file: SourceFile, calls: Iterable[Call]) -> int:
    """Call sites whose root name comes from a non-standard-library import (or a Rust path)."""
    external = {name for imp in file.parsed.imports if imp.external for name, _ in imp.bindings}
    return sum(1 for call in calls if call.root in external or call.root in _PATH_ROOTS)


def _build(
    file: SourceFile, target: Target, chain: list[int], owners: list[int], budget: int
) -> CodeContext:
    """Gather the context items for a target and fit them to the budget."""
    parsed = file.parsed
    definitions = parsed.definitions
    span = target.span
    calls = [parsed.calls[i] for i in _in_span(file, "calls", span)]
    used = {parsed.names[i][0] for i in _in_span(file, "names", span)}
    used.update(c.root for c in calls)
    imports_used = [i.text for i in parsed.imports if any(b in used for b, _ in i.bindings)]
    imports_other = [i.text for i in parsed.imports if i.text not in imports_used]
    enclosing = "\n".join(definitions[i].indent + definitions[i].signature.strip() for i in chain)
    self_names: set[str] = set()
    owner: str | None = None
    for i in owners:
        self_names.update(definitions[i].self_names)
        owner = definitions[i].owner or owner
    callees: list[str] = []
    called: list[int] = []
    for call in calls:
        found = _resolve(definitions, call.name, self_names, owner, _by_name(file))
        if found is None or _inside(definitions[found].span, span):
            continue
        called.append(found)
        signature = definitions[found].signature.strip()
        if signature not in callees:
            callees.append(signature)
    context = CodeContext(
        target=target,
        called_names=tuple(dict.fromkeys(c.name for c in calls)),
        cross_file_calls=_cross_file(file, calls),
        leading_comment="" if target.kind == "selection" else _leading(file, span.start_line),
        helpers=_helpers(file, called, span),
    )
    items: list[tuple[str, str]] = []
    if enclosing:
        items.append(("enclosing", enclosing))
    items += [("import", text) for text in imports_used]
    items += [("callee", text) for text in callees]
    items += [("import", text) for text in imports_other]
    return _fit(context, items, budget, import_order=[i.text for i in parsed.imports])


def _helpers(file: SourceFile, called: list[int], span: Span) -> tuple[Helper, ...]:
    """The definitions the target calls, then the ones those call (two levels: enough for a
    method that deletes through a helper of a helper), each once, the target's own excluded."""
    definitions = file.parsed.definitions
    seen: set[int] = set()
    out: list[Helper] = []
    level: list[tuple[int, str]] = [(index, "") for index in dict.fromkeys(called)]
    for _depth in range(2):
        following: list[tuple[int, str]] = []
        for index, via in level:
            definition = definitions[index]
            if index in seen or _inside(definition.span, span) or len(out) >= MAX_HELPERS:
                continue
            if definition.kind == "class":
                continue  # a class body is not what calling it runs
            seen.add(index)
            calls = [file.parsed.calls[i] for i in _in_span(file, "calls", definition.span)]
            names = tuple(dict.fromkeys(c.name for c in calls))
            text = slice_span(file.lines, definition.span)
            out.append(Helper(definition.name, text, names, via))
            for call in calls:
                self_names = set(definition.self_names)
                if definition.parent is not None:
                    self_names.update(definitions[definition.parent].self_names)
                found = _resolve(
                    definitions, call.name, self_names, definition.owner, _by_name(file)
                )
                if found is not None and found not in seen:
                    following.append((found, definition.name))
        level = following
    return tuple(out)


def _inside(inner: Span, outer: Span) -> bool:
    return _within(outer, inner.start_line, inner.start_col) and _within(
        outer, inner.end_line, inner.end_col
    )


def _by_name(file: SourceFile) -> dict[str, list[int]]:
    """Definition indices by name, in file order (built once per file version)."""
    found: dict[str, list[int]] | None = file.memo.get("by_name")
    if found is None:
        found = {}
        for index, definition in enumerate(file.parsed.definitions):
            found.setdefault(definition.name, []).append(index)
        file.memo["by_name"] = found
    return found


_CALL_PARTS = re.compile(r"\.|::")


def _resolve(
    definitions: tuple[Definition, ...],
    name: str,
    self_names: set[str],
    owner: str | None,
    by_name: dict[str, list[int]] | None = None,
) -> int | None:
    """The same-file definition a call name refers to, if any."""
    parts = [p for p in _CALL_PARTS.split(name) if p]
    if not parts or "()" in name or "[]" in name:
        return None
    last = parts[-1]
    named = (
        by_name.get(last, [])
        if by_name is not None
        else [i for i, d in enumerate(definitions) if d.name == last]
    )
    if len(parts) == 1:
        # A bare name: a function or class; else (Java, C#) a method of the same class.
        kinds = ("function", "class")
        candidates = [i for i in named if definitions[i].kind in kinds]
        candidates += [
            i
            for i in named
            if definitions[i].kind == "method"
            and owner is not None
            and definitions[i].owner == owner
        ]
        return candidates[0] if candidates else None
    if len(parts) != 2:
        return None
    root = parts[0]
    cls = owner if root in self_names else root
    for index in named:
        if definitions[index].kind == "method" and definitions[index].owner == cls:
            return index
    return None


def _leading(file: SourceFile, start_line: int) -> str:
    """The comment lines directly above a target (where an inline directive may sit)."""
    first = start_line
    while first > 0:
        text = file.lines[first - 1].strip()
        if not text.startswith(_LEADING_COMMENT) or text.startswith(("#[", "#!")):
            break
        first -= 1
    return "\n".join(line.strip() for line in file.lines[first:start_line])


# The significant characters of render()'s section headings (budget_tokens skips layout).
_HEADINGS = {
    "import": significant_chars("Imports:"),
    "enclosing": significant_chars("Enclosing:"),
    "callee": significant_chars("Signatures of functions it calls in this file:"),
}


def _fit(
    context: CodeContext,
    items: list[tuple[str, str]],
    budget: int,
    import_order: list[str] | None = None,
) -> CodeContext:
    """Add items while they fit; the target is always whole (over budget: no context).

    The size of each trial is counted, not rendered: budget_tokens counts significant
    characters, which add up over render()'s pieces, so an item adds its own characters and,
    for the first of its section, the heading's (tests/unit/test_fit_reference.py keeps this
    equal to assembling and rendering every trial).
    """
    target_tokens = budget_tokens(context.target.text)
    if target_tokens > budget:
        return context
    order = import_order or []
    in_order: dict[str, int] = {}
    for text in order:
        in_order[text] = in_order.get(text, 0) + 1
    chosen: dict[str, list[str]] = {"enclosing": [], "import": [], "callee": []}
    chosen_imports: set[str] = set()
    shown = {"enclosing": False, "import": False, "callee": False}  # section rendered yet
    size = 0  # significant characters of the context rendered from `chosen`
    accepted = False
    for kind, text in items:
        if kind == "import":
            # render() shows import_order's lines whose text was chosen, each time it occurs.
            copies = 0 if text in chosen_imports else in_order.get(text, 0)
            grows = copies * significant_chars(text)
            opens = copies > 0 and not shown["import"]
        elif kind == "enclosing":
            # Only the first enclosing item is rendered, and only when it is not empty.
            first = not chosen["enclosing"] and bool(text)
            grows = significant_chars(text) if first else 0
            opens = first
        else:
            grows = significant_chars(text)
            opens = not shown["callee"]
        trial = size + grows + (_HEADINGS[kind] if opens else 0)
        if target_tokens + tokens_of_significant(trial) <= budget:
            chosen[kind].append(text)
            if kind == "import":
                chosen_imports.add(text)
            shown[kind] = shown[kind] or opens
            size = trial
            accepted = True
    return _assemble(context, chosen, order) if accepted else context


def prune(context: CodeContext, budget: int) -> CodeContext:
    """The context cut down to a smaller budget, least relevant first: other callees and
    imports, then the enclosing signature. The target is never touched."""
    target_tokens = budget_tokens(context.target.text)
    current = context
    while target_tokens + budget_tokens(current.render()) > budget:
        if current.callees:
            current = attrs.evolve(current, callees=current.callees[:-1])
        elif current.imports:
            current = attrs.evolve(current, imports=current.imports[:-1])
        elif current.enclosing:
            current = attrs.evolve(current, enclosing=None)
        else:
            break
    return current


def _assemble(
    context: CodeContext, chosen: dict[str, list[str]], import_order: list[str]
) -> CodeContext:
    imports = [text for text in import_order if text in chosen["import"]]
    return attrs.evolve(
        context,
        imports=tuple(imports),
        callees=tuple(chosen["callee"]),
        enclosing=chosen["enclosing"][0] if chosen["enclosing"] else None,
    )
