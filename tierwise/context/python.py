"""Python files through the standard `ast` module.

`ast` reports UTF-8 byte columns; everything here converts them to character columns.
Decorators belong to their definition's span; a method is a def directly inside a class.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize

from tierwise.context.languages import (
    Call,
    ColumnMap,
    Definition,
    Import,
    ParsedFile,
    indent_of,
    slice_span,
)
from tierwise.core.code import DocSlot, Span
from tierwise.core.records import evolve

_DEF_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_DEF_TYPES = frozenset(_DEF_NODES)
# Nodes with nothing below them that the walk collects (no call, name, definition or raise):
# it does not descend into them. A Name's only child is its context, so it is one too.
_LEAVES = (
    ast.expr_context,
    ast.operator,
    ast.unaryop,
    ast.cmpop,
    ast.boolop,
    ast.Constant,
    ast.alias,
    ast.type_ignore,
)
# Per node class, the fields that can hold such nodes, in `_fields` order (the order
# `ast.iter_child_nodes` yields children in, so the walk's order is that of a plain walk).
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
_SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_BODY_INDENT = "    "
# A def/class keyword and the identifier after it (compiled once, not per definition).
_HEADER_NAME = re.compile(r"(?:def|class)\s+([^\W\d]\w*)")


def parse(source: str, lines: list[str]) -> ParsedFile | None:
    """Parse Python source; None when it does not parse (the caller falls back)."""
    tree = parse_tree(source)
    return None if tree is None else _Builder(lines).build(tree)


def parse_tree(source: str) -> ast.Module | None:
    """The module's tree; None when it does not parse."""
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # ValueError: NUL bytes
        return None


def build(tree: ast.Module, lines: list[str]) -> ParsedFile:
    """The ParsedFile of a module's tree (`lines` are its source's)."""
    return _Builder(lines).build(tree)


def dotted(node: ast.expr) -> str | None:
    """A call target as written: "cursor.execute", "conn.cursor().execute", "?.join"."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)  # "?" stands for a receiver with no name: "".join -> ?.join
        return f"{base or '?'}.{node.attr}"
    if isinstance(node, ast.Call):
        base = dotted(node.func)
        return f"{base}()" if base else None
    if isinstance(node, ast.Subscript):
        base = dotted(node.value)
        return f"{base}[]" if base else None
    return None


def _root(node: ast.expr) -> str:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


def is_docstring(stmt: ast.stmt) -> bool:
    """True for a bare string-literal expression statement."""
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


class _Builder:
    """Collects definitions, imports, calls and names from one parsed module.

    `line_offset` maps a tree parsed from a slice of the file (context/incremental.py) onto
    the file: its line N is the file's line N - 1 + line_offset (0-based).
    """

    def __init__(self, lines: list[str], line_offset: int = 0) -> None:
        self.lines = lines
        self.line_offset = line_offset
        self.cols = ColumnMap(lines)
        self.definitions: list[Definition] = []
        self.calls: list[Call] = []
        self.names: list[tuple[str, int, int]] = []
        # Raised names per function definition, gathered in the one walk of the tree.
        self.raised: dict[int, list[str]] = {}

    def build(self, tree: ast.Module) -> ParsedFile:
        """Everything the module holds, in one walk of the tree (depth first, children in
        `ast.iter_child_nodes` order, skipping the leaves that hold nothing it collects)."""
        self.walk(tree)
        return self.finish(tree, tuple(self.calls), tuple(self.names))

    def walk(self, tree: ast.Module) -> None:
        """Collect the tree's definitions, raises, calls and names."""
        stack: list[tuple[ast.AST, int | None, ast.AST | None]] = [(tree, None, None)]
        names, calls = self.names, self.calls
        while stack:
            node, parent, parent_node = stack.pop()
            cls = type(node)
            if cls is ast.Name:
                line, col = self._pos(node.lineno, node.col_offset)  # type: ignore[attr-defined]
                names.append((node.id, line, col))  # type: ignore[attr-defined]
                continue
            child_parent = parent
            if cls in _DEF_TYPES:
                self.definitions.append(self._definition(node, parent, parent_node))  # type: ignore[arg-type]
                child_parent = len(self.definitions) - 1
                parent_node = node
            elif cls is ast.Raise:
                self._raise(node, parent, parent_node)  # type: ignore[arg-type]
            elif cls is ast.Call:
                func = node.func  # type: ignore[attr-defined]
                name = dotted(func)
                if name:
                    line, col = self._pos(node.lineno, node.col_offset)  # type: ignore[attr-defined]
                    calls.append(Call(name, _root(func), line, col))
            elif cls is ast.Lambda:
                child_parent = None  # a raise inside a lambda is not its function's raise
            fields = _CHILD_FIELDS.get(cls)
            if fields is None:
                fields = _CHILD_FIELDS[cls] = tuple(
                    f for f in cls._fields if f not in ("ctx", "op", "ops")
                )
            children: list[ast.AST] = []
            for field in fields:
                value = getattr(node, field, None)
                if type(value) is list:
                    children.extend(
                        v for v in value if isinstance(v, ast.AST) and not isinstance(v, _LEAVES)
                    )
                elif isinstance(value, ast.AST) and not isinstance(value, _LEAVES):
                    children.append(value)
            stack.extend((child, child_parent, parent_node) for child in reversed(children))

    def finish(
        self,
        tree: ast.Module,
        calls: tuple[Call, ...],
        names: tuple[tuple[str, int, int], ...],
        blocks: tuple[tuple[int, int], ...] | None = None,
    ) -> ParsedFile:
        """The ParsedFile of what the walk collected (`blocks`: see context/lazy.py)."""
        definitions = tuple(
            evolve(d, raises=tuple(self.raised[i])) if i in self.raised else d
            for i, d in enumerate(self.definitions)
        )
        return ParsedFile(
            language="python",
            definitions=definitions,
            imports=tuple(self._imports(tree.body)),
            calls=calls,
            names=names,
            module_doc_slot=self._module_doc_slot(tree),
            blocks=blocks,
        )

    def _raise(self, node: ast.Raise, parent: int | None, parent_node: ast.AST | None) -> None:
        """Note a raised exception name against the function whose own body raises it."""
        if parent is None or not isinstance(parent_node, ast.FunctionDef | ast.AsyncFunctionDef):
            return
        if node.exc is None:
            return
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        name = dotted(exc)
        found = self.raised.setdefault(parent, [])
        if name and name not in found:
            found.append(name)

    def _pos(self, lineno: int, col_offset: int) -> tuple[int, int]:
        line = lineno - 1 + self.line_offset
        return line, self.cols.char_col(line, col_offset)

    def _span(self, node: ast.stmt | ast.expr) -> Span:
        line, col = self._pos(node.lineno, node.col_offset)
        end_lineno = node.end_lineno if node.end_lineno is not None else node.lineno
        end_offset = node.end_col_offset if node.end_col_offset is not None else node.col_offset
        end_line, end_col = self._pos(end_lineno, end_offset)
        return Span(line, col, end_line, end_col)

    def _definition(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
        parent: int | None,
        parent_node: ast.AST | None,
    ) -> Definition:
        span = self._span(node)
        rest = self.lines[span.end_line][span.end_col :].strip()
        if rest.startswith("#"):  # a trailing comment on the last line belongs to the target
            span = Span(
                span.start_line, span.start_col, span.end_line, len(self.lines[span.end_line])
            )
        if node.decorator_list:
            first = min(d.lineno for d in node.decorator_list) - 1 + self.line_offset
            span = Span(first, span.start_col, span.end_line, span.end_col)
        def_line, def_col = self._pos(node.lineno, node.col_offset)
        name_span = self._name_span(def_line, def_col, node.name)
        header_end = self._header_end(node, name_span)
        signature = slice_span(self.lines, Span(def_line, def_col, *header_end))
        is_class = isinstance(node, ast.ClassDef)
        in_class = isinstance(parent_node, ast.ClassDef)
        kind = "class" if is_class else ("method" if in_class else "function")
        owner = parent_node.name if in_class and isinstance(parent_node, ast.ClassDef) else None
        params: tuple[str, ...] = ()
        returns: str | None = None
        if not isinstance(node, ast.ClassDef):
            params = _params(node.args, drop_receiver=kind == "method")
            if node.returns is not None:
                returns = slice_span(self.lines, self._span(node.returns))
        return Definition(
            kind=kind,
            name=node.name,
            span=span,
            signature=signature,
            indent=indent_of(self.lines[def_line]),
            name_span=name_span,
            params=params,
            returns=returns,
            doc_slot=self._doc_slot(node, header_end[0], indent_of(self.lines[def_line])),
            parent=parent,
            owner=owner,
            self_names=("self", "cls") if kind == "method" else (),
        )

    def _header_end(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, name: Span | None
    ) -> tuple[int, int]:
        """Line and column just past the colon that ends the def/class header.

        Every `:` inside a header (annotations, lambdas, slices, type parameter bounds) lies
        inside a node of the header, and no string can follow its last node, so the colon is
        the first `:` outside a comment after the last of them (or after the name). That is
        what `header_end_by_tokens` finds by tokenizing, a sixth of a big file's parse.
        """
        last = _last_header_node(node)
        if last is not None:
            line, col = self._pos(*last)
        elif name is not None:
            line, col = name.end_line, name.end_col
        else:
            return self.header_end_by_tokens(node)
        stop = self._pos(node.body[0].lineno, node.body[0].col_offset)
        lines = self.lines
        while line < len(lines) and (line, col) < stop:
            text = lines[line]
            colon = text.find(":", col)
            comment = text.find("#", col)
            if colon >= 0 and (comment < 0 or colon < comment):
                if (line, colon) >= stop:
                    break
                return line, colon + 1
            line, col = line + 1, 0
        return self.header_end_by_tokens(node)

    def header_end_by_tokens(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    ) -> tuple[int, int]:
        """The header's end found by tokenizing it: the first `:` outside brackets."""
        start = self._pos(node.lineno, node.col_offset)
        body = self._pos(node.body[0].lineno, node.body[0].col_offset)
        header = slice_span(self.lines, Span(*start, *body))
        depth = 0
        try:
            for tok in tokenize.generate_tokens(io.StringIO(header).readline):
                if tok.type != tokenize.OP:
                    continue
                if tok.string in "([{":
                    depth += 1
                elif tok.string in ")]}":
                    depth -= 1
                elif tok.string == ":" and depth == 0:
                    row, col = tok.end
                    return start[0] + row - 1, (start[1] if row == 1 else 0) + col
        except (tokenize.TokenError, SyntaxError):
            pass
        return start[0], len(self.lines[start[0]].rstrip())

    def _name_span(self, line: int, col: int, name: str) -> Span | None:
        text = self.lines[line]
        match = _HEADER_NAME.search(text, col)
        while match is not None and match.group(1) != name:
            match = _HEADER_NAME.search(text, match.start() + 1)
        if match is None:
            return None
        return Span(line, match.start(1), line, match.end(1))

    def _doc_slot(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
        header_line: int,
        def_indent: str,
    ) -> DocSlot:
        first = node.body[0]
        first_line = first.lineno - 1 + self.line_offset
        indent = indent_of(self.lines[first_line]) if first_line > header_line else ""
        if first_line <= header_line:
            indent = def_indent + _BODY_INDENT
        if is_docstring(first):
            span = self._span(first)
            return DocSlot(header_line + 1, indent, span, slice_span(self.lines, span))
        return DocSlot(header_line + 1, indent)

    def _module_doc_slot(self, tree: ast.Module) -> DocSlot:
        if tree.body and is_docstring(tree.body[0]):
            span = self._span(tree.body[0])
            return DocSlot(span.start_line, "", span, slice_span(self.lines, span))
        line = 0
        while line < len(self.lines) and (
            not self.lines[line].strip() or self.lines[line].lstrip().startswith("#")
        ):
            line += 1
        if tree.body:
            line = min(line, tree.body[0].lineno - 1 + self.line_offset)
        return DocSlot(line, "")

    def _imports(self, body: list[ast.stmt]) -> list[Import]:
        """Module-level imports, including those under `if TYPE_CHECKING:` or `try:`."""
        found: list[Import] = []
        for stmt in body:
            if isinstance(stmt, ast.Import | ast.ImportFrom):
                span = self._span(stmt)
                bindings, external = _bindings(stmt)
                found.append(Import(slice_span(self.lines, span), span, bindings, external))
            elif isinstance(stmt, ast.If | ast.Try):
                nested = [*stmt.body, *stmt.orelse]
                if isinstance(stmt, ast.Try):
                    nested += [s for h in stmt.handlers for s in h.body] + stmt.finalbody
                found.extend(self._imports(nested))
        return found


def _last_header_node(
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
) -> tuple[int, int] | None:
    """Where the header's node that ends last ends (1-based line, byte column): a parameter
    (its annotation included), a default, the return annotation, a base, a keyword or a type
    parameter; None for `def f():` and `class A:`."""
    found: list[ast.AST] = list(getattr(node, "type_params", None) or [])
    if isinstance(node, ast.ClassDef):
        found += [*node.bases, *node.keywords]
    else:
        args = node.args
        found += [*args.posonlyargs, *args.args, *args.kwonlyargs, *args.defaults]
        found += [d for d in args.kw_defaults if d is not None]
        found += [a for a in (args.vararg, args.kwarg, node.returns) if a is not None]
    ends = [(getattr(n, "end_lineno", None), getattr(n, "end_col_offset", None)) for n in found]
    known = [(line, col) for line, col in ends if line is not None and col is not None]
    return max(known) if known else None


def _bindings(stmt: ast.Import | ast.ImportFrom) -> tuple[tuple[tuple[str, str], ...], bool]:
    pairs: list[tuple[str, str]] = []
    if isinstance(stmt, ast.Import):
        for alias in stmt.names:
            top = alias.name.split(".")[0]
            pairs.append((alias.asname, alias.name) if alias.asname else (top, top))
        modules = [alias.name for alias in stmt.names]
        external = any(m.split(".")[0] not in sys.stdlib_module_names for m in modules)
        return tuple(pairs), external
    module = "." * stmt.level + (stmt.module or "")
    for alias in stmt.names:
        if alias.name == "*":
            continue
        origin = module + alias.name if module.endswith(".") else f"{module}.{alias.name}"
        pairs.append((alias.asname or alias.name, origin))
    external = stmt.level > 0 or (stmt.module or "").split(".")[0] not in sys.stdlib_module_names
    return tuple(pairs), external


def _params(args: ast.arguments, *, drop_receiver: bool) -> tuple[str, ...]:
    names = [a.arg for a in (*args.posonlyargs, *args.args)]
    if drop_receiver and names and names[0] in ("self", "cls"):
        names = names[1:]
    if args.vararg:
        names.append("*" + args.vararg.arg)
    names.extend(a.arg for a in args.kwonlyargs)
    if args.kwarg:
        names.append("**" + args.kwarg.arg)
    return tuple(names)
