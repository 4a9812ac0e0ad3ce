"""Shared helpers for turning messy model replies into data, and target-relative positions.

Models wrap answers in code fences, add chatter ("Sure! Here's..."), and write JSON with
trailing commas or single quotes. These helpers recover only when the intent is unambiguous;
the handlers raise BadResponse otherwise.
"""

from __future__ import annotations

import ast
import functools
import json
import keyword
import os
import re
from collections.abc import Callable
from typing import Any

from tierwise.core.code import Target
from tierwise.core.records import FrozenRecord, setfield

_FENCE = re.compile(
    r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.M | re.S
)
_OPEN_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.-]*)[^\n]*\n", re.M)

# Lines models put around an answer; matched only at the very start or end of a reply.
_CHATTER_START = re.compile(
    r"^(?:(?:sure|certainly|of course|okay|ok|absolutely|great|alright)\b[^\n]*"
    r"|(?:here(?:'s| is| are)|below|i(?:'ve| have) (?:written|updated|added|rewritten))\b[^\n]*:)$",
    re.I,
)
_CHATTER_END = re.compile(
    r"^(let me know|i hope|hope this|feel free|this docstring|the docstring above"
    r"|this (?:doc )?comment|if you(?:'d| would)? like|would you like|these names"
    r"|this explanation)\b",
    re.I,
)

_JS_RESERVED_TEXT = (
    "break case catch class const continue debugger default delete do else enum export extends"
    " false finally for function if import in instanceof new null return super switch this throw"
    " true try typeof var void while with yield let static implements interface package private"
    " protected public await"
)
JS_RESERVED = frozenset(_JS_RESERVED_TEXT.split())
_GO_KEYWORDS_TEXT = (
    "break case chan const continue default defer else fallthrough for func go goto if import"
    " interface map package range return select struct switch type var"
)
GO_KEYWORDS = frozenset(_GO_KEYWORDS_TEXT.split())
_RUST_KEYWORDS_TEXT = (
    "as async await break const continue crate dyn else enum extern false fn for if impl in let"
    " loop match mod move mut pub ref return self Self static struct super trait true type unsafe"
    " use where while abstract become box do final macro override priv typeof unsized virtual"
    " yield try"
)
RUST_KEYWORDS = frozenset(_RUST_KEYWORDS_TEXT.split())
_WORD = re.compile(r"[A-Za-z_]\w*")
_JS_LANGUAGES = frozenset({"javascript", "typescript", "tsx"})
_IDENT = re.compile(r"[^\W\d]\w*\Z")
_JS_IDENT = re.compile(r"[^\W\d]\w*\Z|[$_A-Za-z][\w$]*\Z")


def is_js(language: str) -> bool:
    """True for JavaScript and TypeScript (both use JSDoc and the same identifier rules)."""
    return language in _JS_LANGUAGES


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """The (language, body) of every fenced block; an unclosed last fence runs to the end."""
    blocks = [(m.group(2).lower(), m.group(3)) for m in _FENCE.finditer(text)]
    if not blocks:
        opened = _OPEN_FENCE.search(text)
        if opened is not None:  # a reply cut off (or sloppily written) before the closing fence
            blocks.append((opened.group(2).lower(), text[opened.end() :]))
    return [(lang, body.rstrip("\n")) for lang, body in blocks]


def strip_chatter(text: str) -> str:
    """Drop a leading "Sure! Here's ..." line and trailing "Let me know ..." lines.

    Blank lines at either end go too; the first line's indentation stays (code may follow).
    """
    lines = text.rstrip().split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while len(lines) > 1 and _CHATTER_START.match(lines[0].strip()):
        lines.pop(0)
        while lines and not lines[0].strip():
            lines.pop(0)
    while len(lines) > 1:
        last_paragraph = _last_paragraph_start(lines)
        if last_paragraph == 0 or not _CHATTER_END.match(lines[last_paragraph].strip()):
            break
        del lines[last_paragraph:]
        while lines and not lines[-1].strip():
            lines.pop()
    return "\n".join(lines)


def _last_paragraph_start(lines: list[str]) -> int:
    index = len(lines) - 1
    while index > 0 and lines[index - 1].strip():
        index -= 1
    return index


def unwrap(text: str) -> str:
    """The answer inside a reply: the first non-empty fenced block, else the reply minus chatter.

    A reply whose fences are all empty has no answer: "" (never the fence markers themselves).
    """
    blocks = fenced_blocks(text)
    for _, body in blocks:
        if body.strip():
            return body
    return "" if blocks else strip_chatter(text)


def _pythonize(text: str) -> str:
    """Rewrite JSON literals (true/false/null) outside strings so ast.literal_eval accepts them."""
    out: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            out.append(ch)
            if ch == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
            out.append(ch)
        else:
            word = _WORD.match(text, i)
            if word:
                mapped = {"true": "True", "false": "False", "null": "None"}.get(word.group(0))
                out.append(mapped or word.group(0))
                i += len(word.group(0))
                continue
            out.append(ch)
        i += 1
    return "".join(out)


def loads_lenient(text: str) -> Any:
    """Parse JSON, tolerating trailing commas, single quotes and Python literals (ValueError)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return json.loads(re.sub(r",(\s*[}\]])", r"\1", text))
    except json.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(_pythonize(text))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        raise ValueError(f"not JSON: {exc}") from None


def _balanced_spans(text: str) -> list[str]:
    """Every top-level {...} or [...] substring, in order, skipping brackets inside strings."""
    spans: list[str] = []
    start = 0
    while True:
        found = [p for p in (text.find("{", start), text.find("[", start)) if p >= 0]
        if not found:
            return spans
        begin = min(found)
        end = _matching_close(text, begin)
        if end is None:
            start = begin + 1
            continue
        spans.append(text[begin : end + 1])
        start = end + 1


def _matching_close(text: str, begin: int) -> int | None:
    depth = 0
    quote: str | None = None
    i = begin
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote or (
                ch == "\n" and quote == "'"
            ):  # an apostrophe in prose ends at the line
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def find_json(text: str, accept: Callable[[Any], bool]) -> Any | None:
    """The first JSON value in fenced blocks, then in the reply, that `accept` approves."""
    sources = [body for _, body in fenced_blocks(text)] + [text]
    for source in sources:
        for candidate in _balanced_spans(source):
            try:
                value = loads_lenient(candidate)
            except ValueError:
                continue
            if accept(value):
                return value
    return None


# Longer names are not names a person would accept (the longest in CPython's stdlib is 51).
MAX_IDENTIFIER_LENGTH = 100


def shown_name(name: str, limit: int = 40) -> str:
    """A name for a message: repr'd (escapes, lone surrogates included), cut when long."""
    if len(name) <= limit:
        return repr(name)
    return f"{name[:limit]!r}… ({len(name)} characters)"


def is_identifier(name: str, language: str) -> str | None:
    """None when `name` is a valid identifier in the language, else the reason it is not.

    Valid means: an identifier by the language's rules (so no spaces, no leading digit, no lone
    surrogate), not a keyword or reserved word, and at most MAX_IDENTIFIER_LENGTH characters.
    """
    if not name:
        return "the name is empty"
    shown = shown_name(name)
    if len(name) > MAX_IDENTIFIER_LENGTH:
        return f"{shown} is longer than {MAX_IDENTIFIER_LENGTH} characters"
    if language == "python":
        if not name.isidentifier():
            return f"{shown} is not a valid Python identifier"
        if keyword.iskeyword(name):
            return f"{shown} is a Python keyword"
        return None
    pattern = _JS_IDENT if is_js(language) else _IDENT
    if not pattern.match(name):
        return f"{shown} is not a valid {language} identifier"
    reserved = {"go": GO_KEYWORDS, "rust": RUST_KEYWORDS}.get(language)
    if is_js(language):
        reserved = JS_RESERVED
    if reserved and name in reserved:
        return f"{shown} is a reserved word in {language}"
    if language == "rust" and name == "_":
        return "'_' is not a usable name in Rust"
    return None


def leading_ws(line: str) -> str:
    """The whitespace a line starts with."""
    return line[: len(line) - len(line.lstrip(" \t"))]


class Layout(FrozenRecord):
    """The target's lines in document columns (the first line padded to its start column).

    `target.text` starts at `span.start_col`, so its first line lacks the indentation the
    document has there; padding it back makes every column here a document column.
    """

    __slots__ = ("start_line", "lines", "common_indent")
    start_line: int
    lines: tuple[str, ...]
    common_indent: int  # leading characters shared by every non-blank line

    def __init__(self, start_line: int, lines: tuple[str, ...], common_indent: int) -> None:
        setfield(self, "start_line", start_line)
        setfield(self, "lines", lines)
        setfield(self, "common_indent", common_indent)

    @classmethod
    def of(cls, target: Target) -> Layout:
        """Build the layout of a target (kept for the last few: each action's prompt and
        parser asks for the same target's)."""
        return _layout(target) if cls is Layout else cls.build(target)

    @classmethod
    def build(cls, target: Target) -> Layout:
        """Build the layout of a target, not kept."""
        raw = target.text.split("\n")
        rest = raw[1:]
        pad_char = "\t" if any(line.startswith("\t") for line in rest) else " "
        lines = [pad_char * target.span.start_col + raw[0], *rest]
        blank = [line for line in lines if line.strip()]
        # Character-wise on purpose: these are indentation strings, not paths.
        indents = [leading_ws(line) for line in blank]
        common = os.path.commonprefix(indents) if blank else ""  # noqa: RUF071
        return cls(target.span.start_line, tuple(lines), len(common))

    @property
    def last(self) -> int:
        """The last line index, relative to the target."""
        return len(self.lines) - 1

    def display(self) -> list[str]:
        """The lines with the shared indentation removed (as shown to models)."""
        return [line[self.common_indent :] if line.strip() else "" for line in self.lines]

    def numbered(self) -> str:
        """The display lines numbered from 1, as the review prompt shows them."""
        shown = self.display()
        width = len(str(len(shown)))
        return "\n".join(f"{n:>{width}} | {line}".rstrip() for n, line in enumerate(shown, 1))

    def indent(self, rel: int) -> str:
        """The indentation of a target-relative line."""
        return leading_ws(self.lines[rel])

    def end_col(self, rel: int) -> int:
        """The document column just past the end of a target-relative line."""
        return len(self.lines[rel])


@functools.lru_cache(maxsize=32)
def _layout(target: Target) -> Layout:
    return Layout.build(target)
