"""Risk evidence for every definition of a file from tables of the file's lex, built once (for
`tierwise plan`: routing/signals.py, file_signals).

Each rule on a target's code or literals keeps the first evidence it finds (routing/risk.py),
so a target's evidence is, per category, the first line of its range (or the first literal)
that holds some: the tables list, per category, the lines that do, and a target looks its
range up. A class holds its methods, and its evidence recomputed over all their text was
two fifths of the risk evidence of a plan. What the tables cannot read the same way is read
from the target's code as before: the calls (they are the context's), the mentions of
imported names (in the lines that hold one), the loader of a `load` function.

The tables read the file's lex line by line; a target covers whole lines of it (the caller
slices only those, routing/signals.py), and nothing they read crosses a line break except a
path joined under a root (`join(\\n root)`), whose matches are kept with where they end.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import operator
import re
from collections.abc import Iterable

from tierwise.context.lexer import Lexed
from tierwise.core.code import CodeContext, Helper
from tierwise.routing import name_rules as n
from tierwise.routing import risk
from tierwise.routing import text_rules as t
from tierwise.routing import vocabulary as v

# A definition's place in the file: its first and last line, and its literals (a range of
# the file's Lexed.strings).
Place = tuple[int, int, int, int]
# Identifiers, and line breaks to tell which line each is on (no identifier holds one, so
# scanning the whole code finds each line's).
_IDENT_OR_BREAK = re.compile(r"[A-Za-z_$][\w$]*|\n")
# What a range holds, in the rules' order: names, money and literals; an open() write mode;
# code shapes.
_Held = tuple[tuple[tuple[str, str], ...], str | None, tuple[tuple[str, str], ...]]
_Evidence = tuple[tuple[str, str], ...]
_JOIN_WORDS = ("join", "resolve", "Join")


class FileRisks:
    """The evidence tables of one file's lex, and each definition's evidence from them."""

    def __init__(
        self,
        language: str,
        lexed: Lexed,
        code_lines: list[str],
        bound: set[str],
        places: dict[str, Place],
    ) -> None:
        """`bound`: every name the targets' imports bind; `places`: where each definition
        that a helper may be lies, by its text."""
        self._language = language
        self._code = lexed.code
        self._lines = code_lines
        self._places = places
        self._starts = line_starts(code_lines)
        self._names: dict[str, tuple[list[int], list[str]]] = {}
        self._amounts: tuple[list[int], list[str]] = ([], [])
        self._markers: tuple[list[int], list[str]] = ([], [])
        # The lines naming a bound name, and the names each names.
        self._bound: tuple[list[int], list[set[str]]] = ([], [])
        self._read_identifiers(bound)
        literals = list(map(t.literal_facts, lexed.strings))
        self._sql = [i for i, f in enumerate(literals) if f is not None and f[1]]
        self._statements = [(i, f[2]) for i, f in enumerate(literals) if f is not None and f[2]]
        self._parents = [i for i, f in enumerate(literals) if f is not None and f[3]]
        self._currencies = [(i, f[4]) for i, f in enumerate(literals) if f is not None and f[4]]
        self._modes = [(i, s) for i, s in enumerate(lexed.strings) if t.WRITE_MODE.fullmatch(s)]
        self._read_shapes()
        self._held: dict[Place, _Held] = {}
        self._helpers: dict[tuple[Place, tuple[str, ...], _Evidence], _Evidence] = {}

    def _read_identifiers(self, bound: set[str]) -> None:
        """Per category, the lines whose identifiers hold evidence (each line's first), the
        lines with an amount or a money marker, and the lines naming each bound name."""
        # Every identifier of the file in one list, and its facts, from chains of maps: only
        # the few that hold something take a Python step.
        every = _IDENT_OR_BREAK.findall(self._code)
        breaks = list(itertools.compress(itertools.count(), map("\n".__eq__, every)))
        facts = list(map(n.identifier_facts, every))
        names = self._names
        amounts, markers = self._amounts, self._markers
        line = -1
        seen: set[str] = set()
        amount = marker = False
        for index in itertools.compress(itertools.count(), facts):
            fact = facts[index]
            if fact is None:
                continue
            identifier, risks, is_amount, is_marker = fact
            if line < 0 or (line < len(breaks) and index > breaks[line]):
                line = bisect.bisect_left(breaks, index)
                seen.clear()
                amount = marker = False
            for category, evidence in risks:
                if category not in seen:
                    seen.add(category)
                    lines, texts = names.setdefault(category, ([], []))
                    lines.append(line)
                    texts.append(evidence)
            if is_amount and not amount:
                amount = True
                amounts[0].append(line)
                amounts[1].append(identifier)
            if is_marker and not marker:
                marker = True
                markers[0].append(line)
                markers[1].append(identifier)
        # The lines whose identifiers a code shape's match is made of (each match is one).
        shaped = itertools.compress(itertools.count(), map(_shape_word, every))
        self._shaped = sorted({bisect.bisect_left(breaks, index) for index in shaped})
        if bound:
            held = self._bound
            for index in itertools.compress(itertools.count(), map(bound.__contains__, every)):
                number = bisect.bisect_left(breaks, index)
                if not held[0] or held[0][-1] != number:
                    held[0].append(number)
                    held[1].append(set())
                held[1][-1].add(every[index])

    def _read_shapes(self) -> None:
        """The lines with a goroutine or a concurrency type (its first), and every path
        joined under a root, with where it starts and ends."""
        self._goroutines: list[int] = []
        self._types: tuple[list[int], list[str]] = ([], [])
        self._joins: tuple[list[int], list[int], list[str]] = ([], [], [])
        # Each pattern starts with an anchor, a look-behind or a boundary, so the regex engine
        # would try it at every position of a whole file: it is tried only on the lines with
        # an identifier a match is made of ("go", a type's name, "join"). A match is on one
        # line but for a join's, none starts inside another, and a join's starts with its
        # word: these are the matches a scan of the file finds.
        for number in self._shaped:
            line = self._lines[number]
            if t.GO_STATEMENT.match(line):
                self._goroutines.append(number)
            typed = t.CONCURRENCY_TYPES.search(line) if t.has_concurrency_word(line) else None
            if typed is not None:
                self._types[0].append(number)
                self._types[1].append(typed.group(0))
            start = self._starts[number]
            for at in sorted(_found(line, _JOIN_WORDS)):
                joined = t.UNDER_ROOT.match(self._code, start + at)
                if joined is not None:
                    self._joins[0].append(joined.start())
                    self._joins[1].append(joined.end())
                    self._joins[2].append(joined.group(1))

    def _line_of(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset) - 1

    def _span(self, place: Place) -> tuple[int, int]:
        """Where a place's lines are in the file's code."""
        first, last = place[0], place[1]
        return self._starts[first], self._starts[last] + len(self._lines[last])

    def find_risks(
        self, ctx: CodeContext, text: str, place: Place, bindings: dict[str, str], plain: bool
    ) -> dict[str, str]:
        """`risk.find_risks(ctx, lexed, text)` for a target at this place of the file."""
        target = ctx.target
        first, last = place[0], place[1]
        found = risk.call_evidence(ctx.called_names, bindings)
        if bindings:
            start, end = self._span(place)
            if plain:
                lines, named = self._bound
                low = bisect.bisect_left(lines, first)
                high = bisect.bisect_right(lines, last, low)
                present = bindings.keys() & set().union(*named[low:high])
                if present:
                    code = self._code[start:end]
                    risk.mention_evidence(found, code, bindings, dict.fromkeys(present), True)
            else:
                risk.mention_evidence(found, self._code[start:end], bindings, None, False)
        names, mode, shapes = self._held_in(place)
        _merge(found, names)
        if "deserialization" not in found and target.name in v.LOAD_FUNCTIONS:
            start, end = self._span(place)
            identifiers = n.IDENT.findall(self._code[start:end])
            loader = next((i for i in identifiers if n.is_loader(i)), None)
            if loader is not None:
                found["deserialization"] = f"loads objects with a {loader}"
        _opened(found, ctx.called_names, mode)
        if "sql" not in found and target.path and t.MIGRATION_PATH.search(target.path):
            found["sql"] = "is a database migration"
        _merge(found, shapes)
        risk.add_surroundings(found, ctx, bindings, self._helper_risks)
        return found

    def _helper_risks(self, helper: Helper, bindings: _Evidence) -> _Evidence:
        """A same-file helper's own evidence (`risk._helper_risks`), from its place when it
        is a definition of this file whose lines the tables read."""
        place = self._places.get(helper.text)
        if place is None:
            return risk.helper_evidence(self._language, helper, bindings)
        key = (place, helper.called_names, bindings)
        kept = self._helpers.get(key)
        if kept is None:
            found = risk.call_evidence(helper.called_names, dict(bindings))
            names, mode, shapes = self._held_in(place)
            _merge(found, names)
            _opened(found, helper.called_names, mode)
            _merge(found, shapes)
            kept = self._helpers[key] = tuple(found.items())
        return kept

    def _held_in(self, place: Place) -> _Held:
        """What the rules that read lines and literals find in a place: the same for a
        target and for it as a helper, so kept."""
        kept = self._held.get(place)
        if kept is not None:
            return kept
        first, last, low, high = place
        found: dict[str, str] = {}
        for category, (lines, texts) in self._names.items():
            at = bisect.bisect_left(lines, first)
            if at < len(lines) and lines[at] <= last:
                found[category] = texts[at]
        if "payments" not in found:
            amount = _first(self._amounts, first, last)
            marker = _first(self._markers, first, last)
            if marker is None:
                currency = _first_literal(self._currencies, low, high)
                marker = f'"{currency}"' if currency else None
            if amount is not None and marker is not None:
                detail = amount if amount == marker else f"{amount} with {marker}"
                found["payments"] = f"handles money ({detail})"
        if _any_within(self._sql, low, high - 1):
            found.setdefault("sql", "builds SQL")
            statement = _first_literal(self._statements, low, high)
            if statement is not None:
                found.setdefault("deletion", f"runs {statement}")
        if _any_within(self._parents, low, high - 1):
            found.setdefault("filesystem", "checks paths for '..'")
        mode = _first_literal(self._modes, low, high)
        shapes: dict[str, str] = {}
        if _any_within(self._goroutines, first, last):
            shapes["concurrency"] = "starts goroutines"
        else:
            typed = _first(self._types, first, last)
            if typed is not None:
                shapes["concurrency"] = f"uses {typed}"
        start, end = self._span(place)
        at = bisect.bisect_left(self._joins[0], start)
        # A join that starts in the range but ends past it is not in the target's code (and
        # no other starts inside it).
        if at < len(self._joins[0]) and self._joins[1][at] <= end:
            shapes["filesystem"] = f"joins paths under {self._joins[2][at]}"
        kept = self._held[place] = (tuple(found.items()), mode, tuple(shapes.items()))
        return kept


def _merge(found: dict[str, str], items: Iterable[tuple[str, str]]) -> None:
    for category, evidence in items:
        found.setdefault(category, evidence)


def _opened(found: dict[str, str], calls: tuple[str, ...], mode: str | None) -> None:
    """A write mode among the literals of code that calls open()."""
    if mode is not None and "filesystem" not in found and any(c in t.OPEN_CALLS for c in calls):
        found["filesystem"] = f"opens a file for writing ({mode!r})"


def _any_within(lines: list[int] | None, first: int, last: int) -> bool:
    """Whether a sorted list holds a number from first to last."""
    if not lines:
        return False
    at = bisect.bisect_left(lines, first)
    return at < len(lines) and lines[at] <= last


def _first(table: tuple[list[int], list[str]], first: int, last: int) -> str | None:
    """The text of a table's first line from first to last."""
    lines, texts = table
    at = bisect.bisect_left(lines, first)
    return texts[at] if at < len(lines) and lines[at] <= last else None


def _first_literal(table: list[tuple[int, str]], low: int, high: int) -> str | None:
    """The text of a table's first literal of the range [low, high)."""
    at = bisect.bisect_left(table, (low, ""))
    return table[at][1] if at < len(table) and table[at][0] < high else None


def _found(code: str, words: Iterable[str]) -> list[int]:
    """Where each of the words occurs in the code."""
    found = []
    for word in words:
        at = code.find(word)
        while at >= 0:
            found.append(at)
            at = code.find(word, at + 1)
    return found


def line_starts(lines: list[str]) -> list[int]:
    """Where each line starts in the lines joined with line breaks."""
    lengths = map(operator.add, map(len, lines), itertools.repeat(1))
    return [0, *itertools.accumulate(lengths)][: len(lines)]


@functools.lru_cache(maxsize=16384)
def _shape_word(identifier: str) -> bool:
    """Whether an identifier can be what a code shape's match is made of: a goroutine's
    `go`, a concurrency type's name, a join's word, or one holding `$` (the patterns' word
    boundaries do not count it as a word's: `$join(` holds a join)."""
    return (
        identifier == "go"
        or identifier in _JOIN_WORDS
        or "$" in identifier
        or t.CONCURRENCY_TYPES.fullmatch(identifier) is not None
    )
