"""A new version of a Python file from the previous one, re-parsing only the edited statements.

A full `ast.parse` of a 2,000-line module costs more than the whole budget of a request, and an
editor sends a new version on every keystroke. The edit (the text between the versions' common
prefix and suffix) almost always lies inside one function. So the smallest run of whole
statements that covers it, in the module's body or in a class body, is parsed on its own (under
a `class Name:` line for a class body, so its definitions are methods) and spliced into the
previous `ParsedFile`; everything after it moves by the number of lines the edit added.

The result must equal a full parse: every choice below is checked, and anything this module
cannot prove it handles (the slice does not parse, its statements are not all inside the class
it came from, line breaks other than "\\n", a region over half the file) makes it return None,
and the caller parses the whole file. tests/unit/test_incremental.py compares it with the full
parse on real files, edit after edit.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TypeVar

from tierwise.context.languages import Call, Definition, Import, ParsedFile
from tierwise.context.lazy import build_with, splice_blocks, stmt_start
from tierwise.context.python import _Builder
from tierwise.context.textdiff import Edit, diff
from tierwise.core.code import DocSlot, Span
from tierwise.core.records import evolve

Item = TypeVar("Item")

# Above this share of the file, one full parse is cheaper than a region parse that may fail.
MAX_REGION_SHARE = 0.5


def reparse(
    parsed: ParsedFile, old: str, old_lines: list[str], new: str
) -> tuple[ParsedFile, list[str]] | None:
    """The ParsedFile and lines of `new` from those of `old` (a full Python parse of it);
    None: parse the whole file."""
    edit = diff(old, old_lines, new)
    if edit is None:
        return None
    for owner, start, end in _regions(parsed, old_lines, edit):
        if (end - start + 1) > MAX_REGION_SHARE * len(old_lines):
            return None
        spliced = _splice(parsed, edit, owner, start, end)
        if spliced is not None:
            return spliced, edit.lines
    return None


def _chain_classes(definitions: tuple[Definition, ...], index: int | None) -> bool:
    """Whether a definition and all its ancestors are classes (their bodies can be re-parsed)."""
    while index is not None:
        if definitions[index].kind != "class":
            return False
        index = definitions[index].parent
    return True


def _blank(lines: list[str], first: int, stop: int) -> bool:
    """Whether lines [first, stop) hold only blanks and comments."""
    return all(
        not lines[n].strip() or lines[n].lstrip().startswith("#") for n in range(first, stop)
    )


def _regions(
    parsed: ParsedFile, old_lines: list[str], edit: Edit
) -> list[tuple[int | None, int, int]]:
    """Candidate (owner class index, or None for the module; first line; last line) in the old
    text, innermost first. Each runs from the start of the last definition at the owner's level
    that starts at or before the edit, to the line before the next one after it (else to the
    owner's end, or the file's end)."""
    definitions = parsed.definitions
    classes: list[int] = []
    for index, definition in enumerate(definitions):
        span = definition.span
        if definition.kind != "class" or span.start_line >= edit.first:
            continue
        # Lines typed just below a class may belong to its last method: try the class too.
        below = edit.first <= span.end_line or _blank(old_lines, span.end_line + 1, edit.first)
        if below and _chain_classes(definitions, index):
            classes.append(index)
    classes.sort(key=lambda i: definitions[i].span.start_line, reverse=True)
    owners: list[int | None] = [*classes, None]
    out: list[tuple[int | None, int, int]] = []
    for owner in owners:
        siblings = [d.span.start_line for d in definitions if d.parent == owner]
        before = sorted(line for line in siblings if line <= edit.first)
        after = [line for line in siblings if line > edit.old_last]
        if owner is None:
            starts = before[-2:][::-1] or [0]
            end = (min(after) - 1) if after else len(old_lines) - 1
        else:
            slot = definitions[owner].doc_slot
            if slot is None:
                continue
            # The body's first line after the docstring: class attributes have no def to start at.
            first = slot.existing.end_line + 1 if slot.existing is not None else slot.line
            starts = before[-2:][::-1] or ([first] if first <= edit.first else [])
            owner_end = definitions[owner].span.end_line
            end = (min(after) - 1) if after else max(owner_end, edit.old_last)
        # The definition the edit starts in, then also the one before it (a deleted def line
        # makes its body part of the previous definition's).
        out.extend((owner, start, end) for start in starts if end >= edit.old_last)
    return out


def _first_at_or_after(definitions: tuple[Definition, ...], line: int) -> int:
    """The index of the first definition starting at or after a line (they are in line order)."""
    for index, definition in enumerate(definitions):
        if definition.span.start_line >= line:
            return index
    return len(definitions)


def _ancestors(definitions: tuple[Definition, ...], owner: int | None) -> list[int]:
    chain: list[int] = []
    while owner is not None:
        chain.append(owner)
        owner = definitions[owner].parent
    return chain


def _decorator_lines(
    definitions: tuple[Definition, ...], chain: list[int]
) -> list[tuple[int, int]] | None:
    """Line ranges of the enclosing classes' decorators: the walk visits them after the class
    body, so their calls and names come after the region's in the file's lists."""
    ranges: list[tuple[int, int]] = []
    for index in chain:
        definition = definitions[index]
        if definition.name_span is None:
            return None
        keyword_line = definition.name_span.start_line
        if keyword_line > definition.span.start_line:
            ranges.append((definition.span.start_line, keyword_line - 1))
    return ranges


def _moved(span: Span, delta: int) -> Span:
    return Span(span.start_line + delta, span.start_col, span.end_line + delta, span.end_col)


def _shift_definition(definition: Definition, delta: int, parent: int | None) -> Definition:
    if delta == 0 and parent == definition.parent:
        return definition
    slot = definition.doc_slot
    if slot is not None and delta:
        existing = _moved(slot.existing, delta) if slot.existing is not None else None
        slot = DocSlot(slot.line + delta, slot.indent, existing, slot.existing_text)
    name_span = definition.name_span
    return evolve(
        definition,
        span=_moved(definition.span, delta),
        name_span=_moved(name_span, delta) if name_span is not None else None,
        doc_slot=slot,
        parent=parent,
    )


def _shift_import(item: Import, delta: int) -> Import:
    return item if delta == 0 else evolve(item, span=_moved(item.span, delta))


def _chain_end(
    definition: Definition, end: int, delta: int, builder: _Builder, last: ast.stmt
) -> Definition:
    """An enclosing class after the edit: its end moves with the lines after the region, or is
    the region's last statement's end when the region held its last statement."""
    span = definition.span
    if span.end_line > end:
        moved = Span(span.start_line, span.start_col, span.end_line + delta, span.end_col)
        return evolve(definition, span=moved)
    last_span = builder._span(last)
    end_line, end_col = last_span.end_line, last_span.end_col
    if builder.lines[end_line][end_col:].strip().startswith("#"):
        end_col = len(builder.lines[end_line])  # the trailing comment rule of python.py
    return evolve(definition, span=Span(span.start_line, span.start_col, end_line, end_col))


def _splice_items(
    old: tuple[Item, ...],
    new: tuple[Item, ...],
    start: int,
    end: int,
    delta: int,
    decorated: list[tuple[int, int]],
    line_of: Callable[[Item], int],
    shift: Callable[[Item], Item],
) -> tuple[Item, ...] | None:
    """Calls or names: the old ones of lines [start, end] replaced by the region's, in walk
    order (the region's come after everything above it, except enclosing classes' decorators),
    and the later ones moved by `delta` lines."""
    lines = [line_of(item) for item in old]
    lo = sum(1 for line in lines if line < start)
    count = sum(1 for line in lines if start <= line <= end)
    if decorated:
        on_decorators = {n for a, b in decorated for n in range(a, b + 1)}
        lo -= sum(1 for line in lines if line in on_decorators)
    hi = lo + count
    if any(not start <= line <= end for line in lines[lo:hi]):
        return None  # not one run in walk order: the assumption does not hold here
    if delta == 0:
        tail = old[hi:]
    else:
        pairs = zip(old[hi:], lines[hi:], strict=True)
        tail = tuple(shift(i) if line > end else i for i, line in pairs)
    return old[:lo] + new + tail


def _splice_calls_names(
    parsed: ParsedFile,
    region: ParsedFile,
    start: int,
    end: int,
    delta: int,
    decorated: list[tuple[int, int]],
) -> tuple[tuple[Call, ...] | None, tuple[tuple[str, int, int], ...] | None]:
    """The file's calls and names with the region's in place of old lines [start, end]."""
    calls = _splice_items(
        parsed.calls,
        region.calls,
        start,
        end,
        delta,
        decorated,
        lambda c: c.line,
        lambda c: Call(c.name, c.root, c.line + delta, c.col),
    )
    names = _splice_items(
        parsed.names,
        region.names,
        start,
        end,
        delta,
        decorated,
        lambda n: n[1],
        lambda n: (n[0], n[1] + delta, n[2]),
    )
    return calls, names


def _splice(
    parsed: ParsedFile, edit: Edit, owner: int | None, start: int, end: int
) -> ParsedFile | None:
    """Parse new lines [start, end + delta] on their own and put them in place of old lines
    [start, end]; None when the slice does not stand on its own exactly as it stood before."""
    definitions = parsed.definitions
    lines = edit.lines
    delta = edit.delta
    new_end = end + delta
    if new_end < start or new_end >= len(lines):
        return None
    header = "" if owner is None else f"class {definitions[owner].name}:\n"
    try:
        tree = ast.parse(header + "\n".join(lines[start : new_end + 1]))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    offset = start - (1 if header else 0)
    statements: list[ast.stmt] = tree.body
    if owner is not None:
        if len(tree.body) != 1 or not isinstance(tree.body[0], ast.ClassDef):
            return None  # a statement left the class: the structure changed
        statements = tree.body[0].body
        slot = definitions[owner].doc_slot
        width = len(slot.indent) if slot is not None else -1
        if any(s.col_offset != width for s in statements):
            return None  # the class body's indentation changed: its other statements would not fit
    if not statements:
        return None
    first = stmt_start(statements[0]) - 1 + offset
    if first < start or not _blank(lines, start, first):
        return None
    chain = _ancestors(definitions, owner)
    decorated = _decorator_lines(definitions, chain)
    if decorated is None:
        return None
    builder = _Builder(lines, offset)
    lazy = parsed.blocks is not None  # a big file's parse: no calls or names to splice
    region = build_with(builder, tree) if lazy else builder.build(tree)
    lo = _first_at_or_after(definitions, start)
    hi = _first_at_or_after(definitions, end + 1)
    if owner is None:
        added = [
            evolve(d, parent=None if d.parent is None else lo + d.parent)
            for d in region.definitions
        ]
    else:  # drop the stand-in class; its children belong to the real one
        added = [
            evolve(
                d,
                parent=owner
                if d.parent == 0
                else (None if d.parent is None else lo + d.parent - 1),
            )
            for d in region.definitions[1:]
        ]
    out = list(definitions[:lo])
    for index in chain:
        out[index] = _chain_end(out[index], end, delta, builder, statements[-1])
    if owner is not None:
        slot = out[owner].doc_slot
        if slot is None:
            return None
        if _blank(lines, slot.line, start):  # the region holds the class body's first statement
            out[owner] = evolve(
                out[owner],
                doc_slot=builder._doc_slot(tree.body[0], slot.line - 1, out[owner].indent),  # type: ignore[arg-type]
            )
    out.extend(added)
    moved_by = len(added) - (hi - lo)
    for definition in definitions[hi:]:
        parent = definition.parent
        if parent is not None and parent >= hi:
            parent += moved_by
        out.append(_shift_definition(definition, delta, parent))
    calls: tuple[Call, ...] | None = ()
    names: tuple[tuple[str, int, int], ...] | None = ()
    blocks = None
    if lazy:
        last = builder._span(statements[-1]).end_line
        own = region.blocks if owner is None else None
        blocks = splice_blocks(parsed.blocks or (), start, end, delta, own, last)
        if blocks is None:
            return None
    else:
        calls, names = _splice_calls_names(parsed, region, start, end, delta, decorated)
    if calls is None or names is None:
        return None
    if owner is None:
        imports = (
            *(i for i in parsed.imports if i.span.start_line < start),
            *region.imports,
            *(_shift_import(i, delta) for i in parsed.imports if i.span.start_line > end),
        )
        doc = region.module_doc_slot if _blank(lines, 0, start) else parsed.module_doc_slot
    else:
        imports = tuple(
            _shift_import(i, delta) if i.span.start_line > end else i for i in parsed.imports
        )
        doc = parsed.module_doc_slot
    return evolve(
        parsed,
        definitions=tuple(out),
        imports=imports,
        calls=calls,
        names=names,
        module_doc_slot=doc,
        blocks=blocks,
    )
