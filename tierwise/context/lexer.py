"""A lexer with no parser: a target split into code, string literals and comments, fast enough
for the routing signals and the block heuristic to run on every request."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from tierwise.context.languages import HASH_COMMENT_LANGUAGES
from tierwise.core.records import FrozenRecord, setfield

# Scanning for the few characters that can start a token, then matching the token there, is
# several times faster than one big `finditer`, and the routing signals lex on every request.
_SQ = r"'[^'\\\r\n]*(?:\\[\s\S][^'\\\r\n]*)*(?:'|$)"
_DQ = r"\"[^\"\\\r\n]*(?:\\[\s\S][^\"\\\r\n]*)*(?:\"|$)"
_DQ_MULTILINE = r"\"[^\"\\]*(?:\\[\s\S][^\"\\]*)*(?:\"|\Z)"
_BACKTICK = r"`[^`\\]*(?:\\[\s\S][^`\\]*)*(?:`|\Z)"
_TRIPLE = r"'''[\s\S]*?(?:'''|\Z)|\"\"\"[\s\S]*?(?:\"\"\"|\Z)"
_CHAR = r"'(?:[^'\\\r\n]|\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]{1,6}\}|[\s\S]))'"
_C_COMMENT = r"//[^\r\n]*|/\*[\s\S]*?(?:\*/|\Z)"
_RUST_RAW = r"r(?P<hashes>#*)\"[\s\S]*?\"(?P=hashes)"
# Each family's (start characters, token) patterns, compiled on first use: a run lexes one or
# two languages, and compiling all six families at import was most of this module's import.
_PATTERNS: dict[str, tuple[str, str]] = {
    "python": (
        r"[#'\"]",
        rf"(?P<com>#[^\r\n]*)|(?P<str>{_TRIPLE}|{_SQ}|{_DQ})",
    ),
    "hash": (
        r"[#'\"]",
        rf"(?P<com>#[^\r\n]*)|(?P<str>{_SQ}|{_DQ_MULTILINE})",
    ),
    "rust": (
        r"[/\"'r]",
        rf"(?P<com>{_C_COMMENT})|(?P<str>{_RUST_RAW}|{_DQ_MULTILINE}|{_CHAR})",
    ),
    "go": (
        r"[/`\"']",
        rf"(?P<com>{_C_COMMENT})|(?P<str>`[^`]*(?:`|\Z)|{_DQ}|{_CHAR})",
    ),
    "dash": (
        r"[-'\"]",
        rf"(?P<com>--[^\r\n]*)|(?P<str>{_SQ}|{_DQ})",
    ),
    "c": (
        r"[/`\"']",
        rf"(?P<com>{_C_COMMENT})|(?P<str>{_BACKTICK}|{_DQ}|{_SQ})",
    ),
}
_PY_PREFIX = re.compile(r"(?<![\w])[rRbBuUfF]{1,2}$")
_PREFIX_CHARS = frozenset("rRbBuUfF")
_ADJACENT = re.compile(r"[\s+\\]*")
_PY_HEADER = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)\b")
_QUOTES = re.compile(r"^[A-Za-z]*#*(\"\"\"|'''|[\"'`])|(\"\"\"|'''|[\"'`])#*$")


class Lexed(FrozenRecord):
    """Source split into code, string literals and comments."""

    __slots__ = ("code", "strings", "comments")
    code: str  # comments removed, each string literal replaced by "" (line breaks kept)
    strings: tuple[str, ...]  # literal contents; adjacent literals joined; docstrings left out
    comments: tuple[str, ...]

    def __init__(self, code: str, strings: tuple[str, ...], comments: tuple[str, ...]) -> None:
        setfield(self, "code", code)
        setfield(self, "strings", strings)
        setfield(self, "comments", comments)


@functools.cache
def _compiled(family: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    starts, token = _PATTERNS[family]
    return re.compile(starts), re.compile(token, re.M)


def _pattern(language: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    if language in ("python", "rust", "go"):
        return _compiled(language)
    if language in ("sql", "lua"):
        return _compiled("dash")
    return _compiled("hash" if language in HASH_COMMENT_LANGUAGES else "c")


def _tokens(language: str, text: str) -> Iterator[re.Match[str]]:
    """Comment and string-literal matches, left to right."""
    starts, token = _pattern(language)
    rust = language == "rust"
    pos = 0
    while True:
        start = starts.search(text, pos)
        if start is None:
            return
        at = start.start()
        if rust and text[at] == "r" and (at and (text[at - 1].isalnum() or text[at - 1] == "_")):
            pos = at + 1  # an `r` inside an identifier, not a raw string
            continue
        match = token.match(text, at)
        if match is None or match.end() == at:
            pos = at + 1
            continue
        yield match
        pos = match.end()


def lex(language: str, text: str) -> Lexed:
    """Split text into code, string literals and comments without a parser."""
    if _pattern(language)[0].search(text) is None:
        return Lexed(text, (), ())  # no comment or literal can start: all of it is code
    return _lex(language, text, None)


class Positions(FrozenRecord):
    """Where a lexed text's pieces are in it (offsets), for slicing one lex of a whole file
    into its definitions' lexes (routing/signals.py: file_signals)."""

    __slots__ = ("tokens", "strings", "comments")
    tokens: tuple[tuple[int, int], ...]  # every comment and literal (docstrings too): start, end
    strings: tuple[tuple[int, int], ...]  # each of Lexed.strings: its first start, its last end
    comments: tuple[int, ...]  # each of Lexed.comments: its start

    def __init__(
        self,
        tokens: tuple[tuple[int, int], ...],
        strings: tuple[tuple[int, int], ...],
        comments: tuple[int, ...],
    ) -> None:
        setfield(self, "tokens", tokens)
        setfield(self, "strings", strings)
        setfield(self, "comments", comments)


def lex_with_positions(language: str, text: str) -> tuple[Lexed, Positions]:
    """`lex`, and where each comment and string literal is."""
    found: tuple[list[tuple[int, int]], list[tuple[int, int]], list[int]] = ([], [], [])
    lexed = _lex(language, text, found)
    return lexed, Positions(tuple(found[0]), tuple(found[1]), tuple(found[2]))


def _lex(
    language: str,
    text: str,
    positions: tuple[list[tuple[int, int]], list[tuple[int, int]], list[int]] | None,
) -> Lexed:
    python = language == "python"
    parts: list[str] = []
    strings: list[str] = []
    comments: list[str] = []
    pos = 0
    last_string_end = -1
    last_sig = ""  # the last non-blank code character so far
    for match in _tokens(language, text):
        token = match.group(0)
        start = match.start()
        segment = text[pos:start]
        if python and segment[-1:] in _PREFIX_CHARS and match.group("str") is not None:
            prefix = _PY_PREFIX.search(segment, max(0, len(segment) - 3))  # r"", f"", rb""
            if prefix is not None:
                segment, token = segment[: prefix.start()], prefix.group(0) + token
                start -= len(prefix.group(0))
        parts.append(segment)
        last_sig = segment.rstrip()[-1:] or last_sig
        pos = match.end()
        if positions is not None:
            positions[0].append((start, pos))
        newlines = "\n" * token.count("\n")
        if match.group("com") is not None:
            comments.append(token)
            if positions is not None:
                positions[2].append(start)
            parts.append(newlines)
            continue
        if python and last_sig in ("", ":") and _is_docstring(parts, text, match.end()):
            parts.append(newlines)
            continue
        body = _QUOTES.sub("", token)
        between = text[last_string_end:start] if last_string_end >= 0 else None
        if strings and between is not None and _ADJACENT.fullmatch(between):
            strings[-1] += body
            if positions is not None:
                positions[1][-1] = (positions[1][-1][0], pos)
        else:
            strings.append(body)
            if positions is not None:
                positions[1].append((start, pos))
        last_string_end = match.end()
        parts.append('""' + newlines)
        last_sig = '"'
    parts.append(text[pos:])
    return Lexed("".join(parts), tuple(strings), tuple(comments))


def _is_docstring(parts: list[str], text: str, end: int) -> bool:
    """A string that starts its line right after a def/class header (or starts the module)."""
    line_end = text.find("\n", end)
    rest = text[end : line_end if line_end >= 0 else len(text)].strip()
    if rest and not rest.startswith("#"):
        return False
    prefix = _tail(parts, _DOC_WINDOW)
    line_start = prefix.rfind("\n") + 1
    if prefix[line_start:].strip():
        return False
    prefix = prefix.rstrip()
    if not prefix:
        return True
    lines = prefix.split("\n")[-_DOC_WINDOW:]
    for index in range(len(lines) - 1, -1, -1):
        if _PY_HEADER.match(lines[index]):
            return _first_colon_at_end("\n".join(lines[index:]))
    return False


_DOC_WINDOW = 30  # lines above a string searched for the def/class header it would document


def _tail(parts: list[str], lines: int) -> str:
    """The end of `"".join(parts)` holding its last `lines` lines once trailing whitespace is
    stripped (all of it when shorter): joining every part for each string made lexing a whole
    file quadratic."""
    newlines = 0
    need = lines + 1
    index = len(parts)
    while index > 0:
        index -= 1
        newlines += parts[index].count("\n")
        if newlines >= need:
            tail = "".join(parts[index:])
            if tail.rstrip().count("\n") >= lines:
                return tail
            need = newlines + lines
    return "".join(parts)


def _first_colon_at_end(header: str) -> bool:
    depth = 0
    for index, char in enumerate(header):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == ":" and depth == 0:
            return index == len(header) - 1
    return False
