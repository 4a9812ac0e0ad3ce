"""Routing signals: size, complexity, nesting, reach, risk, inline directive, target identity.

`compute_signals` is pure and lexical: one regular-expression pass splits the target into code,
string literals and comments (tierwise.context.lexer.lex), and everything else is counted
on those pieces. No syntax tree is built: a function takes well under a millisecond and a
whole 300-line module about two on a slow machine.

Definitions:
- lines: non-blank code lines of the target's body (signature, decorators, docstring, comments
  and lines holding only closing brackets are not counted).
- cyclomatic: 1 + decision points + boolean operators. Python: if/elif/for/while/except/case
  (comprehension and conditional-expression `if`/`for` included) and each `and`/`or`; C-like:
  if/for/while/case/catch, `&&`, `||`, `??` and `?:`; Rust: if/while/for, match arms beyond the
  first, `&&`, `||`. `else`, `try`, `with` and `default` add nothing.
- nesting: the deepest control block inside the target (a flat body is 0). A nested function
  counts as one level; class bodies and object/struct literals do not.

Risk evidence is found in routing/risk.py (its docstring says how, and what keeps false
positives down); the vocabulary it matches is routing/vocabulary.py.

Test code (a file under tests/, test_*.py, *_test.go, *.test.js, *.spec.ts, ...) carries its
risks as reasons, but they do not promote it: a test that calls `select()` or `subprocess.run`
is not itself high-stakes code.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import operator
import re
from collections.abc import Sequence

from tierwise.context.lexer import Lexed, Positions, lex, lex_with_positions
from tierwise.context.metrics import PythonLines, decision_count, size_and_nesting
from tierwise.core.code import CodeContext
from tierwise.core.records import FrozenRecord, setfield
from tierwise.routing import risk
from tierwise.routing.file_risks import FileRisks, Place, line_starts
from tierwise.routing.risk import RiskHit, find_risks
from tierwise.routing.vocabulary import RISK_CATEGORIES

__all__ = [
    "RISK_CATEGORIES",
    "RiskHit",
    "Signals",
    "compute_signals",
    "file_signals",
    "target_key",
]

TRIVIAL_LINES = 4  # default body size under which risk-free, branch-free code is trivial
_TEST_PATH = re.compile(
    r"(?:^|[/\\])(?:tests?|__tests__|testing|spec)[/\\]|(?:^|[/\\])test_[^/\\]*\.py$"
    r"|_test\.(?:py|go)$|\.(?:test|spec)\.[cm]?[jt]sx?$|(?:^|[/\\])conftest\.py$"
)


class Signals(FrozenRecord):
    """What the router needs to know about a target."""

    __slots__ = (
        "lines",
        "cyclomatic",
        "nesting",
        "cross_file_calls",
        "risks",
        "trivial",
        "directive",
        "target_key",
        "test_code",
    )
    lines: int
    cyclomatic: int
    nesting: int
    cross_file_calls: int
    risks: tuple[RiskHit, ...]
    trivial: bool
    directive: str | None
    target_key: str
    test_code: bool  # in a test file: risks are reasons, not promotions

    def __init__(
        self,
        lines: int,
        cyclomatic: int,
        nesting: int,
        cross_file_calls: int,
        risks: tuple[RiskHit, ...],
        trivial: bool,
        directive: str | None,
        target_key: str,
        test_code: bool = False,
    ) -> None:
        setfield(self, "lines", lines)
        setfield(self, "cyclomatic", cyclomatic)
        setfield(self, "nesting", nesting)
        setfield(self, "cross_file_calls", cross_file_calls)
        setfield(self, "risks", risks)
        setfield(self, "trivial", trivial)
        setfield(self, "directive", directive)
        setfield(self, "target_key", target_key)
        setfield(self, "test_code", test_code)

    @property
    def category(self) -> str:
        """The first risk category, or "none": how the ledger and `tierwise tune` group it."""
        return self.risks[0].category if self.risks else "none"


def target_key(path: str, kind: str, name: str) -> str:
    """A stable identity for "the same target": it ignores the code, so edits keep the key."""
    return hashlib.sha256(f"{path}\0{kind}\0{name}".encode()).hexdigest()


def compute_signals(ctx: CodeContext) -> Signals:
    """Compute the routing signals of a context (pure, no I/O)."""
    target = ctx.target
    # Restore the first line's indentation so that indentation-based counting is consistent.
    text = " " * target.span.start_col + target.text
    return _signals(ctx, text, lex(target.language, text))


def file_signals(contexts: Sequence[CodeContext], lines: list[str]) -> list[Signals]:
    """`compute_signals` of each context of one file (`lines` are the file's), lexing the
    file once: a definition's lexed code is its lines of the file's, its literals and
    comments those that start inside it. A class holds its methods, so lexing each target
    lexed most of a file twice; and what is counted on the lex (risk evidence, decisions,
    body lines, nesting) is read from tables of the whole file's, built once
    (routing/file_risks.py, context/metrics.py: PythonLines), so a class's is not its
    methods' counted again.

    A target for which slicing could differ from lexing it alone is lexed alone: one that
    does not start its line (only indentation before it), ends before its line does, or has a
    comment or literal crossing its start or end (a literal joined to one after it).
    """
    if not contexts:
        return []
    language = contexts[0].target.language
    lexed, positions = lex_with_positions(language, "\n".join(lines))
    code_lines = lexed.code.split("\n")
    starts = line_starts(lines)
    token_starts = [start for start, _ in positions.tokens]
    string_starts = [start for start, _ in positions.strings]
    places: list[tuple[Place, tuple[int, int]] | None] = []
    for ctx in contexts:
        span = ctx.target.span
        start = starts[span.start_line] + span.start_col
        end = starts[span.end_line] + span.end_col
        sliced = _sliced(positions, token_starts, string_starts, start, end)
        if (
            sliced is None
            or ctx.target.language != language
            or lines[span.start_line][: span.start_col].strip(" \t")
            or len(lines[span.end_line]) != span.end_col
        ):
            places.append(None)
        else:
            low, high, comments_low, comments_high = sliced
            where = (span.start_line, span.end_line, low, high)
            places.append((where, (comments_low, comments_high)))
    texts = [" " * ctx.target.span.start_col + ctx.target.text for ctx in contexts]
    bindings = _bindings(language, contexts, texts, places, lines)
    bound = {name for names, _ in bindings for name in names}
    by_text: dict[str, Place] = {}
    for ctx, place in zip(contexts, places, strict=True):
        if place is not None:
            by_text.setdefault(ctx.target.text, place[0])
    tables = FileRisks(language, lexed, code_lines, bound, by_text)
    # Python's statements, each on one line, and the line each starts at: a target that
    # starts and ends with a statement of the file has its own as a range of them.
    python = PythonLines(lexed.code, code_lines) if language == "python" else None
    found: list[Signals] = []
    for ctx, text, place, (bound_names, plain) in zip(
        contexts, texts, places, bindings, strict=True
    ):
        if place is None:
            found.append(compute_signals(ctx))
            continue
        (first, last, _low, _high), (comments_low, comments_high) = place
        target = ctx.target
        statements = _statements_of(python, first, last, len(lines))
        sized = None
        if python is not None and statements is not None:
            sized = python.size_and_nesting(text, target.signature, first, last, statements)
            cyclomatic = 1 + python.decisions(first, last)
        if sized is None:
            first_code = " " * target.span.start_col + code_lines[first][target.span.start_col :]
            code = "\n".join([first_code, *code_lines[first + 1 : last + 1]])
            logical = None
            if python is not None and statements is not None:
                low, high = statements
                logical = python.joined[low:high], [s - first for s in python.starts[low:high]]
            sized = size_and_nesting(language, text, code, target.signature, logical)
            cyclomatic = 1 + decision_count(language, code)
        risks = tables.find_risks(ctx, text, place[0], bound_names, plain)
        comments = lexed.comments[comments_low:comments_high]
        found.append(_assembled(ctx, sized, cyclomatic, risks, comments))
    return found


def _bindings(
    language: str,
    contexts: Sequence[CodeContext],
    texts: list[str],
    places: list[tuple[Place, tuple[int, int]] | None],
    lines: list[str],
) -> list[tuple[dict[str, str], bool]]:
    """`risk.target_bindings` of each sliced target: whether its text holds an import word
    is read from the lines that do, and the targets that bind nothing of their own share
    their context's bindings (nothing changes them after)."""
    words = risk.IMPORT_WORDS.get(language)
    holding: list[int] | None = None
    if words is not None:
        holding = sorted(
            {
                number
                for word in words
                for number in itertools.compress(
                    itertools.count(), map(operator.contains, lines, itertools.repeat(word))
                )
            }
        )
    shared: dict[tuple[str, ...], tuple[dict[str, str], bool]] = {}
    found: list[tuple[dict[str, str], bool]] = []
    for ctx, text, place in zip(contexts, texts, places, strict=True):
        if place is None:
            found.append(({}, True))
            continue
        first, last = place[0][0], place[0][1]
        imports = True
        if holding is not None:
            at = bisect.bisect_left(holding, first)
            imports = at < len(holding) and holding[at] <= last
        if imports:
            found.append(risk.target_bindings(ctx, text, True))
            continue
        kept = shared.get(ctx.imports)
        if kept is None:
            kept = shared[ctx.imports] = risk.target_bindings(ctx, text, False)
        found.append(kept)
    return found


def _statements_of(
    python: PythonLines | None, first: int, last: int, count: int
) -> tuple[int, int] | None:
    """The range of the file's logical statements from line `first` to `last`; None unless a
    statement starts at `first` and one ends at `last` (so that joining the target's lines
    alone gives the same ones)."""
    if python is None:
        return None
    starts = python.starts
    low = bisect.bisect_left(starts, first)
    if low == len(starts) or starts[low] != first:
        return None
    high = bisect.bisect_left(starts, last + 1)
    if last + 1 < count and (high == len(starts) or starts[high] != last + 1):
        return None
    if last + 1 >= count and high != len(starts):
        return None
    return low, high


def _sliced(
    positions: Positions,
    token_starts: list[int],
    string_starts: list[int],
    start: int,
    end: int,
) -> tuple[int, int, int, int] | None:
    """The range of the file's literals and of its comments that lie in [start, end); None
    when one crosses either end (the target must then be lexed on its own)."""
    first = bisect.bisect_left(token_starts, start)
    if first and positions.tokens[first - 1][1] > start:
        return None  # a comment or literal runs into the target
    last = bisect.bisect_left(token_starts, end)
    if last and positions.tokens[last - 1][1] > end:
        return None
    low = bisect.bisect_left(string_starts, start)
    high = bisect.bisect_left(string_starts, end)
    if high > low and positions.strings[high - 1][1] > end:
        return None  # its last literal is joined to one after the target
    if low and positions.strings[low - 1][1] > start:
        return None  # a literal before it is joined to one inside it
    comment_low = bisect.bisect_left(positions.comments, start)
    comment_high = bisect.bisect_left(positions.comments, end)
    return low, high, comment_low, comment_high


def _signals(ctx: CodeContext, text: str, lexed: Lexed) -> Signals:
    """The signals of a context from its text (indentation restored) and that text's lex."""
    target = ctx.target
    language = target.language
    sized = size_and_nesting(language, text, lexed.code, target.signature)
    cyclomatic = 1 + decision_count(language, lexed.code)
    found = find_risks(ctx, lexed, text)
    return _assembled(ctx, sized, cyclomatic, found, lexed.comments)


def _assembled(
    ctx: CodeContext,
    sized: tuple[int, int],
    cyclomatic: int,
    found: dict[str, str],
    comments: tuple[str, ...],
) -> Signals:
    """The signals of a context from its body lines and nesting, its cyclomatic complexity,
    its risk evidence and its comments."""
    target = ctx.target
    lines, nesting = sized
    risks = tuple(RiskHit(c, found[c]) for c in RISK_CATEGORIES if c in found)
    return Signals(
        lines=lines,
        cyclomatic=cyclomatic,
        nesting=nesting,
        cross_file_calls=ctx.cross_file_calls,
        risks=risks,
        trivial=lines <= TRIVIAL_LINES and cyclomatic == 1 and not risks,
        directive=_directive(ctx.leading_comment, comments),
        target_key=target_key(target.path, target.kind, target.name),
        test_code=is_test_path(target.path),
    )


@functools.lru_cache(maxsize=256)  # every target of a file asks
def is_test_path(path: str) -> bool:
    """Whether a path names test code (tests/ folders, test_*.py, *_test.go, *.spec.ts, ...)."""
    return _TEST_PATH.search(path) is not None


# --- directive ------------------------------------------------------------------------------

_DIRECTIVE = re.compile(r"\btierwise\s*:\s*([A-Za-z][\w-]*)", re.I)


def _directive(leading: str, comments: tuple[str, ...]) -> str | None:
    """The word after `tierwise:` in a comment above or inside the target, lower-cased."""
    for comment in (leading, *comments):
        match = _DIRECTIVE.search(comment)
        if match:
            return match.group(1).lower()
    return None
