"""Language identification and the parse-result shape every language backend returns.

Backends (python.py, treesitter.py, fallback.py) turn a file into a `ParsedFile`: its
definitions, imports, call sites and identifier occurrences, all in 0-based line and
Python-character columns. extract.py then picks the target and fits the context.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from tierwise.core.code import DocSlot, Span
from tierwise.core.records import FrozenRecord, setfield

_EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".pyw": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    # No grammar is bundled for these: they go through the fallback heuristic.
    ".java": "java",
    ".kt": "kotlin",
    ".kts": "kotlin",
    ".scala": "scala",
    ".swift": "swift",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".cs": "csharp",
    ".php": "php",
    ".rb": "ruby",
    ".lua": "lua",
    ".sh": "shell",
    ".bash": "shell",
    ".zsh": "shell",
    ".pl": "perl",
    ".pm": "perl",
    ".r": "r",
    ".sql": "sql",
    ".ex": "elixir",
    ".exs": "elixir",
}

# Languages whose line comments start with '#' (the others use '//' and '/* */').
HASH_COMMENT_LANGUAGES = frozenset({"python", "ruby", "shell", "perl", "r", "elixir", "text"})

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def language_for(path: str) -> str:
    """The language name for a file path, from its extension; "text" when unknown."""
    suffix = PurePath(path).suffix.lower()
    return _EXTENSIONS.get(suffix, "text")


def split_lines(source: str) -> list[str]:
    """Lines as an editor counts them (\\n, \\r\\n, \\r); a trailing break adds an empty line."""
    return _LINE_BREAK.split(source)


class ColumnMap:
    """Converts UTF-8 byte columns (what `ast` and tree-sitter report) to str-character columns."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines
        # Each non-ASCII line encoded once: a minified file's one line holds thousands of
        # nodes, and encoding 150 kB for each was most of its parse (0.55 of 0.85 s).
        self._encoded: dict[int, bytes] = {}

    def char_col(self, line: int, byte_col: int) -> int:
        """The character column of a byte column on a 0-based line."""
        if line >= len(self._lines):
            return byte_col
        text = self._lines[line]
        if text.isascii():
            return byte_col
        encoded = self._encoded.get(line)
        if encoded is None:
            encoded = self._encoded[line] = text.encode("utf-8")
        return len(encoded[:byte_col].decode("utf-8", errors="ignore"))


def slice_span(lines: list[str], span: Span) -> str:
    """The source text a span covers."""
    if span.start_line == span.end_line:
        return lines[span.start_line][span.start_col : span.end_col]
    parts = [lines[span.start_line][span.start_col :]]
    parts.extend(lines[span.start_line + 1 : span.end_line])
    parts.append(lines[span.end_line][: span.end_col])
    return "\n".join(parts)


def indent_of(line: str) -> str:
    """The leading whitespace of a line."""
    return line[: len(line) - len(line.lstrip(" \t"))]


class Import(FrozenRecord):
    """One import statement: its text, and the names it binds mapped to their qualified origin."""

    __slots__ = ("text", "span", "bindings", "external")
    text: str
    span: Span
    bindings: tuple[tuple[str, str], ...]  # (bound name, origin such as "subprocess.run")
    external: bool  # True unless it comes from the language's standard library

    def __init__(
        self, text: str, span: Span, bindings: tuple[tuple[str, str], ...], external: bool
    ) -> None:
        setfield(self, "text", text)
        setfield(self, "span", span)
        setfield(self, "bindings", bindings)
        setfield(self, "external", external)


class Call(FrozenRecord):
    """One call site: `name` dotted as written ("cursor.execute"), `root` its first identifier."""

    __slots__ = ("name", "root", "line", "col")
    name: str
    root: str
    line: int
    col: int

    def __init__(self, name: str, root: str, line: int, col: int) -> None:
        setfield(self, "name", name)
        setfield(self, "root", root)
        setfield(self, "line", line)
        setfield(self, "col", col)


class Definition(FrozenRecord):
    """A function, method or class found in a file."""

    __slots__ = (
        "kind",
        "name",
        "span",
        "signature",
        "indent",
        "name_span",
        "params",
        "returns",
        "raises",
        "doc_slot",
        "parent",
        "owner",
        "self_names",
    )
    kind: str  # "function" | "method" | "class"
    name: str
    span: Span
    signature: str
    indent: str  # indentation of the definition's first line
    name_span: Span | None
    params: tuple[str, ...]
    returns: str | None
    raises: tuple[str, ...]
    doc_slot: DocSlot | None
    parent: int | None  # index of the enclosing definition in ParsedFile.definitions
    owner: str | None  # the class/type a method belongs to
    self_names: tuple[str, ...]  # receiver names that mean the owner (self, this, Go receiver)

    def __init__(
        self,
        kind: str,
        name: str,
        span: Span,
        signature: str,
        indent: str,
        name_span: Span | None = None,
        params: tuple[str, ...] = (),
        returns: str | None = None,
        raises: tuple[str, ...] = (),
        doc_slot: DocSlot | None = None,
        parent: int | None = None,
        owner: str | None = None,
        self_names: tuple[str, ...] = (),
    ) -> None:
        setfield(self, "kind", kind)
        setfield(self, "name", name)
        setfield(self, "span", span)
        setfield(self, "signature", signature)
        setfield(self, "indent", indent)
        setfield(self, "name_span", name_span)
        setfield(self, "params", params)
        setfield(self, "returns", returns)
        setfield(self, "raises", raises)
        setfield(self, "doc_slot", doc_slot)
        setfield(self, "parent", parent)
        setfield(self, "owner", owner)
        setfield(self, "self_names", self_names)


class ParsedFile(FrozenRecord):
    """What a backend found in one file."""

    __slots__ = (
        "language",
        "definitions",
        "imports",
        "calls",
        "names",
        "module_doc_slot",
        "blocks",
    )
    language: str
    definitions: tuple[Definition, ...]
    imports: tuple[Import, ...]
    calls: tuple[Call, ...]
    names: tuple[tuple[str, int, int], ...]  # identifier occurrences: (name, line, col)
    module_doc_slot: DocSlot | None
    # None: `calls` and `names` are the whole file's. Else they are left out (a big Python file
    # parsed apart, context/lazy.py) and these are the module's top-level statements as
    # (first line, last line), from which a request walks only the ones it touches.
    blocks: tuple[tuple[int, int], ...] | None

    def __init__(
        self,
        language: str,
        definitions: tuple[Definition, ...] = (),
        imports: tuple[Import, ...] = (),
        calls: tuple[Call, ...] = (),
        names: tuple[tuple[str, int, int], ...] = (),
        module_doc_slot: DocSlot | None = None,
        blocks: tuple[tuple[int, int], ...] | None = None,
    ) -> None:
        setfield(self, "language", language)
        setfield(self, "definitions", definitions)
        setfield(self, "imports", imports)
        setfield(self, "calls", calls)
        setfield(self, "names", names)
        setfield(self, "module_doc_slot", module_doc_slot)
        setfield(self, "blocks", blocks)
