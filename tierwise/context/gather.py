"""What a target's context is made of, before it is fitted to a budget: the calls and names
inside it (a positional index per file version), the imports it uses, the signatures of the
same-file functions it calls, the helpers the routing signals look into, and the comment lines
above it.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from typing import Any

from tierwise.context import python
from tierwise.context.fitting import fit
from tierwise.context.languages import Call, Definition, Import, ParsedFile, slice_span
from tierwise.context.lazy import Block, Items, block_items
from tierwise.context.source import SourceFile, gc_paused
from tierwise.core.code import CodeContext, Helper, Span, Target

# Same-file definitions a target calls (and they call) that the routing signals look into.
MAX_HELPERS = 12
# Roots that reach other modules without an import (Rust paths).
_PATH_ROOTS = frozenset({"crate", "super"})
_LEADING_COMMENT = ("#", "//", "/*", "*", "--", ";")


def _within(span: Span, line: int, col: int) -> bool:
    return (span.start_line, span.start_col) <= (line, col) <= (span.end_line, span.end_col)


def _in_span(file: SourceFile, kind: str, span: Span) -> list[Any]:
    """The file's calls or names inside a span, in walk order.

    A sorted positional index per file version makes this a bisection, not a scan of every
    call and name of the file for each target (which made `plan` quadratic in file size). A
    big file's parse left them out: the blocks the span touches are walked (context/lazy.py).
    """
    parsed = file.parsed
    if parsed.blocks is not None:
        touched = _touched(file, parsed.blocks, span)
        if touched is not None:
            at = 0 if kind == "calls" else 1
            return [
                item for found in touched for item in found[at] if _within(span, *_position(item))
            ]
        parsed = _walked(file)
    index = file.memo.get(kind)
    if index is None:
        positions = (
            [(c.line, c.col, i) for i, c in enumerate(parsed.calls)]
            if kind == "calls"
            else [(n[1], n[2], i) for i, n in enumerate(parsed.names)]
        )
        positions.sort()
        index = file.memo[kind] = (positions, parsed.calls if kind == "calls" else parsed.names)
    positions, items = index
    lo = bisect.bisect_left(positions, (span.start_line, span.start_col, -1))
    hi = bisect.bisect_right(positions, (span.end_line, span.end_col, len(positions)))
    return [items[i] for i in sorted(p[2] for p in positions[lo:hi])]


def _position(item: Call | tuple[str, int, int]) -> tuple[int, int]:
    return (item.line, item.col) if isinstance(item, Call) else (item[1], item[2])


def _touched(file: SourceFile, blocks: tuple[Block, ...], span: Span) -> list[Items] | None:
    """The calls and names of each block a span's lines touch (each walked once per file
    version); None when one of them does not parse alone."""
    starts: list[int] | None = file.memo.get("block_starts")
    if starts is None:
        starts = file.memo["block_starts"] = [first for first, _ in blocks]
    index = max(bisect.bisect_right(starts, span.start_line) - 1, 0)
    out: list[Items] = []
    while index < len(blocks) and blocks[index][0] <= span.end_line:
        block = blocks[index]
        index += 1
        if block[1] < span.start_line:
            continue
        key = ("block", block)
        found: Items | None = file.memo.get(key)
        if found is None:
            found = block_items(file.lines, block)
            if found is None:
                return None
            file.memo[key] = found
        out.append(found)
    return out


def _walked(file: SourceFile) -> ParsedFile:
    """The whole file walked: a big file's module target, or one of its blocks did not parse
    alone."""
    found: ParsedFile | None = file.memo.get("walked")
    if found is None:
        with gc_paused():
            tree = python.parse_tree(file.source)
            found = file.parsed if tree is None else python.build(tree, file.lines)
        file.memo["walked"] = found
    return found


def file_calls(file: SourceFile) -> list[Call]:
    """Every call site of the file, in walk order."""
    # A big file's module target: one walk of the whole file, not one parse per block.
    return list((file.parsed if file.parsed.blocks is None else _walked(file)).calls)


def cross_file(file: SourceFile, calls: Iterable[Call]) -> int:
    """Call sites whose root name comes from a non-standard-library import (or a Rust path)."""
    external: set[str] | None = file.memo.get("external")
    if external is None:  # once per file version, not per target
        external = {n for imp in file.parsed.imports if imp.external for n, _ in imp.bindings}
        file.memo["external"] = external
    return sum(1 for call in calls if call.root in external or call.root in _PATH_ROOTS)


def build_context(
    file: SourceFile, target: Target, chain: list[int], owners: list[int], budget: int
) -> CodeContext:
    """Gather the context items for a target and fit them to the budget."""
    parsed = file.parsed
    definitions = parsed.definitions
    span = target.span
    calls: list[Call] = _in_span(file, "calls", span)
    used = {name for name, _, _ in _in_span(file, "names", span)}
    used.update(c.root for c in calls)
    bound = _bound_names(file)
    imports_used = [i.text for i, names in bound if not names.isdisjoint(used)]
    taken = set(imports_used)
    imports_other = [i.text for i in parsed.imports if i.text not in taken]
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
        if found is None or inside(definitions[found].span, span):
            continue
        called.append(found)
        signature = definitions[found].signature.strip()
        if signature not in callees:
            callees.append(signature)
    context = CodeContext(
        target=target,
        called_names=tuple(dict.fromkeys(c.name for c in calls)),
        cross_file_calls=cross_file(file, calls),
        leading_comment="" if target.kind == "selection" else _leading(file, span.start_line),
        helpers=_helpers(file, called, span),
    )
    items: list[tuple[str, str]] = []
    if enclosing:
        items.append(("enclosing", enclosing))
    items += [("import", text) for text in imports_used]
    items += [("callee", text) for text in callees]
    items += [("import", text) for text in imports_other]
    return fit(context, items, budget, import_order=[i.text for i in parsed.imports])


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
            if index in seen or inside(definition.span, span) or len(out) >= MAX_HELPERS:
                continue
            if definition.kind == "class":
                continue  # a class body is not what calling it runs
            seen.add(index)
            calls: list[Call] = _in_span(file, "calls", definition.span)
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


def inside(inner: Span, outer: Span) -> bool:
    return _within(outer, inner.start_line, inner.start_col) and _within(
        outer, inner.end_line, inner.end_col
    )


def _bound_names(file: SourceFile) -> list[tuple[Import, frozenset[str]]]:
    """Each import with the names it binds (built once per file version: every target of a
    file is checked against all of its imports)."""
    found: list[tuple[Import, frozenset[str]]] | None = file.memo.get("bound_names")
    if found is None:
        found = [(i, frozenset(b for b, _ in i.bindings)) for i in file.parsed.imports]
        file.memo["bound_names"] = found
    return found


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
