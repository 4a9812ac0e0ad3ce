"""Big Python files without their calls and names until a request needs them.

Walking a 1 MB module for every call and identifier costs as much as parsing it, and pickling
what that walk finds (2.4 MB) from the parse child (engine/apart.py) costs a third more, while a
request reads the calls and names of one target. So a big file's parse walks only statements
(definitions, raises and imports are all statements) and records the module's top-level
statements as line ranges, `ParsedFile.blocks`. A request parses and walks the blocks its span
touches from their own lines (context/gather.py), as context/incremental.py does for an edit.

Top-level statements start at column 0, so a block's lines parse alone exactly as they parse in
the file, at the same lines and columns; statements that share a line (`a = 1; b = 2`) are one
block. The full walk visits each top-level statement's subtree in one run, in body order, so the
blocks' calls and names, in block order, are the full walk's. A block whose lines do not parse
as the same statements makes the caller walk the whole file (tests/unit/test_lazy_walk.py
compares both on real files).
"""

from __future__ import annotations

import ast

from tierwise.context.languages import Call, ParsedFile
from tierwise.context.python import _DEF_TYPES, _Builder

# From this many characters on the parse child builds the lazy form: below, the whole walk
# costs less than the blocks a few requests parse again (and small files are parsed in-process).
LAZY_CHARS = 250_000

Block = tuple[int, int]  # first and last line (0-based) of one or more top-level statements
Items = tuple[tuple[Call, ...], tuple[tuple[str, int, int], ...]]

# The fields that hold statements (an expression never holds one, so no definition or raise).
_STATEMENT_FIELDS = frozenset({"body", "handlers", "orelse", "finalbody", "cases"})
_FIELDS: dict[type, tuple[str, ...]] = {}


def build_lazy(tree: ast.Module, lines: list[str], line_offset: int = 0) -> ParsedFile:
    """The ParsedFile of a module's tree without calls and names, with its blocks."""
    return build_with(_Builder(lines, line_offset), tree)


def build_with(builder: _Builder, tree: ast.Module) -> ParsedFile:
    """`build_lazy` through a given builder (context/incremental.py reads its positions)."""
    _walk_statements(builder, tree)
    return builder.finish(tree, (), (), blocks_of(tree.body, builder.line_offset))


def _walk_statements(builder: _Builder, tree: ast.Module) -> None:
    """The full walk's definitions and raises, visiting only statement nodes (in the same
    order: depth first, fields in `_fields` order)."""
    stack: list[tuple[ast.AST, int | None, ast.AST | None]] = [(tree, None, None)]
    definitions = builder.definitions
    while stack:
        node, parent, parent_node = stack.pop()
        cls = type(node)
        child_parent = parent
        if cls in _DEF_TYPES:
            definitions.append(builder._definition(node, parent, parent_node))  # type: ignore[arg-type]
            child_parent = len(definitions) - 1
            parent_node = node
        elif cls is ast.Raise:
            builder._raise(node, parent, parent_node)  # type: ignore[arg-type]
        fields = _FIELDS.get(cls)
        if fields is None:
            fields = _FIELDS[cls] = tuple(f for f in cls._fields if f in _STATEMENT_FIELDS)
        children: list[ast.AST] = []
        for field in fields:
            children.extend(getattr(node, field))
        stack.extend((child, child_parent, parent_node) for child in reversed(children))


def stmt_start(node: ast.stmt) -> int:
    """The 1-based first line of a statement, decorators included."""
    decorators: list[ast.expr] = getattr(node, "decorator_list", None) or []
    return min([node.lineno, *(d.lineno for d in decorators)])


def blocks_of(body: list[ast.stmt], line_offset: int = 0) -> tuple[Block, ...]:
    """The module's top-level statements as line ranges, those sharing a line merged."""
    out: list[Block] = []
    for stmt in body:
        first = stmt_start(stmt) - 1 + line_offset
        last = (stmt.end_lineno or stmt.lineno) - 1 + line_offset
        if out and first <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    return tuple(out)


def block_items(lines: list[str], block: Block) -> Items | None:
    """The calls and names of one block, in walk order; None when its lines do not parse as
    that block alone."""
    first, last = block
    try:
        tree = ast.parse("\n".join(lines[first : last + 1]))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if blocks_of(tree.body, first) != (block,):
        return None
    builder = _Builder(lines, first)
    builder.walk(tree)
    return tuple(builder.calls), tuple(builder.names)


def splice_blocks(
    blocks: tuple[Block, ...],
    start: int,
    end: int,
    delta: int,
    region: tuple[Block, ...] | None,
    region_last: int,
) -> tuple[Block, ...] | None:
    """The blocks after old lines [start, end] were re-parsed (context/incremental.py): a
    module-level region's own `region` blocks replace those inside it; a class-body region
    (`region` None) stays inside one block, which ends where it did (moved by `delta`) or,
    when the region held its last lines, at `region_last`. None: not a case this can prove."""
    before = [b for b in blocks if b[1] < start]
    touched = [b for b in blocks if b[1] >= start and b[0] <= end]
    after = [(s + delta, e + delta) for s, e in blocks if s > end]
    if region is not None:
        if any(s < start or e > end for s, e in touched):
            return None
        middle = list(region)
    else:
        if not touched or touched[0][0] > start:
            return None
        first, last = touched[0][0], touched[-1][1]
        if last > end and len(touched) > 1:
            return None
        middle = [(first, last + delta if last > end else region_last)]
    return (*before, *middle, *after)
