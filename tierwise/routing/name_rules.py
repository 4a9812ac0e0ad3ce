"""What one name holds for the risk evidence: an identifier's snake/camel words and the name
rules they meet (routing/risk.py's docstring says which and why), and the category of a
qualified call or reference ("jwt.decode", "cursor.execute")."""

from __future__ import annotations

import functools
import re

from tierwise.routing import vocabulary as v

MODULES = v.table("module")
EXACT = v.table("exact")
LAST = v.table("last")
WORD = v.table("word")
AMBIGUOUS_ROOTS = frozenset(v.table("ambiguous"))
DB_RECEIVERS = frozenset(v.table("receiver", "db"))
RECEIVER_RULES: tuple[tuple[frozenset[str], frozenset[str], str], ...] = (
    (DB_RECEIVERS, frozenset(v.table("method", "sql")), "sql"),
    (
        DB_RECEIVERS | frozenset(v.table("receiver", "store")),
        frozenset(v.table("method", "deletion")),
        "deletion",
    ),
)
VERBS = frozenset(v.table("verb"))
OBJECTS = frozenset(v.table("object"))
MONEY_WORDS = frozenset(v.table("money", "amount"))
MONEY_MARKERS = frozenset(v.table("money", "marker"))
TEMPLATES = {
    "auth": "handles auth data ({})",
    "crypto": "does cryptography ({})",
    "payments": "handles payments ({})",
    "deserialization": "deserialises data ({})",
    "concurrency": "locks or shares state ({})",
    "validation": "validates or sanitises input ({})",
    "filesystem": "guards or writes paths ({})",
}
ERROR_SUFFIXES = ("Error", "Exception", "Warning")
IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_SEPARATOR = re.compile(r"\.|::|/")
_WORDS = re.compile(r"[A-Z]+(?![a-z])\d*|[A-Z]?[a-z]+\d*|\d+")


@functools.lru_cache(maxsize=8192)
def words_of(identifier: str) -> tuple[str, ...]:
    """The lower-cased snake/camel-case words of an identifier."""
    return tuple(w.lower() for w in _WORDS.findall(identifier))


@functools.lru_cache(maxsize=16384)
def classify(plain: str, resolved: bool) -> str | None:
    """The risk category of a qualified call or reference, if any."""
    category = EXACT.get(plain)
    if category is not None:
        return category
    parts = _SEPARATOR.split(plain)
    if resolved or parts[0] not in AMBIGUOUS_ROOTS:
        category = MODULES.get(plain)
        for separator in _SEPARATOR.finditer(plain):
            category = category or MODULES.get(plain[: separator.start()])
        if category is not None:
            return category
    if len(parts) >= 2:
        for receivers, methods, rule_category in RECEIVER_RULES:
            if parts[-1] in methods and parts[-2] in receivers:
                return rule_category
    return LAST.get(parts[-1])


Facts = tuple[str, tuple[tuple[str, str], ...], bool, bool]  # identifier, risks, money words


@functools.lru_cache(maxsize=16384)
def identifier_facts(identifier: str) -> Facts | None:
    """What the name and money rules read of one identifier (None: nothing, or an error
    class's name, which no rule reads)."""
    if identifier.endswith(ERROR_SUFFIXES):
        return None
    risks = identifier_risks(identifier)
    amount, marker = money_words(identifier)
    return (identifier, risks, amount, marker) if risks or amount or marker else None


def identifier_risks(identifier: str) -> tuple[tuple[str, str], ...]:
    """What the name rules find in one identifier, in the order the rules run (not kept
    itself: `identifier_facts` keeps it)."""
    found: dict[str, str] = {}
    words = words_of(identifier)
    if not words:
        return ()
    squashed = "".join(words)
    for word in words:
        category = WORD.get(word)
        if category is not None and category not in found:
            found[category] = TEMPLATES[category].format(identifier)
    for category, compounds in v.COMPOUNDS:
        if (
            category not in found
            and any(c in squashed for c in compounds)  # a cheap test first
            and any(squashed == c or joins(words, c) for c in compounds)
        ):
            found[category] = TEMPLATES[category].format(identifier)
    bag = set(words)
    if "crypto" not in found and bag & v.SAFE_WORDS and bag & v.COMPARE_WORDS:
        found["crypto"] = f"compares in constant time ({identifier})"
    if "filesystem" not in found and bag & {"safe", "secure"} and bag & v.PATH_WORDS:
        found["filesystem"] = f"guards paths ({identifier})"
    if "deletion" not in found and bag & VERBS and bag & OBJECTS:
        found["deletion"] = f"deletes data ({identifier})"
    if "sql" not in found and "sql" in bag:
        found["sql"] = f"builds SQL ({identifier})"
    unsafe = "unsafe" in bag or {"full", "loader"} <= bag or {"full", "load"} <= bag
    if "deserialization" not in found and unsafe and bag & v.LOADER_WORDS:
        found["deserialization"] = f"deserialises data ({identifier})"
    return tuple(found.items())


def joins(words: tuple[str, ...], compound: str) -> bool:
    """Whether adjacent words spell the compound ("log", "out" -> "logout")."""
    return any("".join(words[i : i + 2]) == compound for i in range(len(words) - 1))


def money_words(identifier: str) -> tuple[bool, bool]:
    """Whether an identifier holds a money word, and a money marker."""
    words = set(words_of(identifier))
    return bool(words & MONEY_WORDS), bool(words & MONEY_MARKERS)


def is_loader(identifier: str) -> bool:
    """Whether the loader rule reads this identifier (a "loader" word, not an error class)."""
    return "loader" in words_of(identifier) and not identifier.endswith(ERROR_SUFFIXES)
