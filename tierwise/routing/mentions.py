"""Mentions of imported names in a target's code ("threading.Lock" in an annotation), for the
risk evidence: the qualified names of the imported things the code names without calling."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from tierwise.routing.name_rules import ERROR_SUFFIXES, IDENT


def used_origins(
    code: str,
    bindings: dict[str, str],
    identifiers: dict[str, None] | None = None,
    plain: bool | None = None,
) -> list[str]:
    """Qualified names of imported things the code mentions ("threading.Lock"), errors aside.
    `identifiers`: every identifier of the code, when known: a mention starts with one, so
    when no bound name is among them there is nothing to look for; `plain`: whether every
    bound name is an identifier, when known."""
    if not bindings:
        return []
    mentions: set[str]
    if plain is None:
        plain = identifiers is not None and all(IDENT.fullmatch(name) for name in bindings)
    if identifiers is not None and plain:
        # In any order: the mentions are a set, found in code order whatever the names' order.
        present = identifiers.keys() & bindings.keys()
        if not present:
            return []
        mentions = mentions_of(code, present)
    else:
        mentions = set(_mentions(tuple(bindings)).findall(code))
    found: set[str] = set()
    for mention in mentions:
        root = IDENT.match(mention)
        if root is None:
            continue
        qualified = bindings[root.group(0)] + "".join(mention[root.end() :].split())
        if not qualified.endswith(ERROR_SUFFIXES):
            found.add(qualified)
    return sorted(found)


_MENTION_TAIL = re.compile(r"\s*(?:\.|::)\s*[A-Za-z_$][\w$]*")


def mentions_of(code: str, names: Iterable[str]) -> set[str]:
    """What `_mentions(tuple(names)).findall(code)` finds, without compiling that pattern
    (each file binds its own names: compiling a pattern of each file's was a twentieth of a
    plan). Each name's occurrences that are not part of a longer name are found with
    `str.find`; the pattern's scan goes left to right and skips what a mention's `.attr`
    covers, so a mention inside an earlier one's `.attr` or `::attr` is dropped here too."""
    found: list[tuple[int, int]] = []
    for name in names:
        at = code.find(name)
        while at >= 0:
            end = at + len(name)
            before = code[at - 1] if at else ""
            after = code[end] if end < len(code) else ""
            if not (before and _word_or_dot(before)) and not (after and _word(after)):
                tail = _MENTION_TAIL.match(code, end)
                found.append((at, tail.end() if tail else end))
            at = code.find(name, at + 1)
    found.sort()
    mentions: set[str] = set()
    covered = 0
    for start, end in found:
        if start >= covered:
            mentions.add(code[start:end])
            covered = end
    return mentions


def _word(char: str) -> bool:
    """What the pattern's `[\\w$]` matches (`\\w`: str.isalnum() and "_")."""
    return char.isalnum() or char in "_$"


def _word_or_dot(char: str) -> bool:
    return char.isalnum() or char in "_$."


@functools.lru_cache(maxsize=256)
def _mentions(bound: tuple[str, ...]) -> re.Pattern[str]:
    """A pattern for mentions of these bound names (a file's targets share its imports)."""
    names = "|".join(re.escape(n) for n in sorted(bound, key=len, reverse=True))
    return re.compile(rf"(?<![\w$.])(?:{names})(?:\s*(?:\.|::)\s*[A-Za-z_$][\w$]*)?(?![\w$])")
