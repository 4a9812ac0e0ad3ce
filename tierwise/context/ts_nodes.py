"""Reading tree-sitter nodes the way context/treesitter.py's builder needs them: a call's
target as written, a string's value, a comment's last row, and whether a JavaScript import
leaves the standard library (Node's built-in modules)."""

from __future__ import annotations

import re

import tree_sitter

from tierwise.context.grammars import node_text

_NODE_BUILTINS = frozenset(
    str.split(
        "assert buffer child_process cluster console crypto dgram dns events fs http http2 "
        "https module net os path perf_hooks process querystring readline stream "
        "string_decoder timers tls tty url util v8 vm worker_threads zlib "
    )
)


def last_row(node: tree_sitter.Node) -> int:
    """The last row holding text: Rust line comments end at column 0 of the next row."""
    end = node.end_point
    return end.row - 1 if end.column == 0 and end.row > node.start_point.row else end.row


def string_value(node: tree_sitter.Node | None) -> str:
    """A string literal's text without its quotes ("react" for `'react'`)."""
    return node_text(node).strip("\"'`")


def render(node: tree_sitter.Node | None) -> str | None:
    """A call target as written: "db.query", "exec.Command", "Command::new", "this.load"."""
    if node is None:
        return None
    kind = node.type
    if kind in ("identifier", "this", "super", "self", "property_identifier", "field_identifier"):
        return node_text(node)
    if kind in ("scoped_identifier", "private_property_identifier", "type_identifier"):
        return re.sub(r"\s+", "", node_text(node))
    if kind in ("member_expression", "selector_expression", "field_expression"):
        base = render(
            node.child_by_field_name("object")
            or node.child_by_field_name("operand")
            or node.child_by_field_name("value")
        )
        prop = node.child_by_field_name("property") or node.child_by_field_name("field")
        return f"{base or '?'}.{node_text(prop)}"  # "?": a receiver with no name, /re/.exec
    if kind == "call_expression":
        base = render(node.child_by_field_name("function"))
        return f"{base}()" if base else None
    if kind in ("subscript_expression", "index_expression"):
        base = render(node.child_by_field_name("object") or node.child_by_field_name("operand"))
        return f"{base}[]" if base else None
    if kind == "generic_function":
        return render(node.child_by_field_name("function"))
    return None


def js_external(source: str) -> bool:
    """Whether a JavaScript import names a package rather than a Node built-in (`node:fs`)."""
    return source.removeprefix("node:").split("/")[0] not in _NODE_BUILTINS
