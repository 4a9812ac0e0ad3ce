"""The bundled tree-sitter grammars: loading one, parsing bytes with it, and the comment-free
token stream that cache keys normalise with. The grammar wheels ship compiled parsers, so
nothing is downloaded."""

from __future__ import annotations

import functools
import importlib

import tree_sitter

LANGUAGES = frozenset({"javascript", "typescript", "tsx", "go", "rust"})
_GRAMMARS = {
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
}
COMMENT_TYPES = frozenset({"comment", "line_comment", "block_comment"})


@functools.cache
def grammar(language: str) -> tree_sitter.Language | None:
    """The compiled grammar for a language, or None when its wheel is missing or incompatible."""
    if language not in _GRAMMARS:
        return None
    module_name, factory = _GRAMMARS[language]
    try:
        module = importlib.import_module(module_name)
        return tree_sitter.Language(getattr(module, factory)())
    except (ImportError, AttributeError, ValueError, TypeError):
        return None


def parse_tree(language: str, data: bytes) -> tree_sitter.Tree | None:
    """Parse bytes with a fresh parser (cheap to create; a parser is not shared between threads)."""
    lang = grammar(language)
    return None if lang is None else tree_sitter.Parser(lang).parse(data)


def token_stream(language: str, source: str) -> list[str] | None:
    """Leaf-token texts without comments, for cache-key normalisation; None if unsupported."""
    tree = parse_tree(language, source.encode("utf-8"))
    if tree is None:
        return None
    tokens: list[str] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type in COMMENT_TYPES:
            continue
        if node.child_count == 0:
            text = node_text(node)
            if text:
                tokens.append(text)
            continue
        stack.extend(reversed(node.children))
    return tokens


def node_text(node: tree_sitter.Node | None) -> str:
    """The node's source text (empty for no node)."""
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", errors="replace")
