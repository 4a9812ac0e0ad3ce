"""JavaScript, TypeScript/TSX, Go and Rust through py-tree-sitter and the bundled grammar wheels.

The grammars are loaded in grammars.py; here a tree becomes a `ParsedFile`. Trees are walked node by
node (the Query API changed in py-tree-sitter 0.25). tree-sitter reports byte columns; they are
converted to character columns. A file with syntax errors still yields a best-effort tree.
"""

from __future__ import annotations

import re

import tree_sitter

from tierwise.context.grammars import COMMENT_TYPES, node_text, parse_tree
from tierwise.context.imports import import_bindings
from tierwise.context.languages import (
    Call,
    ColumnMap,
    Definition,
    Import,
    ParsedFile,
    indent_of,
    slice_span,
)
from tierwise.context.ts_nodes import js_external, last_row, render, string_value
from tierwise.core.code import DocSlot, Span

_JS = frozenset({"javascript", "typescript", "tsx"})
_FUNCTION_VALUES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function"}
)
_NESTED_SCOPES = _FUNCTION_VALUES | {
    "function_declaration",
    "generator_function_declaration",
    "method_definition",
    "class_declaration",
    "class",
}
_NAME_TYPES = frozenset(
    {"identifier", "type_identifier", "package_identifier", "shorthand_property_identifier"}
)


def parse(language: str, source: str, lines: list[str]) -> ParsedFile | None:
    """Definitions, imports, calls and names of a file; None when no grammar is available."""
    tree = parse_tree(language, source.encode("utf-8"))
    if tree is None:
        return None
    return _Builder(language, lines).build(tree.root_node)


class _Builder:
    """Walks one tree and collects what extract.py needs."""

    def __init__(self, language: str, lines: list[str]) -> None:
        self.language = language
        self.lines = lines
        self.cols = ColumnMap(lines)
        self.definitions: list[Definition] = []
        self.calls: list[Call] = []
        self.names: list[tuple[str, int, int]] = []

    def build(self, root: tree_sitter.Node) -> ParsedFile:
        stack: list[tuple[tree_sitter.Node, int | None]] = [(root, None)]
        while stack:
            node, parent = stack.pop()
            child_parent = parent
            if node.type in COMMENT_TYPES:
                continue
            for definition in self._definitions(node, parent):
                self.definitions.append(definition)
                child_parent = len(self.definitions) - 1
            self._collect_call(node)
            if node.type in _NAME_TYPES:
                line, col = self._point(node.start_point)
                self.names.append((node_text(node), line, col))
            stack.extend((child, child_parent) for child in reversed(node.children))
        return ParsedFile(
            language=self.language,
            definitions=tuple(self.definitions),
            imports=tuple(self._imports(root)),
            calls=tuple(self.calls),
            names=tuple(self.names),
        )

    # --- positions -------------------------------------------------------------------------

    def _point(self, point: tree_sitter.Point) -> tuple[int, int]:
        return point.row, self.cols.char_col(point.row, point.column)

    def _span(self, first: tree_sitter.Node, last: tree_sitter.Node | None = None) -> Span:
        last = last or first
        start = self._point(first.start_point)
        end = self._point(last.end_point)
        if last.type in COMMENT_TYPES and last_row(last) != last.end_point.row:
            end = (last_row(last), len(self.lines[last_row(last)]))
        return Span(*start, *end)

    # --- definitions -----------------------------------------------------------------------

    def _definitions(self, node: tree_sitter.Node, parent: int | None) -> list[Definition]:
        kind = node.type
        js, go, rust = self.language in _JS, self.language == "go", self.language == "rust"
        if js and kind in ("function_declaration", "generator_function_declaration"):
            return [self._make("function", node, node, node.child_by_field_name("name"), parent)]
        if js and kind == "method_definition":
            return [self._make("method", node, node, node.child_by_field_name("name"), parent)]
        if js and kind in ("class_declaration", "abstract_class_declaration"):
            return [self._make("class", node, node, node.child_by_field_name("name"), parent)]
        if js and kind == "variable_declarator":
            value = node.child_by_field_name("value")
            name = node.child_by_field_name("name")
            if value is None or value.type not in _FUNCTION_VALUES or name is None:
                return []
            if name.type != "identifier":
                return []
            single = node.parent is not None and node.parent.named_child_count == 1
            outer = node.parent if single and node.parent is not None else node
            return [self._make("function", outer, value, name, parent)]
        if js and kind == "expression_statement":
            return self._assigned_function(node, parent)
        if js and kind in ("field_definition", "public_field_definition"):
            value = node.child_by_field_name("value")
            name = node.child_by_field_name("property") or node.child_by_field_name("name")
            if value is None or value.type not in _FUNCTION_VALUES:
                return []
            return [self._make("method", node, value, name, parent)]
        if go and kind == "function_declaration":
            return [self._make("function", node, node, node.child_by_field_name("name"), parent)]
        if go and kind == "method_declaration":
            return [self._make("method", node, node, node.child_by_field_name("name"), parent)]
        if go and kind == "type_declaration":
            specs = [c for c in node.named_children if c.type == "type_spec"]
            found = []
            for spec in specs:
                body = spec.child_by_field_name("type")
                if body is not None and body.type in ("struct_type", "interface_type"):
                    outer = node if len(specs) == 1 else spec
                    found.append(
                        self._make("class", outer, spec, spec.child_by_field_name("name"), parent)
                    )
            return found
        if rust and kind == "function_item":
            container = node.parent.parent if node.parent is not None else None
            in_impl = container is not None and container.type in ("impl_item", "trait_item")
            kind_name = "method" if in_impl else "function"
            return [self._make(kind_name, node, node, node.child_by_field_name("name"), parent)]
        if rust and kind in ("struct_item", "enum_item", "trait_item", "union_item"):
            return [self._make("class", node, node, node.child_by_field_name("name"), parent)]
        if rust and kind == "impl_item":
            return [self._make("class", node, node, node.child_by_field_name("type"), parent)]
        return []

    def _assigned_function(self, node: tree_sitter.Node, parent: int | None) -> list[Definition]:
        """CommonJS definitions: `exports.sign = function (...)`, `Foo.prototype.bar = ...`,
        `module.exports = function (...)` (named after what it is assigned to)."""
        assignment = node.named_children[0] if node.named_child_count == 1 else None
        if assignment is None or assignment.type != "assignment_expression":
            return []
        value = assignment.child_by_field_name("right")
        left = assignment.child_by_field_name("left")
        if value is None or value.type not in _FUNCTION_VALUES or left is None:
            return []
        name: tree_sitter.Node | None
        if left.type == "identifier":
            name = left
        elif left.type == "member_expression":
            name = left.child_by_field_name("property")
        else:
            return []
        return [self._make("function", node, value, name, parent)]

    def _make(
        self,
        kind: str,
        outer: tree_sitter.Node,
        func: tree_sitter.Node,
        name_node: tree_sitter.Node | None,
        parent: int | None,
    ) -> Definition:
        """Build a Definition; `outer` is the statement (with export/attributes), `func` the def."""
        declarations = (
            "lexical_declaration",
            "variable_declaration",
            "type_declaration",
            "expression_statement",
        )
        sig_node = outer if outer.type in declarations else func
        if outer.parent is not None and outer.parent.type == "export_statement":
            outer = outer.parent
        first = self._first_node(outer)
        span = self._span(first, outer)
        body = func.child_by_field_name("body")
        if func.type == "type_spec":
            body = func.child_by_field_name("type")
        sig_start = next(
            (c for c in sig_node.children if c.type not in ("decorator", *COMMENT_TYPES)), sig_node
        )
        signature = self._signature(sig_start, sig_node, body)
        name = node_text(name_node) if name_node is not None else "<anonymous>"
        if kind == "class" and func.type == "impl_item":
            name = re.sub(r"<.*", "", name).strip()
        owner, self_names = self._owner(kind, func, parent)
        line = span.start_line
        return Definition(
            kind=kind,
            name=name,
            span=span,
            signature=signature,
            indent=indent_of(self.lines[line]),
            name_span=self._span(name_node) if name_node is not None else None,
            params=self._params(func),
            returns=self._returns(func),
            raises=self._raises(body) if body is not None and self.language in _JS else (),
            doc_slot=self._doc_slot(first, line),
            parent=parent,
            owner=owner,
            self_names=self_names,
        )

    def _first_node(self, outer: tree_sitter.Node) -> tree_sitter.Node:
        """Extend back over decorators (TS class members) and attributes (Rust)."""
        first = outer
        prev = outer.prev_named_sibling
        while prev is not None and prev.type in ("decorator", "attribute_item"):
            first, prev = prev, prev.prev_named_sibling
        return first

    def _signature(
        self, start: tree_sitter.Node, node: tree_sitter.Node, body: tree_sitter.Node | None
    ) -> str:
        begin = self._point(start.start_point)
        if body is not None and body.type not in ("struct_type", "interface_type"):
            end = self._point(body.start_point)
            return slice_span(self.lines, Span(*begin, *end)).rstrip()
        text = slice_span(self.lines, self._span(start, node))
        brace = text.find("{")
        return (text[:brace] if brace >= 0 else text.split("\n")[0]).rstrip()

    def _owner(
        self, kind: str, func: tree_sitter.Node, parent: int | None
    ) -> tuple[str | None, tuple[str, ...]]:
        if kind != "method":
            return None, ()
        if self.language == "go":
            receiver = func.child_by_field_name("receiver")
            decl = receiver.named_children[0] if receiver and receiver.named_children else None
            if decl is None:
                return None, ()
            rname = node_text(decl.child_by_field_name("name"))
            rtype = re.sub(r"[*\s]|\[.*", "", node_text(decl.child_by_field_name("type")))
            return rtype or None, (rname,) if rname else ()
        owner = self.definitions[parent].name if parent is not None else None
        return owner, ("self", "Self") if self.language == "rust" else ("this",)

    def _params(self, func: tree_sitter.Node) -> tuple[str, ...]:
        single = func.child_by_field_name("parameter")
        if single is not None:
            return (node_text(single),)
        params = func.child_by_field_name("parameters")
        if params is None:
            return ()
        names: list[str] = []
        for child in params.named_children:
            kind = child.type
            if kind in COMMENT_TYPES or kind == "self_parameter":
                continue
            if kind in ("parameter_declaration", "variadic_parameter_declaration"):
                names.extend(node_text(n) for n in child.children_by_field_name("name"))
            elif kind in ("required_parameter", "optional_parameter", "parameter"):
                pattern = child.child_by_field_name("pattern")
                if pattern is not None and pattern.type != "this":
                    names.append(node_text(pattern))
            elif kind == "assignment_pattern":
                names.append(node_text(child.child_by_field_name("left")))
            else:
                names.append(node_text(child))
        return tuple(names)

    def _returns(self, func: tree_sitter.Node) -> str | None:
        node = func.child_by_field_name("return_type") or func.child_by_field_name("result")
        if node is None:
            return None
        return node_text(node).lstrip(":").strip() or None

    def _raises(self, body: tree_sitter.Node) -> tuple[str, ...]:
        found: list[str] = []
        stack = [body]
        while stack:
            node = stack.pop()
            if node is not body and node.type in _NESTED_SCOPES:
                continue
            if node.type == "throw_statement":
                thrown = next((c for c in node.named_children if c.type not in COMMENT_TYPES), None)
                name = None
                if thrown is not None and thrown.type == "new_expression":
                    name = render(thrown.child_by_field_name("constructor"))
                elif thrown is not None and thrown.type in ("identifier", "member_expression"):
                    name = render(thrown)
                if name and name not in found:
                    found.append(name)
            stack.extend(reversed(node.children))
        return tuple(found)

    def _doc_slot(self, first: tree_sitter.Node, line: int) -> DocSlot:
        indent = indent_of(self.lines[line])
        comments: list[tree_sitter.Node] = []
        prev = first.prev_sibling
        expected = first.start_point.row - 1
        while prev is not None and prev.type in COMMENT_TYPES and last_row(prev) == expected:
            text = node_text(prev)
            if self.language in _JS and not text.startswith("/**"):
                break
            if self.language == "rust" and not text.startswith(("///", "/**")):
                break
            comments.insert(0, prev)
            if self.language in _JS:
                break
            expected = prev.start_point.row - 1
            prev = prev.prev_sibling
        if not comments:
            return DocSlot(line, indent)
        span = self._span(comments[0], comments[-1])
        return DocSlot(line, indent, span, slice_span(self.lines, span))

    # --- calls and imports -----------------------------------------------------------------

    def _collect_call(self, node: tree_sitter.Node) -> None:
        kind = node.type
        if kind == "call_expression":
            target = node.child_by_field_name("function")
        elif kind == "new_expression":
            target = node.child_by_field_name("constructor")
        elif kind == "macro_invocation":
            target = node.child_by_field_name("macro")
        else:
            return
        name = render(target)
        if not name:
            return
        if kind == "macro_invocation":
            name += "!"
        root = re.match(r"[A-Za-z_$][\w$]*", name)
        line, col = self._point(node.start_point)
        self.calls.append(Call(name, root.group(0) if root else "", line, col))

    def _imports(self, root: tree_sitter.Node) -> list[Import]:
        """Top-level import statements; their bindings come from imports.import_bindings."""
        found: list[Import] = []
        for node in root.named_children:
            kind = node.type
            if kind == "import_statement":
                source = string_value(node.child_by_field_name("source"))
                found.append(self._import(node, "", js_external(source)))
            elif kind in ("lexical_declaration", "variable_declaration"):
                required = re.search(r"\brequire\(\s*['\"]([^'\"]+)", node_text(node))
                if required is not None:
                    found.append(self._import(node, "", js_external(required.group(1))))
            elif kind == "import_declaration":
                specs = [c for c in node.named_children if c.type == "import_spec"]
                for spec_list in (c for c in node.named_children if c.type == "import_spec_list"):
                    specs.extend(c for c in spec_list.named_children if c.type == "import_spec")
                for spec in specs:
                    path = string_value(spec.child_by_field_name("path"))
                    found.append(self._import(spec, "import ", "." in path.split("/")[0]))
            elif kind == "use_declaration":
                argument = node_text(node.child_by_field_name("argument"))
                std = argument.split("::")[0].strip() in ("std", "core", "alloc")
                found.append(self._import(node, "", not std))
        return found

    def _import(self, node: tree_sitter.Node, prefix: str, external: bool) -> Import:
        span = self._span(node)
        text = prefix + slice_span(self.lines, span)
        return Import(text, span, tuple(import_bindings(self.language, text)), external)
