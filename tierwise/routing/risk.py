"""Risk evidence for the routing signals: which high-stakes categories a target touches, and why.

Pure and lexical: the target is split into code, strings and comments once (context.lexer),
and every rule reads those pieces. Choices that keep false positives down:
- Calls are resolved through the imports ("run" bound by `from subprocess import run` is
  subprocess.run). Generic method names (execute, query, delete) count only on a receiver that
  looks like a database or file handle (cursor, conn, db, session, pool, objects, ...), so a JS
  `Map.delete` or `RegExp.exec` is not a risk.
- Identifiers are split into snake/camel words and matched as whole words: "author" is not
  auth, "payload" is not pay, "tokenize" is not an auth token. Error type names (AuthError)
  do not count: naming an error is not handling the thing.
- Strings count for SQL only when they look like statements; docstrings and comments never
  count, so "Delete stale rows" in a docstring is not data deletion.
- Money words that are common outside payments (price, amount, total, fee, tax, ...) count only
  next to a money marker (Decimal, quantize, currency, cents, or a currency code in a string).
- Names are evidence too, because high-stakes code is often recognisable only by them: a
  signature check that calls no crypto function (`verify_signature`, `secret_keys`), a
  constant-time comparison written by hand (`safeStringCompare`), a deletion through a class's
  SQL template (`self.sql_delete_table`), a method of a signing or locking class (the words of
  the enclosing class count, as "a method of TimestampSigner").
- Short wrappers are not low stakes: the same-file helpers a target calls (two levels deep,
  context.extract) are checked too, and their evidence is reported "through" them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from tierwise.context.imports import import_bindings
from tierwise.context.lexer import Lexed, lex
from tierwise.core.code import CodeContext
from tierwise.core.records import FrozenRecord, setfield
from tierwise.routing import vocabulary as v


class RiskHit(FrozenRecord):
    """One risk category with short, human-readable evidence ("calls jwt.decode")."""

    __slots__ = ("category", "evidence")
    category: str
    evidence: str

    def __init__(self, category: str, evidence: str) -> None:
        setfield(self, "category", category)
        setfield(self, "evidence", evidence)


_MODULES = v.table("module")
_EXACT = v.table("exact")
_LAST = v.table("last")
_WORD = v.table("word")
_AMBIGUOUS_ROOTS = frozenset(v.table("ambiguous"))
_DB_RECEIVERS = frozenset(v.table("receiver", "db"))
_RECEIVER_RULES: tuple[tuple[frozenset[str], frozenset[str], str], ...] = (
    (_DB_RECEIVERS, frozenset(v.table("method", "sql")), "sql"),
    (
        _DB_RECEIVERS | frozenset(v.table("receiver", "store")),
        frozenset(v.table("method", "deletion")),
        "deletion",
    ),
)
_VERBS = frozenset(v.table("verb"))
_OBJECTS = frozenset(v.table("object"))
_MONEY_WORDS = frozenset(v.table("money", "amount"))
_MONEY_MARKERS = frozenset(v.table("money", "marker"))
_TEMPLATES = {
    "auth": "handles auth data ({})",
    "crypto": "does cryptography ({})",
    "payments": "handles payments ({})",
    "deserialization": "deserialises data ({})",
    "concurrency": "locks or shares state ({})",
    "validation": "validates or sanitises input ({})",
    "filesystem": "guards or writes paths ({})",
}
_SEPARATOR = re.compile(r"\.|::|/")
_ERROR_SUFFIXES = ("Error", "Exception", "Warning")
_CONCURRENCY_TYPES = re.compile(
    r"(?<![\w$])(?:R?Lock|Mutex|RwLock|(?:Bounded)?Semaphore|Condition|Barrier|WaitGroup|"
    r"(?:Thread|Process)PoolExecutor|Atomic(?:Bool|Usize|Isize|U64|I64|U32|I32)|"
    r"SharedArrayBuffer)(?![\w$])"
)
_CURRENCY_CODE = re.compile(r"\b(?:USD|EUR|GBP|JPY|CHF|CAD|AUD)\b|[€£¥]")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_WORDS = re.compile(r"[A-Z]+(?![a-z])\d*|[A-Z]?[a-z]+\d*|\d+")
_SQL_UPPER = re.compile(
    r"\bSELECT\b[\s\S]+?\bFROM\b|\bINSERT\s+(?:OR\s+\w+\s+)?INTO\b|\bUPDATE\s+\S+\s+SET\b"
    r"|\bDELETE\s+FROM\b|\b(?:CREATE|DROP|ALTER|TRUNCATE)\s+(?:TABLE|INDEX|VIEW|SCHEMA)\b"
)
_SQL_LOWER = re.compile(
    r"\bselect\s+(?:\*|[\w.]+(?:\s*,\s*[\w.]+)+)\s+from\s+\w|\binsert\s+into\s+[\w.\"`]+\s*\("
    r"|\bupdate\s+[\w.\"`]+\s+set\s+[\w.\"`]+\s*=|\bdelete\s+from\s+[\w.\"`]+\s+where\b"
    r"|\b(?:drop|truncate)\s+table\b",
    re.I,
)
_SQL_DESTRUCTIVE = re.compile(
    r"\b(DELETE\s+FROM|DROP\s+(?:TABLE|SCHEMA)|TRUNCATE(?:\s+TABLE)?)\b", re.I
)
_CONCURRENCY_WORDS = (
    "Lock",
    "Mutex",
    "Semaphore",
    "Condition",
    "Barrier",
    "WaitGroup",
    "PoolExecutor",
    "Atomic",
    "SharedArrayBuffer",
)
_GO_STATEMENT = re.compile(r"^[ \t]*go[ \t]+(?:func\b|[\w.]+\()", re.M)
_WRITE_MODE = re.compile(r"[rb]?[wax]b?\+?|r\+b?|rb\+")
_PARENT_DIR = re.compile(r"(?:^|[/\\])\.\.(?:[/\\]|$)")
_UNDER_ROOT = re.compile(
    r"\b(?:join|resolve|Join)\s*\(\s*(?:self\.|this\.|s\.)?_?"
    r"(root|base_?dir|base|directory|dest(?:ination)?|upload_?dir|folder|path)\b"
)
_MIGRATION_PATH = re.compile(r"(?:^|[/\\])migrations[/\\]|[/\\]alembic[/\\]versions[/\\]")


@functools.lru_cache(maxsize=8192)
def words_of(identifier: str) -> tuple[str, ...]:
    """The lower-cased snake/camel-case words of an identifier."""
    return tuple(w.lower() for w in _WORDS.findall(identifier))


@functools.lru_cache(maxsize=256)
def _context_bindings(language: str, imports: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """What the context's imports bind: the same for every target of a file, so kept."""
    return tuple(import_bindings(language, "\n".join(imports)))


def find_risks(ctx: CodeContext, lexed: Lexed, text: str) -> dict[str, str]:
    """category -> evidence for the target, its enclosing class and its same-file helpers."""
    language = ctx.target.language
    context = _context_bindings(language, ctx.imports)
    bindings = dict(context)
    plain = _plain_names(context)
    if language not in _IMPORT_WORDS or any(w in text for w in _IMPORT_WORDS[language]):
        own = import_bindings(language, text)
        bindings.update(own)
        plain = plain and _plain_names(tuple(own))
    target = ctx.target
    found = _direct(ctx.called_names, lexed, bindings, target.path, target.name, True, plain)
    # A definition named like a risky call is that call: a copy of `consteq` pasted into a
    # file without the imports its original leaned on is still a constant-time comparison.
    named = _LAST.get(ctx.target.name)
    if named is not None:
        found.setdefault(named, f"is named {ctx.target.name} (a {named} call)")
    for category, evidence in _enclosing(ctx.enclosing, ctx.target.name).items():
        found.setdefault(category, evidence)
    for helper in ctx.helpers:
        if len(found) == len(v.RISK_CATEGORIES):
            break
        path = f"{helper.via} → {helper.name}" if helper.via else helper.name
        inner = _helper_risks(language, helper.text, helper.called_names, tuple(bindings.items()))
        for category, evidence in inner:
            found.setdefault(category, f"through {path}: {evidence}")
    return found


@functools.lru_cache(maxsize=256)
def _plain_names(bindings: tuple[tuple[str, str], ...]) -> bool:
    """Whether every bound name is an identifier (then mentions are found name by name): kept,
    since a file's targets share its imports, and checking each name for each target was a
    twentieth of a plan of a tree whose tests import dozens of names."""
    return all(_IDENT.fullmatch(name) for name, _ in bindings)


@functools.lru_cache(maxsize=1024)
def _helper_risks(
    language: str, text: str, called_names: tuple[str, ...], bindings: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """A same-file helper's own evidence: kept, since every caller in the file asks again."""
    found = _direct(called_names, lex(language, text), dict(bindings), "", "", False)
    return tuple(found.items())


# Words every import statement import_bindings reads holds, per language (Go's pattern reads
# any quoted path, so Go is always read): a target without them binds nothing itself.
_IMPORT_WORDS = {
    "python": ("import",),
    "javascript": ("import", "require"),
    "typescript": ("import", "require"),
    "tsx": ("import", "require"),
    "rust": ("use",),
}


@functools.lru_cache(maxsize=16384)
def _classify(plain: str, resolved: bool) -> str | None:
    """The risk category of a qualified call or reference, if any."""
    category = _EXACT.get(plain)
    if category is not None:
        return category
    parts = _SEPARATOR.split(plain)
    if resolved or parts[0] not in _AMBIGUOUS_ROOTS:
        category = _MODULES.get(plain)
        for separator in _SEPARATOR.finditer(plain):
            category = category or _MODULES.get(plain[: separator.start()])
        if category is not None:
            return category
    if len(parts) >= 2:
        for receivers, methods, rule_category in _RECEIVER_RULES:
            if parts[-1] in methods and parts[-2] in receivers:
                return rule_category
    return _LAST.get(parts[-1])


def _direct(
    called_names: tuple[str, ...],
    lexed: Lexed,
    bindings: dict[str, str],
    path: str,
    name: str,
    mentions: bool,
    plain: bool | None = None,
) -> dict[str, str]:
    """The evidence in one piece of code (a target or a helper). `mentions`: imported names
    the code only mentions (a type in an annotation) count too, for the target, not helpers;
    `plain`: whether every bound name is an identifier, when known."""
    found: dict[str, str] = {}
    for called in called_names:
        root = _IDENT.match(called)
        resolved = root is not None and root.group(0) in bindings
        if root is not None and resolved:
            called = bindings[root.group(0)] + called[root.end() :]
        category = _classify(called.replace("()", "").replace("[]", ""), resolved)
        if category is not None:
            evidence = f"{'uses' if category == 'concurrency' else 'calls'} {called}"
            if len(evidence) < len(found.get(category, evidence + " ")):
                found[category] = evidence  # the shortest call reads best
    code = lexed.code
    every = dict.fromkeys(_IDENT.findall(code))
    for qualified in _used_origins(code, bindings, every, plain) if mentions else ():
        category = _classify(qualified, True)
        if category is not None:
            found.setdefault(category, f"uses {qualified}")
    # Most identifiers and literals hold no evidence: their facts are kept per text, and only
    # the ones that hold some are looked at here (in order: the first evidence still wins).
    facts = list(filter(None, map(_identifier_facts, every)))
    literals = list(filter(None, map(_literal_facts, lexed.strings)))
    _names(found, every, name, called_names, facts)
    _money(found, every, lexed.strings, facts, literals)
    _strings(found, lexed.strings, called_names, path, literals)
    _code_shapes(found, code)
    return found


_Facts = tuple[str, tuple[tuple[str, str], ...], bool, bool]  # identifier, risks, money words


@functools.lru_cache(maxsize=16384)
def _identifier_facts(identifier: str) -> _Facts | None:
    """What the name and money rules read of one identifier (None: nothing, or an error
    class's name, which no rule reads)."""
    if identifier.endswith(_ERROR_SUFFIXES):
        return None
    risks = identifier_risks(identifier)
    amount, marker = _money_words(identifier)
    return (identifier, risks, amount, marker) if risks or amount or marker else None


def _names(
    found: dict[str, str],
    identifiers: Iterable[str],
    name: str,
    calls: tuple[str, ...],
    facts: list[_Facts] | None = None,
) -> None:
    """The name rules: words, compounds, safe comparisons and path guards, deletions, SQL
    names and the loaders of unsafe deserialisation (error classes' names aside). `facts`:
    the identifiers' `_identifier_facts` that are not None, when known."""
    if facts is None:
        facts = list(filter(None, map(_identifier_facts, identifiers)))
    for _identifier, risks, _amount, _marker in facts:
        # Each rule reads the identifier alone, so its evidence is kept per identifier (a
        # tree repeats `self`, `value`, `queryset` thousands of times); the first evidence
        # for a category still wins, as when the rules ran here one by one.
        for category, evidence in risks:
            if category not in found:
                found[category] = evidence
    if "deserialization" not in found and name in v.LOAD_FUNCTIONS:
        loader = next(
            (i for i in identifiers if "loader" in words_of(i) and not i.endswith(_ERROR_SUFFIXES)),
            None,
        )
        if loader is not None:
            found["deserialization"] = f"loads objects with a {loader}"


def identifier_risks(identifier: str) -> tuple[tuple[str, str], ...]:
    """What the name rules find in one identifier, in the order the rules run (not kept
    itself: `_identifier_facts` keeps it)."""
    found: dict[str, str] = {}
    words = words_of(identifier)
    if not words:
        return ()
    squashed = "".join(words)
    for word in words:
        category = _WORD.get(word)
        if category is not None and category not in found:
            found[category] = _TEMPLATES[category].format(identifier)
    for category, compounds in v.COMPOUNDS:
        if (
            category not in found
            and any(c in squashed for c in compounds)  # a cheap test first
            and any(squashed == c or _joins(words, c) for c in compounds)
        ):
            found[category] = _TEMPLATES[category].format(identifier)
    bag = set(words)
    if "crypto" not in found and bag & v.SAFE_WORDS and bag & v.COMPARE_WORDS:
        found["crypto"] = f"compares in constant time ({identifier})"
    if "filesystem" not in found and bag & {"safe", "secure"} and bag & v.PATH_WORDS:
        found["filesystem"] = f"guards paths ({identifier})"
    if "deletion" not in found and bag & _VERBS and bag & _OBJECTS:
        found["deletion"] = f"deletes data ({identifier})"
    if "sql" not in found and "sql" in bag:
        found["sql"] = f"builds SQL ({identifier})"
    unsafe = "unsafe" in bag or {"full", "loader"} <= bag or {"full", "load"} <= bag
    if "deserialization" not in found and unsafe and bag & v.LOADER_WORDS:
        found["deserialization"] = f"deserialises data ({identifier})"
    return tuple(found.items())


def _joins(words: tuple[str, ...], compound: str) -> bool:
    """Whether adjacent words spell the compound ("log", "out" -> "logout")."""
    return any("".join(words[i : i + 2]) == compound for i in range(len(words) - 1))


def _money_words(identifier: str) -> tuple[bool, bool]:
    """Whether an identifier holds a money word, and a money marker."""
    words = set(words_of(identifier))
    return bool(words & _MONEY_WORDS), bool(words & _MONEY_MARKERS)


def _money(
    found: dict[str, str],
    identifiers: Iterable[str],
    strings: tuple[str, ...],
    facts: list[_Facts] | None = None,
    literals: list[_Literal] | None = None,
) -> None:
    """An amount next to a currency marker (a word, or a currency code in a literal)."""
    if "payments" in found:
        return
    if facts is None:
        facts = list(filter(None, map(_identifier_facts, identifiers)))
    if literals is None:
        literals = list(filter(None, map(_literal_facts, strings)))
    amount = next((f[0] for f in facts if f[2]), None)
    marker = next((f[0] for f in facts if f[3]), None)
    currency = next((code for *_, code in literals if code), None)  # its first code
    marker = marker or (f'"{currency}"' if currency else None)
    if amount is not None and marker is not None:
        detail = amount if amount == marker else f"{amount} with {marker}"
        found["payments"] = f"handles money ({detail})"


def _strings(
    found: dict[str, str],
    strings: tuple[str, ...],
    calls: tuple[str, ...],
    path: str,
    literals: list[_Literal] | None = None,
) -> None:
    """SQL statements, destructive ones, write modes of open() and '..' path segments;
    `literals`: the strings' `_literal_facts` that are not None, when known."""
    if literals is None:
        literals = list(filter(None, map(_literal_facts, strings)))
    for _literal, sql, statement, parent, _currency in literals:
        if sql:
            found.setdefault("sql", "builds SQL")
            if statement:
                found.setdefault("deletion", f"runs {statement}")
        if "filesystem" not in found and parent:
            found["filesystem"] = "checks paths for '..'"
    if "filesystem" not in found and any(c in ("open", "io.open", "os.fdopen") for c in calls):
        mode = next((s for s in strings if _WRITE_MODE.fullmatch(s)), None)
        if mode is not None:
            found["filesystem"] = f"opens a file for writing ({mode!r})"
    if "sql" not in found and path and _MIGRATION_PATH.search(path):
        found["sql"] = "is a database migration"


# literal, is SQL, the destructive statement it runs, has a '..' segment, first currency code
_Literal = tuple[str, bool, str, bool, str]


@functools.lru_cache(maxsize=8192)
def _literal_facts(literal: str) -> _Literal | None:
    """What the string rules read of one literal (None: nothing; kept: a class holds its
    methods' strings)."""
    sql = bool(_SQL_UPPER.search(literal) or _SQL_LOWER.search(literal))
    destructive = _SQL_DESTRUCTIVE.search(literal) if sql else None
    statement = re.sub(r"\s+", " ", destructive.group(1)).upper() if destructive else ""
    parent = _PARENT_DIR.search(literal) is not None
    currency = _CURRENCY_CODE.search(literal)
    code = currency.group(0) if currency else ""
    return (literal, sql, statement, parent, code) if sql or parent or code else None


def _code_shapes(found: dict[str, str], code: str) -> None:
    """Concurrency types and goroutines, and paths joined under a root directory."""
    # Each pattern runs only on code holding a word every one of its matches contains: the
    # look-behinds make the regex engine try every position of the code otherwise.
    if "concurrency" not in found:
        typed = (
            _CONCURRENCY_TYPES.search(code) if any(w in code for w in _CONCURRENCY_WORDS) else None
        )
        if "go" in code and _GO_STATEMENT.search(code):
            found["concurrency"] = "starts goroutines"
        elif typed is not None:
            found["concurrency"] = f"uses {typed.group(0)}"
    if "filesystem" not in found and ("oin" in code or "resolve" in code):
        joined = _UNDER_ROOT.search(code)
        if joined is not None:
            found["filesystem"] = f"joins paths under {joined.group(1)}"


_CLASS_CATEGORIES = frozenset(
    {"auth", "crypto", "payments", "concurrency", "deserialization", "validation"}
)


def _enclosing(enclosing: str | None, name: str) -> dict[str, str]:
    """The words of the enclosing classes' names: a method of a signer signs, and a `delete`
    of a QuerySet or a file store deletes data."""
    found: dict[str, str] = {}
    deletes = bool(words_of(name)) and set(words_of(name)) <= _VERBS
    for line in (enclosing or "").split("\n"):
        match = re.match(r"\s*(?:class|type|struct|impl|interface)\s+([A-Za-z_$][\w$]*)", line)
        if match is None or match.group(1).endswith(_ERROR_SUFFIXES):
            continue
        owner = match.group(1)
        for word in words_of(owner):
            category = _WORD.get(word)
            if category in _CLASS_CATEGORIES and category not in found:
                found[category] = f"a method of {owner} ({word})"
        if deletes and "deletion" not in found and set(words_of(owner)) & _OBJECTS:
            found["deletion"] = f"{name} of {owner}"
    return found


def _used_origins(
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
        plain = identifiers is not None and all(_IDENT.fullmatch(name) for name in bindings)
    if identifiers is not None and plain:
        # In any order: the mentions are a set, found in code order whatever the names' order.
        present = identifiers.keys() & bindings.keys()
        if not present:
            return []
        mentions = _mentions_of(code, present)
    else:
        mentions = set(_mentions(tuple(bindings)).findall(code))
    found: set[str] = set()
    for mention in mentions:
        root = _IDENT.match(mention)
        if root is None:
            continue
        qualified = bindings[root.group(0)] + "".join(mention[root.end() :].split())
        if not qualified.endswith(_ERROR_SUFFIXES):
            found.add(qualified)
    return sorted(found)


_MENTION_TAIL = re.compile(r"\s*(?:\.|::)\s*[A-Za-z_$][\w$]*")


def _mentions_of(code: str, names: Iterable[str]) -> set[str]:
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
