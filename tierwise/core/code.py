"""Plain data produced by context extraction and consumed by signals, handlers and the cache."""

from __future__ import annotations

import functools

from tierwise.core.records import FrozenRecord, setfield


class Span(FrozenRecord):
    """A 0-based, end-exclusive range in a document; columns count Python str characters."""

    __slots__ = ("start_line", "start_col", "end_line", "end_col")
    start_line: int
    start_col: int
    end_line: int
    end_col: int

    def __init__(self, start_line: int, start_col: int, end_line: int, end_col: int) -> None:
        setfield(self, "start_line", start_line)
        setfield(self, "start_col", start_col)
        setfield(self, "end_line", end_line)
        setfield(self, "end_col", end_col)

    def contains_line(self, line: int) -> bool:
        """True when the 0-based line lies inside this span."""
        return self.start_line <= line <= self.end_line


class DocSlot(FrozenRecord):
    """Where a docstring for the target goes: insert before `line`, or replace `existing`."""

    __slots__ = ("line", "indent", "existing", "existing_text")
    line: int
    indent: str
    existing: Span | None
    existing_text: str | None

    def __init__(
        self,
        line: int,
        indent: str,
        existing: Span | None = None,
        existing_text: str | None = None,
    ) -> None:
        setfield(self, "line", line)
        setfield(self, "indent", indent)
        setfield(self, "existing", existing)
        setfield(self, "existing_text", existing_text)


class Target(FrozenRecord):
    """The code an action works on: a function, method, class, selection or whole module."""

    __slots__ = (
        "path",
        "language",
        "kind",
        "name",
        "span",
        "text",
        "signature",
        "name_span",
        "params",
        "returns",
        "raises",
        "doc_slot",
    )
    path: str
    language: str
    kind: str  # "function" | "method" | "class" | "selection" | "module"
    name: str
    span: Span
    text: str
    signature: str
    name_span: Span | None
    params: tuple[str, ...]
    returns: str | None
    raises: tuple[str, ...]
    doc_slot: DocSlot | None

    def __init__(
        self,
        path: str,
        language: str,
        kind: str,
        name: str,
        span: Span,
        text: str,
        signature: str,
        name_span: Span | None = None,
        params: tuple[str, ...] = (),
        returns: str | None = None,
        raises: tuple[str, ...] = (),
        doc_slot: DocSlot | None = None,
    ) -> None:
        setfield(self, "path", path)
        setfield(self, "language", language)
        setfield(self, "kind", kind)
        setfield(self, "name", name)
        setfield(self, "span", span)
        setfield(self, "text", text)
        setfield(self, "signature", signature)
        setfield(self, "name_span", name_span)
        setfield(self, "params", params)
        setfield(self, "returns", returns)
        setfield(self, "raises", raises)
        setfield(self, "doc_slot", doc_slot)


class Helper(FrozenRecord):
    """A same-file definition the target calls (directly, or through one other helper): what
    it does counts for routing (a two-line method can drop a table through one), though it is
    never sent to the model."""

    __slots__ = ("name", "text", "called_names", "via")
    name: str
    text: str
    called_names: tuple[str, ...]
    via: str  # the helper that calls this one, when it is a helper's helper

    def __init__(
        self, name: str, text: str, called_names: tuple[str, ...] = (), via: str = ""
    ) -> None:
        setfield(self, "name", name)
        setfield(self, "text", text)
        setfield(self, "called_names", called_names)
        setfield(self, "via", via)


class CodeContext(FrozenRecord):
    """The target plus what the model needs to understand it, fitted to a token budget."""

    __slots__ = (
        "target",
        "imports",
        "callees",
        "called_names",
        "enclosing",
        "cross_file_calls",
        "leading_comment",
        "helpers",
    )
    target: Target
    imports: tuple[str, ...]
    callees: tuple[str, ...]  # signatures of same-file functions the target calls
    called_names: tuple[str, ...]  # every name the target calls, dotted where possible
    enclosing: str | None  # e.g. the signature of the enclosing class
    cross_file_calls: int  # calls to names imported from other modules
    leading_comment: str  # comment lines directly above the target (inline directives)
    helpers: tuple[Helper, ...]  # same-file definitions it calls, for the routing signals

    def __init__(
        self,
        target: Target,
        imports: tuple[str, ...] = (),
        callees: tuple[str, ...] = (),
        called_names: tuple[str, ...] = (),
        enclosing: str | None = None,
        cross_file_calls: int = 0,
        leading_comment: str = "",
        helpers: tuple[Helper, ...] = (),
    ) -> None:
        setfield(self, "target", target)
        setfield(self, "imports", imports)
        setfield(self, "callees", callees)
        setfield(self, "called_names", called_names)
        setfield(self, "enclosing", enclosing)
        setfield(self, "cross_file_calls", cross_file_calls)
        setfield(self, "leading_comment", leading_comment)
        setfield(self, "helpers", helpers)

    def render(self) -> str:
        """The context block sent to the model (everything but the target itself)."""
        parts: list[str] = []
        if self.imports:
            parts.append("Imports:\n" + "\n".join(self.imports))
        if self.enclosing:
            parts.append("Enclosing:\n" + self.enclosing)
        if self.callees:
            parts.append(
                "Signatures of functions it calls in this file:\n" + "\n".join(self.callees)
            )
        return "\n\n".join(parts)


def estimate_tokens(text: str) -> int:
    """A cheap token estimate (about 4 characters a token for code), never below 1 for text."""
    return tokens_of_chars(len(text))


def tokens_of_chars(chars: int) -> int:
    """estimate_tokens of a text this many characters long."""
    return 0 if not chars else max(1, (chars + 3) // 4)


# Left out of budget sizes: what a formatter adds, removes or respells (layout, trailing commas,
# wrapping parentheses, line continuations, quote style), so a reformatted copy fits the same.
_LAYOUT_CHARS = " \t\r\n\f\v,()\\'\""
_LAYOUT = str.maketrans("", "", _LAYOUT_CHARS)


@functools.lru_cache(maxsize=256)  # a target is sized by its fit, then by its route
def budget_tokens(text: str) -> int:
    """The size a context budget counts: about 3 significant characters a token, ignoring what
    a formatter changes, so a target and its reformatted copy get the same context."""
    return tokens_of_significant(significant_chars(text))


def significant_chars(text: str) -> int:
    """The characters budget_tokens counts (they add up over concatenated pieces)."""
    if text.isascii():
        return len(text.translate(_LAYOUT))  # translate's ASCII fast path
    # Beyond ASCII, translate() maps character by character (ten times slower than counting
    # each of the twelve characters: one C scan apiece), and a plan sizes every target.
    return len(text) - sum(map(text.count, _LAYOUT_CHARS))


def tokens_of_significant(significant: int) -> int:
    """budget_tokens of a text with this many significant characters."""
    return 0 if not significant else max(1, (significant + 2) // 3)
