"""Python's normal-form tokens by the standard tokenizer, and one spelling per literal.

`tokenize_tokens` is how every key's tokens were made before the scanner of
tierwise.cache.python_scan: the scanner's fallback for whatever it does not handle, and the
reference its tests compare it with.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Callable

NEWLINE = "<NEWLINE>"
INDENT = "<INDENT>"
DEDENT = "<DEDENT>"
# An f-string's canonical form; the marker cannot start a real token.
FSTRING = "<F>"

_DROP = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.ENDMARKER, tokenize.ENCODING})
_FSTRING_START = getattr(tokenize, "FSTRING_START", -1)  # Python 3.12+
_FSTRING_END = getattr(tokenize, "FSTRING_END", -1)


class Tok:
    """One token of the normal form: its kind, its text, and whether a line break preceded it."""

    __slots__ = ("kind", "nl", "raw", "text")

    def __init__(self, kind: str, text: str, nl: bool = False, raw: str = "") -> None:
        self.kind = kind  # "op" | "name" | "string" | "number" | "layout" | "other"
        self.text = text
        self.nl = nl
        self.raw = raw  # a string literal's source, for joining implicit concatenations


def tokenize_tokens(
    code: str, *, skip: Callable[[tuple[int, int], tuple[int, int]], bool] | None
) -> list[Tok]:
    """The normal-form tokens of `code` by the standard tokenizer, without those `skip` names
    (None: skip nothing); raises tokenize.TokenError or SyntaxError. Every key was made this way
    before the scanner (tierwise.cache.python_scan), which must give the same tokens."""
    line_starts = [0]
    for line in io.StringIO(code):
        line_starts.append(line_starts[-1] + len(line))

    def offset(position: tuple[int, int]) -> int:
        return line_starts[position[0] - 1] + position[1]

    out: list[Tok] = []
    pending_nl = False
    dropping = False  # just skipped a docstring: drop the ";" or NEWLINE ending it
    fstring_depth = 0
    fstring_start = (0, 0)
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if fstring_depth:  # inside a 3.12+ f-string: collect it whole, by source positions
            if tok.type == _FSTRING_START:
                fstring_depth += 1
            elif tok.type == _FSTRING_END:
                fstring_depth -= 1
                if not fstring_depth:
                    text = code[offset(fstring_start) : offset(tok.end)]
                    out.append(Tok("string", fstring(text), pending_nl, text))
                    pending_nl = False
            continue
        if tok.type == tokenize.NL:
            pending_nl = True
            continue
        if tok.type in _DROP or (tok.type == tokenize.ERRORTOKEN and not tok.string.strip()):
            continue
        if skip is not None and skip(tok.start, tok.end):
            dropping = True
            continue
        if dropping:
            dropping = False
            if tok.type == tokenize.NEWLINE or (tok.type == tokenize.OP and tok.string == ";"):
                continue
        if tok.type == _FSTRING_START:
            fstring_depth, fstring_start = 1, tok.start
            continue
        out.append(_tok(tok, pending_nl))
        pending_nl = False
    return out


def _tok(tok: tokenize.TokenInfo, nl: bool) -> Tok:
    if tok.type == tokenize.NEWLINE:
        return Tok("layout", NEWLINE)
    if tok.type == tokenize.INDENT:  # the marker only: 2- and 4-space indents give one key
        return Tok("layout", INDENT)
    if tok.type == tokenize.DEDENT:
        return Tok("layout", DEDENT)
    if tok.type == tokenize.STRING:
        return Tok("string", plain_string(tok.string), nl, tok.string)
    if tok.type == tokenize.NUMBER:
        return Tok("number", plain_number(tok.string), nl)
    if tok.type == tokenize.NAME:
        return Tok("name", tok.string, nl)
    if tok.type == tokenize.OP:
        return Tok("op", tok.string, nl)
    return Tok("other", tok.string, nl)


def plain_string(text: str) -> str:
    """One spelling per string value: 'a', "a" and r'a' all become repr('a')."""
    prefix = re.match(r"[A-Za-z]*", text)
    if prefix is not None and "f" in prefix.group(0).lower():
        return fstring(text)
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text
    return repr(value) if isinstance(value, str | bytes) else text


def fstring(text: str) -> str:
    """An f-string by its syntax tree: quotes and spacing inside fields do not matter."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return text
    return FSTRING + canonical(node)


def canonical(node: object) -> str:
    """A version-independent text of a syntax tree (every field named, no positions)."""
    if isinstance(node, ast.AST):
        fields = ",".join(f"{f}={canonical(getattr(node, f, None))}" for f in node._fields)
        return f"{type(node).__name__}({fields})"
    if isinstance(node, list):
        return "[" + ",".join(canonical(item) for item in node) + "]"
    return repr(node)


def plain_number(text: str) -> str:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text
    return repr(value) if isinstance(value, int | float | complex) else text
