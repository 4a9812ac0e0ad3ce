"""Language identification and the parse-result shape every language backend returns.

Backends (python.py, treesitter.py, fallback.py) turn a file into a `ParsedFile`: its
definitions, imports, call sites and identifier occurrences, all in 0-based line and
Python-character columns. extract.py then picks the target and fits the context.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePath

import attrs

from tierwise.core.code import DocSlot, Span

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

    def char_col(self, line: int, byte_col: int) -> int:
        """The character column of a byte column on a 0-based line."""
        if line >= len(self._lines):
            return byte_col
        text = self._lines[line]
        if text.isascii():
            return byte_col
        return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


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


@attrs.frozen
class Import:
    """One import statement: its text, and the names it binds mapped to their qualified origin."""

    text: str
    span: Span
    bindings: tuple[tuple[str, str], ...]  # (bound name, origin such as "subprocess.run")
    external: bool  # True unless it comes from the language's standard library


@attrs.frozen
class Call:
    """One call site: `name` dotted as written ("cursor.execute"), `root` its first identifier."""

    name: str
    root: str
    line: int
    col: int


@attrs.frozen
class Definition:
    """A function, method or class found in a file."""

    kind: str  # "function" | "method" | "class"
    name: str
    span: Span
    signature: str
    indent: str  # indentation of the definition's first line
    name_span: Span | None = None
    params: tuple[str, ...] = ()
    returns: str | None = None
    raises: tuple[str, ...] = ()
    doc_slot: DocSlot | None = None
    parent: int | None = None  # index of the enclosing definition in ParsedFile.definitions
    owner: str | None = None  # the class/type a method belongs to
    self_names: tuple[str, ...] = ()  # receiver names that mean the owner (self, this, Go receiver)


@attrs.frozen
class ParsedFile:
    """What a backend found in one file."""

    language: str
    definitions: tuple[Definition, ...] = ()
    imports: tuple[Import, ...] = ()
    calls: tuple[Call, ...] = ()
    names: tuple[tuple[str, int, int], ...] = ()  # identifier occurrences: (name, line, col)
    module_doc_slot: DocSlot | None = None


# --- lexing (no parser: fast enough for the routing signals) --------------------------------

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
_PATTERNS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "python": (
        re.compile(r"[#'\"]"),
        re.compile(rf"(?P<com>#[^\r\n]*)|(?P<str>{_TRIPLE}|{_SQ}|{_DQ})", re.M),
    ),
    "hash": (
        re.compile(r"[#'\"]"),
        re.compile(rf"(?P<com>#[^\r\n]*)|(?P<str>{_SQ}|{_DQ_MULTILINE})", re.M),
    ),
    "rust": (
        re.compile(r"[/\"'r]"),
        re.compile(rf"(?P<com>{_C_COMMENT})|(?P<str>{_RUST_RAW}|{_DQ_MULTILINE}|{_CHAR})", re.M),
    ),
    "go": (
        re.compile(r"[/`\"']"),
        re.compile(rf"(?P<com>{_C_COMMENT})|(?P<str>`[^`]*(?:`|\Z)|{_DQ}|{_CHAR})", re.M),
    ),
    "dash": (
        re.compile(r"[-'\"]"),
        re.compile(rf"(?P<com>--[^\r\n]*)|(?P<str>{_SQ}|{_DQ})", re.M),
    ),
    "c": (
        re.compile(r"[/`\"']"),
        re.compile(rf"(?P<com>{_C_COMMENT})|(?P<str>{_BACKTICK}|{_DQ}|{_SQ})", re.M),
    ),
}
_PY_PREFIX = re.compile(r"(?<![\w])[rRbBuUfF]{1,2}$")
_PREFIX_CHARS = frozenset("rRbBuUfF")
_ADJACENT = re.compile(r"[\s+\\]*")
_PY_HEADER = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)\b")
_QUOTES = re.compile(r"^[A-Za-z]*#*(\"\"\"|'''|[\"'`])|(\"\"\"|'''|[\"'`])#*$")


@attrs.frozen
class Lexed:
    """Source split into code, string literals and comments."""

    code: str  # comments removed, each string literal replaced by "" (line breaks kept)
    strings: tuple[str, ...]  # literal contents; adjacent literals joined; docstrings left out
    comments: tuple[str, ...]


def _pattern(language: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    if language in ("python", "rust", "go"):
        return _PATTERNS[language]
    if language in ("sql", "lua"):
        return _PATTERNS["dash"]
    return _PATTERNS["hash" if language in HASH_COMMENT_LANGUAGES else "c"]


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
        newlines = "\n" * token.count("\n")
        if match.group("com") is not None:
            comments.append(token)
            parts.append(newlines)
            continue
        if python and last_sig in ("", ":") and _is_docstring(parts, text, match.end()):
            parts.append(newlines)
            continue
        body = _QUOTES.sub("", token)
        between = text[last_string_end:start] if last_string_end >= 0 else None
        if strings and between is not None and _ADJACENT.fullmatch(between):
            strings[-1] += body
        else:
            strings.append(body)
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
    prefix = "".join(parts)
    line_start = prefix.rfind("\n") + 1
    if prefix[line_start:].strip():
        return False
    prefix = prefix.rstrip()
    if not prefix:
        return True
    lines = prefix.split("\n")[-30:]
    for index in range(len(lines) - 1, -1, -1):
        if _PY_HEADER.match(lines[index]):
            return _first_colon_at_end("\n".join(lines[index:]))
    return False


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


# --- imports --------------------------------------------------------------------------------

_PY_FROM = re.compile(r"^[ \t]*from[ \t]+([.\w]+)[ \t]+import[ \t]+(\([^)]*\)|[^\r\n]*)", re.M)
_PY_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\r\n]*)", re.M)
_JS_IMPORT = re.compile(
    r"^[ \t]*import\s+(?:type\s+)?([\s\S]*?)\s+from\s+['\"]([^'\"]+)['\"]", re.M
)
_JS_REQUIRE = re.compile(
    r"(?:const|let|var)\s+([\w$]+|\{[^}]*\})\s*=\s*require\(\s*['\"]([^'\"]+)['\"]\s*\)"
)
_GO_SPEC = re.compile(r"(?:^|\bimport)[ \t]*(?:(?!import\b)([\w.]+)[ \t]+)?\"([^\"]+)\"", re.M)
_RUST_USE = re.compile(r"\buse\s+([^;]+);")
_WORD = re.compile(r"[A-Za-z_$][\w$]*")


def import_bindings(language: str, text: str) -> list[tuple[str, str]]:
    """Names that import statements in `text` bind, with their origin, found without a parser."""
    pairs: list[tuple[str, str]] = []
    if language == "python":
        for match in _PY_FROM.finditer(text):
            module = match.group(1)
            for name, alias in _aliases(match.group(2)):
                origin = module + name if module.endswith(".") else f"{module}.{name}"
                if name != "*":
                    pairs.append((alias or name, origin))
        for match in _PY_IMPORT.finditer(text):
            for name, alias in _aliases(match.group(1)):
                pairs.append((alias, name) if alias else (name.split(".")[0], name.split(".")[0]))
    elif language in ("javascript", "typescript", "tsx"):
        for match in _JS_IMPORT.finditer(text):
            pairs.extend(_js_clause(match.group(1), match.group(2)))
        for match in _JS_REQUIRE.finditer(text):
            pairs.extend(_js_clause(match.group(1), match.group(2), require=True))
    elif language == "go":
        for match in _GO_SPEC.finditer(text):
            alias, path = match.group(1), match.group(2)
            bound = alias or re.sub(r"^go-|\.v\d+$", "", path.rsplit("/", 1)[-1])
            if bound not in ("_", "."):
                pairs.append((bound, path))
    elif language == "rust":
        for match in _RUST_USE.finditer(text):
            tree = re.sub(r"\s+", "", re.sub(r"\s+as\s+", "@", match.group(1)))
            pairs.extend(_rust_use(tree, ""))
    return pairs


def _aliases(names: str) -> list[tuple[str, str | None]]:
    names = re.sub(r"#[^\n]*", "", names).strip("() \\\t\r\n")
    found: list[tuple[str, str | None]] = []
    for piece in names.replace("\\", " ").split(","):
        words = piece.split()
        if len(words) == 3 and words[1] == "as":
            found.append((words[0], words[2]))
        elif len(words) == 1:
            found.append((words[0], None))
    return found


def _js_clause(clause: str, source: str, *, require: bool = False) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    braces = re.search(r"\{([^}]*)\}", clause)
    if braces:
        for piece in braces.group(1).split(","):
            words = re.split(r"\s+as\s+|\s*:\s*", piece.strip())
            if words[0]:
                pairs.append((words[-1].strip(), f"{source}.{words[0].strip()}"))
        clause = clause[: braces.start()] + clause[braces.end() :]
    star = re.search(r"\*\s*as\s+([\w$]+)", clause)
    if star:
        pairs.append((star.group(1), source))
        clause = clause[: star.start()] + clause[star.end() :]
    default = _WORD.search(clause)
    if default and (require or not braces or clause.strip(" ,")):
        pairs.append((default.group(0), source))
    return pairs


def _rust_use(tree: str, prefix: str) -> list[tuple[str, str]]:
    brace = tree.find("{")
    if brace >= 0 and tree.endswith("}"):
        inner_prefix = prefix + tree[:brace]
        pairs: list[tuple[str, str]] = []
        depth, start, inner = 0, 0, tree[brace + 1 : -1]
        for index, char in enumerate(inner + ","):
            depth += {"{": 1, "}": -1}.get(char, 0)
            if char == "," and depth == 0:
                if inner[start:index]:
                    pairs.extend(_rust_use(inner[start:index], inner_prefix))
                start = index + 1
        return pairs
    if tree.endswith("*"):
        return []
    path, _, alias = tree.partition("@")
    if alias:
        return [(alias, prefix + path)]
    full = (prefix + tree).removesuffix("::self")
    return [(full.rsplit("::", 1)[-1], full)]
