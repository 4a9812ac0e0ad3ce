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

import re
from pathlib import PurePath

from tierwise.context.fitting import fit, prune
from tierwise.context.gather import MAX_HELPERS, build_context, cross_file, file_calls, inside
from tierwise.context.languages import Definition, slice_span
from tierwise.context.source import SourceFile, load
from tierwise.core.code import CodeContext, Span, Target
from tierwise.core.errors import UsageError
from tierwise.core.text import plural

# Names other modules import from here (the parse and the fitting live next door).
__all__ = [
    "MAX_HELPERS",
    "SourceFile",
    "extract",
    "extract_all",
    "list_targets",
    "load",
    "prune",
]


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
        if inside(span, header):
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


def extract_all(
    path: str, source: str, *, budget_tokens: int = 2000, parsed: SourceFile | None = None
) -> list[CodeContext]:
    """The context of every target `list_targets` returns, parsing the file once (`parsed`:
    an earlier `load` of this very text, as for `extract`)."""
    fresh = parsed is not None and parsed.path == path and parsed.source == source
    file = parsed if fresh and parsed is not None else load(path, source)
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
        found = build_context(file, _target(file, definition), chain[:-1], chain, budget)
        file.memo[key] = found
    return found


def _selection_context(file: SourceFile, span: Span, budget: int) -> CodeContext:
    definitions = file.parsed.definitions
    enclosing = None
    for index, definition in enumerate(definitions):
        if definition.kind in ("function", "method") and inside(span, definition.span):
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
    return build_context(file, target, chain, chain, budget)


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
    calls = file_calls(file)
    called = tuple(dict.fromkeys(c.name for c in calls))
    return fit(
        CodeContext(target=target, called_names=called, cross_file_calls=cross_file(file, calls)),
        [],
        budget,
    )
