"""The block heuristic for languages without a bundled grammar (and Python that does not parse).

It works line by line over the source with comments and strings blanked out (lexer.lex):

1. A *header* is a line that starts (after modifiers such as `export`, `public`, `pub`,
   `static`, `async`) with a definition keyword (`def`, `class`, `function`, `func`, `fn`,
   `fun`, `sub`, `struct`, `impl`, `trait`, `interface`, `enum`, ...) followed by a name, or
   a C/Java-style `type name(args) {` line whose name is not a control keyword.
2. Brace mode: when a `{` appears on the header line or within the next two lines (before any
   `;`), the block runs to the matching `}` (braces counted outside strings and comments).
3. Indentation mode: otherwise (and always for Python or a header ending with `:`), the block
   runs until the first non-blank line indented no deeper than the header; a closing
   `end`/`}`/`fi`/`done` line at the header's indentation belongs to the block.
4. Class-like keywords make a "class"; a function inside a class-like block is a "method".
   The enclosing block of a position is the innermost block whose lines contain it.

Calls are `name(` / `a.b(` patterns outside strings; imports are lines starting with
`import`, `from ... import`, `use`, `using`, `require` or `#include`.

The same parser-free approach gives the routing signals their size, decision count and
nesting depth (see tierwise.routing.signals for the definitions): they must stay fast.
"""

from __future__ import annotations

import re
import sys

from tierwise.context.imports import import_bindings
from tierwise.context.languages import Call, Definition, Import, ParsedFile, indent_of, slice_span
from tierwise.context.lexer import lex
from tierwise.core.code import DocSlot, Span

_WORD = re.compile(r"[A-Za-z_$][\w$]*")

# --- block heuristic ------------------------------------------------------------------------

_MODIFIERS = (
    r"(?:(?:export|public|private|protected|internal|static|async|pub(?:\([^)]*\))?|final|"
    r"abstract|override|virtual|inline|extern|unsafe|default|open|suspend|local|const)\s+)*"
)
_KEYWORD_HEADER = re.compile(
    r"^[ \t]*" + _MODIFIERS + r"(?P<kw>def|class|function|func|fn|fun|sub|proc|procedure|method|"
    r"struct|impl|trait|interface|module|object|enum|record)\b\s*(?:\([^)]*\)\s*)?"
    r"(?P<name>[A-Za-z_$][\w$]*(?:[.:]+[A-Za-z_$][\w$]*)*)"
)
_C_HEADER = re.compile(
    r"^[ \t]*(?:[\w:<>,*&\[\]]+\s+)+[*&]?(?P<name>[A-Za-z_]\w*)\s*\([^;{}]*\)?\s*"
    r"(?:const\s*)?(?:throws\s+[\w.,\s]+)?\{?\s*$"
)
_CLASS_KEYWORDS = frozenset(
    {"class", "struct", "impl", "trait", "interface", "module", "object", "enum", "record"}
)
_CONTROL = frozenset(
    str.split(
        "if else elif for foreach while do switch case catch try return new throw sizeof "
        "match with when unless until loop select defer go await yield in is not and or "
    )
)
_CLOSER = re.compile(r"^\s*(?:end\w*|fi|done|esac)\b|^\s*\}")
_CALL = re.compile(r"(?<![\w$.])([A-Za-z_$][\w$]*(?:\s*(?:\.|::|->)\s*[A-Za-z_$][\w$]*)*)\s*\(")
_IMPORT_LINE = re.compile(r"^\s*(?:import|from\s+\S+\s+import|use|using|require|#\s*include)\b")
_SPACES = re.compile(r"\s+")
_CALL_PARTS = re.compile(r"\.|::")


def parse(source: str, lines: list[str], language: str) -> ParsedFile:
    """Definitions, imports, calls and names found by the block heuristic (never fails)."""
    code_lines = lex(language, source).code.split("\n")
    code_lines += [""] * (len(lines) - len(code_lines))
    headers: list[tuple[int, str, str]] = []  # (line, keyword or "", name)
    for number, code in enumerate(code_lines):
        match = _KEYWORD_HEADER.match(code)
        if match:
            headers.append((number, match.group("kw"), match.group("name")))
            continue
        match = _C_HEADER.match(code)
        if match and match.group("name") not in _CONTROL and code.split()[0] not in _CONTROL:
            headers.append((number, "", match.group("name")))
    definitions: list[Definition] = []
    blocks = _Blocks(code_lines)
    open_ends: list[int] = []  # definitions that may still enclose the next ones (by end line)
    for line, keyword, name in headers:
        end = blocks.end(line, language)
        # The parent is the nearest earlier definition ending at or after this one; a stack
        # of candidates finds it without scanning every earlier definition.
        while open_ends and definitions[open_ends[-1]].span.end_line < end:
            open_ends.pop()
        parent = open_ends[-1] if open_ends else None
        open_ends.append(len(definitions))
        in_class = parent is not None and definitions[parent].kind == "class"
        kind = "class" if keyword in _CLASS_KEYWORDS else ("method" if in_class else "function")
        span = Span(line, len(indent_of(lines[line])), end, len(lines[end]))
        signature = _signature(lines, code_lines, line)
        definitions.append(
            Definition(
                kind=kind,
                name=name.split(".")[-1].split(":")[-1],
                span=span,
                signature=signature,
                indent=indent_of(lines[line]),
                name_span=_name_span(lines[line], line, name),
                params=_params(signature, language),
                doc_slot=_doc_slot(lines, code_lines, line, signature),
                parent=parent,
                owner=definitions[parent].name if in_class and parent is not None else None,
                self_names=("self", "this", "cls") if in_class else (),
            )
        )
    return ParsedFile(
        language=language,
        definitions=tuple(definitions),
        imports=tuple(_imports(lines, code_lines, language)),
        calls=tuple(_calls(code_lines, {h[0]: h[2].split(".")[-1] for h in headers})),
        names=tuple(
            (m.group(0), number, m.start())
            for number, code in enumerate(code_lines)
            for m in _WORD.finditer(code)
        ),
    )


_BRACES = re.compile(r"[{}]")


class _Blocks:
    """Where the block a header starts ends, for every header, in time linear in the file.

    Brace mode (a `{` on the header line or within the next two lines, before any `;`): the
    block runs to the `}` matching the first such `{` (all braces are matched once, up front).
    Indentation mode: to the last non-blank line before the next one indented no deeper than
    the header, or that line itself when it closes the block (`end`, `}`, `fi`, `done`); the
    next such line of every line is found once, with a stack.
    """

    def __init__(self, code_lines: list[str]) -> None:
        self.code_lines = code_lines
        self._match: dict[tuple[int, int], int] = {}
        self._next: list[int] | None = None
        self._last_code: list[int] = []
        stack: list[tuple[int, int]] = []
        for number, code in enumerate(code_lines):
            if "{" not in code and "}" not in code:
                continue
            for brace in _BRACES.finditer(code):
                if brace.group(0) == "{":
                    stack.append((number, brace.start()))
                elif stack:
                    self._match[stack.pop()] = number

    def end(self, start: int, language: str) -> int:
        """The last line of the block whose header is on line `start`."""
        code_lines = self.code_lines
        if not code_lines[start].rstrip().endswith(":") and language != "python":
            for number in range(start, min(start + 3, len(code_lines))):
                if number > start and ";" in code_lines[number - 1]:
                    break
                col = code_lines[number].find("{")
                if col >= 0:
                    return self._match.get((number, col), len(code_lines) - 1)
        return self._indented_end(start)

    def _indented_end(self, start: int) -> int:
        if self._next is None:
            self._next, self._last_code = self._scan_indents()
        code_lines = self.code_lines
        following = self._next[start]
        if following >= 0 and _CLOSER.match(code_lines[following]):
            return following
        before = (following if following >= 0 else len(code_lines)) - 1
        return max(start, self._last_code[before])

    def _scan_indents(self) -> tuple[list[int], list[int]]:
        """For each line: the next non-blank line indented no deeper (-1: none), and the last
        non-blank line at or before it (-1: none)."""
        code_lines = self.code_lines
        following = [-1] * len(code_lines)
        stack: list[tuple[int, int]] = []  # (width, line) of later non-blank lines
        for number in range(len(code_lines) - 1, -1, -1):
            code = code_lines[number]
            if not code.strip():
                continue  # blank lines neither end a block nor start one
            width = len(indent_of(code))
            while stack and stack[-1][0] > width:
                stack.pop()
            following[number] = stack[-1][1] if stack else -1
            stack.append((width, number))
        last_code, last = [], -1
        for number, code in enumerate(code_lines):
            last = number if code.strip() else last
            last_code.append(last)
        return following, last_code


def _signature(lines: list[str], code_lines: list[str], start: int) -> str:
    """The header line, continued while its parentheses are open (at most ten lines)."""
    end = start
    depth = code_lines[start].count("(") - code_lines[start].count(")")
    while depth > 0 and end < min(start + 10, len(lines) - 1):
        end += 1
        depth += code_lines[end].count("(") - code_lines[end].count(")")
    text = "\n".join(lines[start : end + 1]).strip()
    brace = text.find("{")
    return (text[:brace] if brace >= 0 else text).rstrip()


def _is_word(char: str) -> bool:
    """Whether `re` counts a character as a word character (`\\w` on str patterns)."""
    return char.isalnum() or char == "_"


def _name_span(line_text: str, line: int, name: str) -> Span | None:
    """The first whole-word occurrence of a name, as `\\b` + name + `\\b` finds it, without
    compiling a pattern per name (8,700 of them were half of a 0.87 MB C file's parse)."""
    if not name:
        return None
    first, last = _is_word(name[0]), _is_word(name[-1])
    at = line_text.find(name)
    while at >= 0:
        end = at + len(name)
        before = at > 0 and _is_word(line_text[at - 1])
        after = end < len(line_text) and _is_word(line_text[end])
        if before != first and after != last:
            return Span(line, at, line, end)
        at = line_text.find(name, at + 1)
    return None


def _params(signature: str, language: str) -> tuple[str, ...]:
    open_at = signature.find("(")
    if signature.lstrip().startswith("func") and signature.count("(") > 1:
        open_at = signature.find("(", signature.find(")"))  # skip a Go receiver
    if open_at < 0:
        return ()
    depth, current, pieces = 0, "", []
    for char in signature[open_at + 1 :]:
        if char in "([{<":
            depth += 1
        elif char in ")]}>":
            if depth == 0:
                break
            depth -= 1
        if char == "," and depth == 0:
            pieces.append(current)
            current = ""
        else:
            current += char
    pieces.append(current)
    names: list[str] = []
    for piece in pieces:
        piece = piece.split("=")[0].strip()
        if ":" in piece:
            piece = piece.split(":")[0]
        words = _WORD.findall(piece)
        if not words:
            continue
        name = words[0] if language == "go" or ":" in piece else words[-1]
        if piece.lstrip().startswith(("*", "...")):
            name = piece.strip().split()[0]
        if name not in ("self", "cls", "this"):
            names.append(name)
    return tuple(names)


def _doc_slot(lines: list[str], code_lines: list[str], start: int, signature: str) -> DocSlot:
    indent = indent_of(lines[start])
    if signature.endswith(":"):
        header_end = start + signature.count("\n")
        body = next((n for n in range(header_end + 1, len(lines)) if lines[n].strip()), None)
        if body is None or len(indent_of(lines[body])) <= len(indent):
            return DocSlot(header_end + 1, indent + "    ")
        body_indent = indent_of(lines[body])
        stripped = lines[body].strip()
        quote = stripped[:3] if stripped[:3] in ('"""', "'''") else None
        if quote is None:
            return DocSlot(header_end + 1, body_indent)
        closing = (n for n in range(body, len(lines)) if lines[n].count(quote) >= (n == body) + 1)
        close = next(closing, body)
        span = Span(body, len(body_indent), close, len(lines[close].rstrip()))
        return DocSlot(header_end + 1, body_indent, span, slice_span(lines, span))
    first = start
    while first > 0 and lines[first - 1].strip().startswith(("//", "/*", "*", "#", "--")):
        first -= 1
    if first == start:
        return DocSlot(start, indent)
    span = Span(first, len(indent_of(lines[first])), start - 1, len(lines[start - 1]))
    return DocSlot(start, indent, span, slice_span(lines, span))


def _imports(lines: list[str], code_lines: list[str], language: str) -> list[Import]:
    found: list[Import] = []
    for number, code in enumerate(code_lines):
        if not _IMPORT_LINE.match(lines[number]) or indent_of(code):
            continue
        end = number
        closed = ")" in code_lines[number]
        while "(" in code_lines[number] and not closed:
            end += 1
            if end >= len(lines) - 1:
                break
            closed = ")" in code_lines[end]
        span = Span(number, 0, end, len(lines[end]))
        text = slice_span(lines, span)
        bindings = tuple(import_bindings(language, text))
        external = True
        if language == "python":
            top = re.sub(r"^\s*(?:from|import)\s+", "", text).split(".")[0].split()[0:1]
            external = not top or top[0] not in sys.stdlib_module_names
        found.append(Import(text, span, bindings, external))
    return found


def _calls(code_lines: list[str], headers: dict[int, str]) -> list[Call]:
    calls: list[Call] = []
    for number, code in enumerate(code_lines):
        for match in _CALL.finditer(code):
            name = _SPACES.sub("", match.group(1)).replace("->", ".")
            root = _WORD.match(name)
            if root is None or root.group(0) in _CONTROL:
                continue
            if headers.get(number) == _CALL_PARTS.split(name)[-1]:
                continue  # the header's own name, not a call
            calls.append(Call(name, root.group(0), number, match.start()))
    return calls
