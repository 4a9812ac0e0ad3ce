"""Size, complexity and nesting of a target's code, counted on lexed text (for the routing
signals): body lines, decision points and the deepest control block, per language family."""

from __future__ import annotations

import itertools
import operator
import re
from bisect import bisect_left as _bisect_left

from tierwise.context.lexer import lex

_CLOSING_ONLY = re.compile(r"[\s)\]};,]*")


def body_lines(language: str, text: str, code: str, signature: str) -> int:
    """Non-blank code lines after the signature; `code` is `lex(language, text).code`."""
    index = text.find(signature) if signature else -1
    header_end = index + len(signature) if index >= 0 else 0
    header_line = text.count("\n", 0, header_end)
    code_lines = code.split("\n")
    body = code_lines[header_line + 1 :]
    if language == "python":  # a statement a formatter wrapped over lines is still one line
        body = logical_lines("\n".join(body)).split("\n")
    count = sum(1 for line in body if not _CLOSING_ONLY.fullmatch(line))
    return count + _header_line_counts(language, text, header_end, code_lines)


def size_and_nesting(
    language: str,
    text: str,
    code: str,
    signature: str,
    logical: tuple[list[str], list[int]] | None = None,
) -> tuple[int, int]:
    """`body_lines(...)` and `nesting_depth(language, code)`, joining Python's continued
    lines once: the body's logical lines are the whole code's after the header line whenever
    a statement ends with that line (otherwise each is counted on its own). `logical`: the
    code's `logical_statements`, when known (a file's, sliced: routing/signals.py)."""
    if language != "python":
        return body_lines(language, text, code, signature), nesting_depth(language, code)
    index = text.find(signature) if signature else -1
    header_end = index + len(signature) if index >= 0 else 0
    header_line = text.count("\n", 0, header_end)
    code_lines = code.split("\n")
    joined, starts = logical_statements(code_lines) if logical is None else logical
    nesting = _indent_nesting("\n".join(joined))
    first = header_line + 1
    if first >= len(code_lines):
        body: list[str] = []
    else:
        at = _bisect_left(starts, first)
        if at == len(starts) or starts[at] != first:
            return body_lines(language, text, code, signature), nesting
        body = joined[at:]
    count = sum(1 for line in body if not _CLOSING_ONLY.fullmatch(line))
    return count + _header_line_counts(language, text, header_end, code_lines), nesting


def _header_line_counts(language: str, text: str, header_end: int, code_lines: list[str]) -> int:
    """1 for a one-line body on the signature's line (or code on the first line), else 0."""
    if header_end:
        line_end = text.find("\n", header_end)
        tail = lex(language, text[header_end : line_end if line_end >= 0 else None]).code
        return 0 if _CLOSING_ONLY.fullmatch(tail.strip(" \t{:")) else 1
    return 1 if code_lines and not _CLOSING_ONLY.fullmatch(code_lines[0]) else 0


# The look-ahead on the first character lets the scan skip most positions quickly.
_PY_DECISIONS = re.compile(r"(?=[iefwao])\b(?:if|elif|for|while|except|and|or)\b")
_PY_CASE = re.compile(r"^[ \t]*case\b(?![ \t]+_[ \t]*:)", re.M)  # `case _:` is the default
_C_DECISIONS = re.compile(
    r"(?=[ifwc&|?])(?:\b(?:if|for|while|case|catch)\b|&&|\|\||\?\?|(?<![?])\?(?![?.:=]))"
)
_GO_DECISIONS = re.compile(r"(?=[ifc&|])(?:\b(?:if|for|case)\b|&&|\|\|)")
_RUST_DECISIONS = re.compile(r"(?=[iwf&|])(?:\b(?:if|while|for)\b|&&|\|\|)")
_OTHER_DECISIONS = re.compile(
    r"(?=[iefwucrao&|])(?:\b(?:if|elif|elsif|for|foreach|while|until|case|when|catch|except|"
    r"rescue|and|or)\b|&&|\|\|)"
)


def decision_count(language: str, code: str) -> int:
    """Decision points and boolean operators in lexed code (cyclomatic complexity - 1)."""
    if language == "python":
        cases = len(_PY_CASE.findall(code)) if "case" in code else 0
        return len(_PY_DECISIONS.findall(code)) + cases
    if language == "go":
        return len(_GO_DECISIONS.findall(code))
    if language == "rust":
        arms = code.count("=>") - len(re.findall(r"\bmatch\b", code))
        return len(_RUST_DECISIONS.findall(code)) + max(arms, 0)
    if language in ("javascript", "typescript", "tsx"):
        return len(_C_DECISIONS.findall(code))
    return len(_OTHER_DECISIONS.findall(code))


_PY_BLOCK = re.compile(r"(?:async[ \t]+)?(def|class|case)\b")
_PY_LINE = re.compile(r"^([ \t]*)(\S[^\n]*)", re.M)
_BRACE_EVENTS = re.compile(r"[{};()\n]")
_CONTROL_START = re.compile(
    r"^(?:else|if|for|while|do|switch|try|catch|finally|match|loop|select|unsafe|with|until)\b"
    r"|(?:^|[=(,]\s*|\breturn\s+)(?:if|match|loop|unsafe)\b"
)
_FUNCTION_START = re.compile(
    r"\bfunction\b|=>\s*$|\bfunc\b|\bfn\b|\|[^|]*\|\s*(?:->\s*\S+\s*)?$"
    r"|\)\s*(?:(?::|->)\s*[^{};]+|throws\s+[\w.,\s]+)?$"  # a method header: name(args) {
)


def logical_lines(code: str) -> str:
    """Lexed Python code with every statement on one line: lines continued inside brackets or
    after a backslash are joined, so a formatter's line breaks change no count."""
    return "\n".join(logical_statements(code.split("\n"))[0])


def logical_statements(lines: list[str]) -> tuple[list[str], list[int]]:
    """`logical_lines` of these lines, as a list, with the line each one starts at."""
    out: list[str] = []
    starts: list[int] = []
    current: list[str] | None = None  # the lines of a statement still open
    depth = 0
    # Each line's brackets alone, from one substitution over the whole text: most lines
    # hold few, and many none.
    brackets = _NOT_BRACKET.sub("", "\n".join(lines)).split("\n")
    for number, line in enumerate(lines):
        held = brackets[number]
        if held:
            opened = held.count("(") + held.count("[") + held.count("{")
            depth = max(0, depth + opened - (len(held) - opened))
        ends = depth == 0 and not ("\\" in line and line.rstrip().endswith("\\"))
        if current is None:
            starts.append(number)
            if ends:
                out.append(line)
            else:
                current = [line]
        else:
            current.append(line.strip())
            if ends:
                out.append(" ".join(current))
                current = None
    if current is not None:
        out.append(" ".join(current))
    return out, starts


_NOT_BRACKET = re.compile(r"[^()\[\]{}\n]+")


def nesting_depth(language: str, code: str) -> int:
    """The deepest control block in lexed code; a flat body is 0."""
    if language == "python":
        return _indent_nesting(logical_lines(code))
    if language not in ("javascript", "typescript", "tsx", "go", "rust") and "{" not in code:
        return _indent_nesting(code)
    return _brace_nesting(language, code)


def _indent_nesting(code: str) -> int:
    """Depth of indented blocks; def/class headers start a scope instead of a level.

    Continuation lines inside brackets are not tracked: they never end a header with ':' and
    sit deeper than their statement, so they neither open a block nor change the level.
    """
    stack: list[tuple[int, int, int]] = []  # (indent, level inside, defs inside)
    deepest = 0
    for indent, rest in _PY_LINE.findall(code):
        width = len(indent)
        while stack and width <= stack[-1][0]:
            stack.pop()
        level, defs = (stack[-1][1], stack[-1][2]) if stack else (0, 0)
        deepest = max(deepest, level)
        if rest[-1] == ":" or (rest[-1] in " \t" and rest.rstrip().endswith(":")):
            stack.append(_block(rest, width, level, defs))
    return deepest


def _block(header: str, width: int, level: int, defs: int) -> tuple[int, int, int]:
    """The stack entry a block header opens: a def starts a scope (a level only inside
    another def), a class or case body adds none, any other block one."""
    match = _PY_BLOCK.match(header)
    keyword = match.group(1) if match else None
    if keyword == "def":
        return width, level + (defs >= 1), defs + 1
    if keyword in ("class", "case"):
        return width, level, defs
    return width, level + 1, defs


def _brace_nesting(language: str, code: str) -> int:
    """Depth of control blocks counted on braces; function bodies start a scope.

    A brace's statement is the text since the last `{`, `}`, `;` or line break outside
    parentheses (Go and Rust end statements with a line break); a brace alone on its line
    takes the statement of the line before it.
    """
    stack: list[str] = []
    counts = {"block": 0, "func": 0, "other": 0}  # kept in step with the stack: no count() a brace
    deepest = 0
    parens = 0
    statement_start = 0
    previous = ""  # the last statement a line break ended
    for match in _BRACE_EVENTS.finditer(code):
        char = match.group(0)
        if char in "()":
            parens = parens + 1 if char == "(" else max(0, parens - 1)
            continue
        if char in ";\n" and parens:
            continue
        if char == ";" and _CONTROL_START.match(code[statement_start : match.start()].lstrip()):
            continue  # Go's `if x := f(); x > 0 {` and `for i := 0; i < n; i++ {`
        statement = code[statement_start : match.start()].strip()
        statement_start = match.end()
        if char == "\n":
            previous = statement or previous
            continue
        if char == "{":
            statement = statement or previous
            kind = "other"
            if _CONTROL_START.search(statement):
                kind = "block"
            elif _FUNCTION_START.search(statement) and not (
                language == "rust" and statement.endswith("=>")
            ):
                kind = "func"
            stack.append(kind)
            counts[kind] += 1
            deepest = max(deepest, counts["block"] + max(0, counts["func"] - 1))
        elif char == "}" and stack:
            counts[stack.pop()] -= 1
        previous = ""
    return deepest


class PythonLines:
    """A Python file's logical statements and what the signals count on each line or
    statement, once per file: a definition's decisions and body lines are then differences of
    running sums, and its nesting a maximum over its statements (a class's are its methods'
    and its own lines' together, not its methods counted again)."""

    __slots__ = (
        "joined",
        "starts",
        "_lines",
        "_offsets",
        "_decisions",
        "_counted",
        "_levels",
        "_defs",
        "_widths",
    )

    def __init__(self, code: str, code_lines: list[str]) -> None:
        """`code`: the file's lexed code; `code_lines`: it split into lines."""
        self._lines = code_lines
        self.joined, self.starts = logical_statements(code_lines)
        lengths = map(operator.add, map(len, code_lines), itertools.repeat(1))
        offsets = [0, *itertools.accumulate(lengths)]
        self._offsets = offsets
        # Where each decision point is: a match is on one line, so a definition's are those
        # between its first line's start and its last line's end.
        self._decisions = [match.start() for match in _PY_DECISIONS.finditer(code)]
        if "case" in code:
            cases = [match.start() for match in _PY_CASE.finditer(code)]
            self._decisions = sorted(self._decisions + cases)
        closing = map(_CLOSING_ONLY.fullmatch, self.joined)
        self._counted = [0, *itertools.accumulate(map(operator.not_, closing))]
        self._levels, self._defs, self._widths = _indent_levels(self.joined)

    def decisions(self, first: int, last: int) -> int:
        """`decision_count("python", code)` of lines first to last."""
        start, end = self._offsets[first], self._offsets[last + 1]
        return _bisect_left(self._decisions, end) - _bisect_left(self._decisions, start)

    def size_and_nesting(
        self, text: str, signature: str, first: int, last: int, statements: tuple[int, int]
    ) -> tuple[int, int] | None:
        """`size_and_nesting("python", text, code, signature, logical)` of the definition on
        lines first to last, whose logical statements are `statements` (a range of the
        file's); None when its body does not start a statement of the file."""
        low, high = statements
        index = text.find(signature) if signature else -1
        header_end = index + len(signature) if index >= 0 else 0
        header_line = text.count("\n", 0, header_end)
        nesting = self._nesting(low, high)
        body = first + header_line + 1
        if body > last:
            count = 0
        else:
            at = _bisect_left(self.starts, body, low, high)
            if at == high or self.starts[at] != body:
                return None
            count = self._counted[high] - self._counted[at]
        header = _header_line_counts("python", text, header_end, [self._lines[first]])
        return count + header, nesting

    def _nesting(self, low: int, high: int) -> int:
        """`_indent_nesting` of statements low to high: the file's levels less the level and
        the enclosing definitions of the first (see `_indent_levels`)."""
        levels = self._levels[low:high]
        widths = self._widths[low:high]
        base, defs = levels[0], self._defs[low]
        if base < 0 or min(widths) < widths[0]:
            # A blank first statement, or one less indented later: the file's blocks would
            # not be the definition's; count its own.
            return _indent_nesting("\n".join(self.joined[low:high]))
        if defs == 0:
            return max(levels) - base
        # Inside a function, a definition's first def adds a level it does not add alone.
        inner = zip(levels, self._defs[low:high], strict=True)
        return max(level - (d > defs) for level, d in inner if level >= 0) - base


_NO_LINE = 1 << 30  # a blank statement's width: never the least


def _indent_levels(statements: list[str]) -> tuple[list[int], list[int], list[int]]:
    """`_indent_nesting`'s level at each statement, with the definitions enclosing it and its
    width (-1, 0 and a huge width for a blank one).

    A definition whose statements are all at least as indented as its first has, at each of
    them, the level here less the level at its first, less one inside the first def of it
    when the first is inside a def (alone, that first def adds no level)."""
    stack: list[tuple[int, int, int]] = []  # (indent, level inside, defs inside)
    levels = [-1] * len(statements)
    defs_at = [0] * len(statements)
    widths = [_NO_LINE] * len(statements)
    for number, statement in enumerate(statements):
        match = _PY_LINE.match(statement)
        if match is None:
            continue
        indent, rest = match.groups()
        width = len(indent)
        while stack and width <= stack[-1][0]:
            stack.pop()
        level, defs = (stack[-1][1], stack[-1][2]) if stack else (0, 0)
        levels[number], defs_at[number], widths[number] = level, defs, width
        if rest[-1] == ":" or (rest[-1] in " \t" and rest.rstrip().endswith(":")):
            stack.append(_block(rest, width, level, defs))
    return levels, defs_at, widths
