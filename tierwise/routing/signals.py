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

import hashlib
import re

from tierwise.context.lexer import lex
from tierwise.context.metrics import body_lines, decision_count, nesting_depth
from tierwise.core.code import CodeContext
from tierwise.core.records import FrozenRecord, setfield
from tierwise.routing.risk import RiskHit, find_risks
from tierwise.routing.vocabulary import RISK_CATEGORIES

__all__ = ["RISK_CATEGORIES", "RiskHit", "Signals", "compute_signals", "target_key"]

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
    language = target.language
    # Restore the first line's indentation so that indentation-based counting is consistent.
    text = " " * target.span.start_col + target.text
    lexed = lex(language, text)
    lines = body_lines(language, text, lexed.code, target.signature)
    cyclomatic = 1 + decision_count(language, lexed.code)
    nesting = nesting_depth(language, lexed.code)
    found = find_risks(ctx, lexed, text)
    risks = tuple(RiskHit(c, found[c]) for c in RISK_CATEGORIES if c in found)
    return Signals(
        lines=lines,
        cyclomatic=cyclomatic,
        nesting=nesting,
        cross_file_calls=ctx.cross_file_calls,
        risks=risks,
        trivial=lines <= TRIVIAL_LINES and cyclomatic == 1 and not risks,
        directive=_directive(ctx.leading_comment, lexed.comments),
        target_key=target_key(target.path, target.kind, target.name),
        test_code=is_test_path(target.path),
    )


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
