"""Python's normal-form tokens from one compiled pattern, for the code the tokenizer would read
the same way; None for anything else.

Python 3.11's `tokenize` is pure Python: it was most of a cache key's cost on a request. This
scanner reads names, numbers, strings, operators, comments and line breaks with one pattern and
keeps the tokenizer's layout rules (NEWLINE at a statement's end, line breaks inside brackets
only marking the next token, INDENT/DEDENT from space indentation, the implicit NEWLINE at the
end). It answers None, and the caller asks `tokenize`, wherever the two could differ: tabs in
indentation, form feeds, carriage returns, NUL and surrogate characters, backslash
continuations, unterminated strings, a character no token starts with, non-ASCII outside
strings and comments, a number run into a name or a dot, a name run into a quote (`ur''`),
`<>` and `!` (operators only on 3.12), unmatched or mismatched brackets, a dedent to no outer
level, the end inside brackets, a last line that starts with `#` inside a string, and on 3.12
and later every f-string (its tokenizer splits them, and reads nested quotes 3.11 cannot).
tests/unit/test_python_scan.py compares it with `tokenize_tokens` on real code and edits of it.
"""

from __future__ import annotations

import re
import sys

from tierwise.cache.python_tokens import (
    DEDENT,
    INDENT,
    NEWLINE,
    Tok,
    fstring,
    plain_number,
    plain_string,
)

# tokenize's own Number pattern (3.11 and 3.12 agree), first alternative wins as there; one run
# into a letter, digit or dot is refused (the two tokenizers split or reject it differently).
_NUMBER = (
    r"(?>[0-9](?:_?[0-9])*[jJ]"
    r"|(?:(?:[0-9](?:_?[0-9])*\.(?:[0-9](?:_?[0-9])*)?|\.[0-9](?:_?[0-9])*)"
    r"(?:[eE][-+]?[0-9](?:_?[0-9])*)?|[0-9](?:_?[0-9])*[eE][-+]?[0-9](?:_?[0-9])*)[jJ]"
    r"|(?:[0-9](?:_?[0-9])*\.(?:[0-9](?:_?[0-9])*)?|\.[0-9](?:_?[0-9])*)"
    r"(?:[eE][-+]?[0-9](?:_?[0-9])*)?|[0-9](?:_?[0-9])*[eE][-+]?[0-9](?:_?[0-9])*"
    r"|0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+"
    r"|0(?:_?0)*|[1-9](?:_?[0-9])*)(?![\w.])"
)
# A string's quotes and body, as tokenize reads them: triple-quoted ones across lines, the others
# on one line (a backslash-newline inside one is refused); an unterminated one matches nothing.
_QUOTED = (
    r"(?:'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''"
    r'|"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'
    r"|'(?!'')[^\n'\\]*(?:\\[^\n][^\n'\\]*)*'"
    r'|"(?!"")[^\n"\\]*(?:\\[^\n][^\n"\\]*)*")'
)
# 3.11's operators (brackets apart), longest first; `<>` is one token on 3.12 only.
_OPERATOR_LIST = (
    "~", "|", "|=", "^", "^=", "@", "@=", ">", ">>", ">>=", ">=", "=", "==", "<", "<<", "<<=",
    "<=", ";", ":", ":=", "/", "/=", "//", "//=", ".", "...", "->", "-", "-=", ",", "+", "+=",
    "*", "*=", "**", "**=", "&", "&=", "%", "%=", "!=",
)  # fmt: skip
_OPERATORS = "|".join(re.escape(op) for op in sorted(_OPERATOR_LIST, key=len, reverse=True))
# Spaces and tabs before a token are part of its match (a loop turn per token, not per gap).
_SCAN = re.compile(
    r"[ \t]*+(?:"
    + "|".join(
        (
            r"(?:\#[^\n]*+)?(\n[ ]*+)(?!\t)",  # 1: a line break (after a comment), the indentation
            # Names first, the commonest: one followed by a quote is a string's prefix.
            r"([A-Za-z_][A-Za-z0-9_]*+)(?!['\"])",  # 2: a name
            r"([(\[{])",  # 3
            r"([)\]}])",  # 4
            "(" + _NUMBER + ")",  # 5: before the operators (".5" is a number)
            "((?!<>)(?:" + _OPERATORS + "))",  # 6
            r"((?:[fF][rR]?|[rR][fF])" + _QUOTED + ")",  # 7: an f-string
            r"((?:[bB][rR]?|[rR][bB]?|[uU])?" + _QUOTED + ")",  # 8: a string
            r"(\#[^\n]*+)",  # 9: a comment at the end
            "(.)",  # 10: anything else: the tokenizer decides
        )
    )
    + ")",
    re.DOTALL,
)
_BREAK, _NAME, _OPEN, _CLOSE, _NUM, _OP, _FSTRING, _STRING, _SKIP = range(1, 10)
_INDENT_AT_START = re.compile(r"[ ]*+(?!\t)")
# Characters whose reading differs between the tokenizers, or between them and the parser.
_UNSAFE = re.compile("[\x00\r\x0c\ud800-\udfff]")
_PAIRS = {")": "(", "]": "[", "}": "{"}
_FSTRINGS_SPLIT = sys.version_info >= (3, 12)


def scan(code: str) -> list[Tok] | None:
    """`tokenize_tokens(code, skip=None)`, or None where this scanner cannot promise that."""
    if _UNSAFE.search(code) is not None:
        return None
    lead = _INDENT_AT_START.match(code)
    if lead is None:
        return None
    out: list[Tok] = []
    append = out.append
    indents = [0]
    brackets: list[str] = []
    column = lead.end()
    started = False  # a logical line has tokens
    pending = False  # a line break since the last token (what a closing bracket's rule reads)
    for match in _SCAN.finditer(code, column):
        kind = match.lastindex or 0  # every alternative is one group
        if kind == _SKIP:
            continue
        if kind == _BREAK:
            if started and not brackets:
                append(Tok("layout", NEWLINE))
                started = pending = False
            else:
                pending = True
            column = match.end() - match.start(_BREAK) - 1
            continue
        if not started:
            started = True
            if not brackets and column != indents[-1]:
                if column > indents[-1]:
                    indents.append(column)
                    append(Tok("layout", INDENT))
                else:
                    while column < indents[-1]:
                        indents.pop()
                        append(Tok("layout", DEDENT))
                    if column != indents[-1]:
                        return None  # IndentationError from the tokenizer
                pending = False
        text = match.group(kind)
        if kind == _NAME:
            append(Tok("name", text, pending))
        elif kind == _OP:
            append(Tok("op", text, pending))
        elif kind == _OPEN:
            brackets.append(text)
            append(Tok("op", text, pending))
        elif kind == _CLOSE:
            if not brackets or brackets.pop() != _PAIRS[text]:
                return None
            append(Tok("op", text, pending))
        elif kind == _STRING:
            append(Tok("string", _string(text), pending, text))
        elif kind == _NUM:
            append(Tok("number", text if _is_plain_int(text) else plain_number(text), pending))
        elif kind == _FSTRING and not _FSTRINGS_SPLIT:
            append(Tok("string", fstring(text), pending, text))
        else:
            return None
        pending = False
    if brackets:
        return None  # EOF in a multi-line statement
    if started:
        # tokenize adds the NEWLINE a last line without one lacks, unless that line starts with
        # `#` (it can only be the end of a string then; rare, left to the tokenizer).
        if code[code.rfind("\n") + 1 :].strip().startswith("#"):
            return None
        append(Tok("layout", NEWLINE))
    out.extend(Tok("layout", DEDENT) for _ in indents[1:])
    return out


def _string(text: str) -> str:
    """`plain_string(text)`; a literal without prefix or backslash is its own body."""
    if "\\" in text or text[0] not in "'\"":
        return plain_string(text)
    return repr(text[3:-3] if text[:3] in ("'''", '"""') else text[1:-1])


def _is_plain_int(text: str) -> bool:
    """Whether a decimal integer is spelled as Python writes it (its normal form is itself)."""
    return text.isdigit() and (text[0] != "0" or len(text) == 1)
