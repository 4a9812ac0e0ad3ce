"""The walk `tierwise plan` makes of a Python file: the full walk's definitions, imports and
calls, and of the names only those an import of the file binds.

A plan reads a file's names for one thing: which imports a target uses (context/gather.py
intersects the names inside the target with each import's bound names). The full walk
(context/python.py) records every name in walk order, for the server's requests and its
incremental reparse; here a name no import binds is dropped where its parent meets it, so it is
never pushed, popped or converted to a character column, and nodes that hold a single child and
collect nothing (an attribute's object, an expression statement's value, a keyword's value, ...)
are stepped through instead of visited. Calls, definitions and raises come in the same order
as the full walk's, so every context and row is the same
(tests/unit/test_plan_walk.py compares them on real files).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from tierwise.context import python
from tierwise.context.languages import Call, ParsedFile, language_for, split_lines
from tierwise.context.source import SourceFile, gc_paused, load


def _subclasses(cls: type) -> Iterator[type]:
    sub: type
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


# The node classes the walk visits: every one the full walk visits but a Name (recorded where
# its parent meets it) and the single-child ones in _STEP (stepped through). A field value of any
# other type (a leaf node, a str, an int, None) holds nothing the walk collects.
_VISITED = frozenset(
    c for c in _subclasses(ast.AST) if not issubclass(c, python._LEAVES) and c is not ast.Name
)
# Classes that collect nothing and have one field that can hold a collected node: the walk
# goes on with that field's value in their place, which keeps the order of everything else.
_STEP: dict[type, str] = {
    ast.Attribute: "value",
    ast.Expr: "value",
    ast.Return: "value",
    ast.Await: "value",
    ast.Starred: "value",
    ast.keyword: "value",
    ast.UnaryOp: "operand",
    ast.arg: "annotation",
    ast.Yield: "value",
    ast.YieldFrom: "value",
}
# Per visited class, the fields that can hold a collected node, in `_fields` order (the order
# of the full walk's children).
_FIELDS: dict[type, tuple[str, ...]] = {
    c: tuple(f for f in getattr(c, "_fields", ()) if f not in ("ctx", "op", "ops"))
    for c in _VISITED
}


class _PlanBuilder(python._Builder):
    """The full builder with a walk that keeps only the names in `bound`."""

    def __init__(self, lines: list[str], bound: frozenset[str]) -> None:
        super().__init__(lines)
        self.bound = bound

    def walk(self, tree: ast.Module) -> None:
        """Collect the tree's definitions, raises and calls (in the full walk's order) and the
        names in `bound`."""
        bound, names, calls, definitions = self.bound, self.names, self.calls, self.definitions
        position = self._pos
        visited, step, fields_of = _VISITED, _STEP, _FIELDS
        name_type, call_type, raise_type, lambda_type = ast.Name, ast.Call, ast.Raise, ast.Lambda
        stack: list[tuple[ast.AST, int | None, ast.AST | None]] = [(tree, None, None)]
        pop, push = stack.pop, stack.append
        while stack:
            node, parent, parent_node = pop()
            cls = type(node)
            child_parent = parent
            if cls is call_type:
                func = node.func  # type: ignore[attr-defined]
                name = python.dotted(func)
                if name:
                    line, col = position(node.lineno, node.col_offset)  # type: ignore[attr-defined]
                    calls.append(Call(name, python._root(func), line, col))
            elif cls in python._DEF_TYPES:
                definitions.append(self._definition(node, parent, parent_node))  # type: ignore[arg-type]
                child_parent = len(definitions) - 1
                parent_node = node
            elif cls is raise_type:
                self._raise(node, parent, parent_node)  # type: ignore[arg-type]
            elif cls is lambda_type:
                child_parent = None  # a raise inside a lambda is not its function's raise
            children: list[ast.AST] = []
            for field in fields_of[cls]:
                value: Any = getattr(node, field, None)
                child: Any
                for child in value if type(value) is list else (value,):
                    kind = type(child)
                    while kind in step:
                        child = getattr(child, step[kind])
                        kind = type(child)
                    if kind is name_type:
                        if child.id in bound:
                            line, col = position(child.lineno, child.col_offset)
                            names.append((child.id, line, col))
                    elif kind in visited:
                        children.append(child)
            for child in reversed(children):
                push((child, child_parent, parent_node))


def build(tree: ast.Module, lines: list[str]) -> ParsedFile:
    """The plan's ParsedFile of a module's tree: python.build's, but for the names, which are
    only those an import binds (in no particular order)."""
    bound = frozenset(
        name for found in python._Builder(lines)._imports(tree.body) for name, _ in found.bindings
    )
    return _PlanBuilder(lines, bound).build(tree)


def load_for_plan(path: str, source: str) -> SourceFile:
    """`source.load` of a file for `tierwise plan`: a Python file that parses is walked by
    `build` (every context extracted from it is the full load's), anything else as `load`."""
    if language_for(path) != "python":
        return load(path, source)
    with gc_paused():
        tree = python.parse_tree(source)
        if tree is None:
            return load(path, source)  # the fallback parse, as load gives it
        lines = split_lines(source)
        parsed = build(tree, lines)
        # Freed before the collector is back on: its first collection would walk every node
        # of the tree, about a thirtieth of a plan.
        del tree
    return SourceFile(path, source, "python", lines, parsed, "python")
