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
from collections.abc import Callable, Iterable

from tierwise.context.imports import import_bindings
from tierwise.context.lexer import Lexed, lex
from tierwise.core.code import CodeContext, Helper
from tierwise.core.records import FrozenRecord, setfield
from tierwise.routing import name_rules as n
from tierwise.routing import text_rules as t
from tierwise.routing import vocabulary as v
from tierwise.routing.mentions import used_origins


class RiskHit(FrozenRecord):
    """One risk category with short, human-readable evidence ("calls jwt.decode")."""

    __slots__ = ("category", "evidence")
    category: str
    evidence: str

    def __init__(self, category: str, evidence: str) -> None:
        setfield(self, "category", category)
        setfield(self, "evidence", evidence)


# The rules' tables and steps under the names they had here before this module was split
# (name_rules.py, text_rules.py, mentions.py): the rules' tests read them from this module.
_IDENT, _ERROR_SUFFIXES, _LAST, _WORD = n.IDENT, n.ERROR_SUFFIXES, n.LAST, n.WORD
_TEMPLATES, _VERBS, _OBJECTS = n.TEMPLATES, n.VERBS, n.OBJECTS
_MONEY_WORDS, _MONEY_MARKERS = n.MONEY_WORDS, n.MONEY_MARKERS
_classify, _joins, _identifier_facts = n.classify, n.joins, n.identifier_facts
words_of, identifier_risks = n.words_of, n.identifier_risks
_SQL_UPPER, _SQL_LOWER, _SQL_DESTRUCTIVE = t.SQL_UPPER, t.SQL_LOWER, t.SQL_DESTRUCTIVE
_PARENT_DIR, _CURRENCY_CODE, _WRITE_MODE = t.PARENT_DIR, t.CURRENCY_CODE, t.WRITE_MODE
_MIGRATION_PATH, _literal_facts, _used_origins = t.MIGRATION_PATH, t.literal_facts, used_origins


@functools.lru_cache(maxsize=256)
def context_bindings(language: str, imports: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """What the context's imports bind: the same for every target of a file, so kept."""
    return tuple(import_bindings(language, "\n".join(imports)))


def find_risks(ctx: CodeContext, lexed: Lexed, text: str) -> dict[str, str]:
    """category -> evidence for the target, its enclosing class and its same-file helpers."""
    bindings, plain = target_bindings(ctx, text)
    target = ctx.target
    found = _direct(ctx.called_names, lexed, bindings, target.path, target.name, True, plain)
    add_surroundings(found, ctx, bindings)
    return found


def target_bindings(
    ctx: CodeContext, text: str, imports: bool | None = None
) -> tuple[dict[str, str], bool]:
    """What the target's context imports and its own bind, and whether every bound name is
    an identifier (`imports`: whether the text holds an import word, when known)."""
    language = ctx.target.language
    context = context_bindings(language, ctx.imports)
    bindings = dict(context)
    plain = plain_names(context)
    if imports is None:
        imports = language not in IMPORT_WORDS or any(w in text for w in IMPORT_WORDS[language])
    if imports:
        own = import_bindings(language, text)
        bindings.update(own)
        plain = plain and plain_names(tuple(own))
    return bindings, plain


Bindings = tuple[tuple[str, str], ...]
HelperRisks = Callable[[Helper, Bindings], tuple[tuple[str, str], ...]]


def add_surroundings(
    found: dict[str, str],
    ctx: CodeContext,
    bindings: dict[str, str],
    helper_risks: HelperRisks | None = None,
) -> None:
    """Add what the target's name, enclosing classes and same-file helpers hold, after its
    own code's evidence (`helper_risks`: a helper's own evidence, when known otherwise than
    by lexing its text)."""
    target = ctx.target
    # A definition named like a risky call is that call: a copy of `consteq` pasted into a
    # file without the imports its original leaned on is still a constant-time comparison.
    named = n.LAST.get(target.name)
    if named is not None:
        found.setdefault(named, f"is named {target.name} (a {named} call)")
    for category, evidence in _enclosing(ctx.enclosing, target.name).items():
        found.setdefault(category, evidence)
    items = tuple(bindings.items()) if ctx.helpers else ()
    for helper in ctx.helpers:
        if len(found) == len(v.RISK_CATEGORIES):
            break
        path = f"{helper.via} → {helper.name}" if helper.via else helper.name
        if helper_risks is None:
            inner = helper_evidence(target.language, helper, items)
        else:
            inner = helper_risks(helper, items)
        for category, evidence in inner:
            found.setdefault(category, f"through {path}: {evidence}")


def helper_evidence(
    language: str, helper: Helper, bindings: Bindings
) -> tuple[tuple[str, str], ...]:
    """A same-file helper's own evidence, from its text."""
    return _helper_risks(language, helper.text, helper.called_names, bindings)


@functools.lru_cache(maxsize=256)
def plain_names(bindings: tuple[tuple[str, str], ...]) -> bool:
    """Whether every bound name is an identifier (then mentions are found name by name): kept,
    since a file's targets share its imports, and checking each name for each target was a
    twentieth of a plan of a tree whose tests import dozens of names."""
    return all(n.IDENT.fullmatch(name) for name, _ in bindings)


@functools.lru_cache(maxsize=1024)
def _helper_risks(
    language: str, text: str, called_names: tuple[str, ...], bindings: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """A same-file helper's own evidence: kept, since every caller in the file asks again."""
    found = _direct(called_names, lex(language, text), dict(bindings), "", "", False)
    return tuple(found.items())


# Words every import statement import_bindings reads holds, per language (Go's pattern reads
# any quoted path, so Go is always read): a target without them binds nothing itself.
IMPORT_WORDS = {
    "python": ("import",),
    "javascript": ("import", "require"),
    "typescript": ("import", "require"),
    "tsx": ("import", "require"),
    "rust": ("use",),
}


def call_evidence(called_names: Iterable[str], bindings: dict[str, str]) -> dict[str, str]:
    """The evidence of the calls a piece of code makes, resolved through its imports: the
    shortest call of each category (it reads best)."""
    found: dict[str, str] = {}
    for called in called_names:
        root = _call_root(called)
        fact = _call_fact(called, root, None if root is None else bindings.get(root))
        if fact is not None:
            category, evidence = fact
            if len(evidence) < len(found.get(category, evidence + " ")):
                found[category] = evidence
    return found


@functools.lru_cache(maxsize=16384)
def _call_root(called: str) -> str | None:
    """The identifier a called name starts with (kept: a tree calls the same names)."""
    root = n.IDENT.match(called)
    return None if root is None else root.group(0)


@functools.lru_cache(maxsize=16384)
def _call_fact(called: str, root: str | None, origin: str | None) -> tuple[str, str] | None:
    """A call's category and evidence, its root resolved to what an import bound it to
    (`origin`), if any."""
    if root is not None and origin is not None:
        called = origin + called[len(root) :]
    category = n.classify(called.replace("()", "").replace("[]", ""), origin is not None)
    if category is None:
        return None
    return category, f"{'uses' if category == 'concurrency' else 'calls'} {called}"


def mention_evidence(
    found: dict[str, str],
    code: str,
    bindings: dict[str, str],
    identifiers: dict[str, None] | None,
    plain: bool | None,
) -> None:
    """Imported names the code only mentions (a type in an annotation), after its calls."""
    for qualified in used_origins(code, bindings, identifiers, plain):
        category = n.classify(qualified, True)
        if category is not None:
            found.setdefault(category, f"uses {qualified}")


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
    found = call_evidence(called_names, bindings)
    code = lexed.code
    every = dict.fromkeys(n.IDENT.findall(code))
    if mentions:
        mention_evidence(found, code, bindings, every, plain)
    # Most identifiers and literals hold no evidence: their facts are kept per text, and only
    # the ones that hold some are looked at here (in order: the first evidence still wins).
    facts = list(filter(None, map(n.identifier_facts, every)))
    literals = list(filter(None, map(t.literal_facts, lexed.strings)))
    _names(found, every, name, called_names, facts)
    _money(found, every, lexed.strings, facts, literals)
    _strings(found, lexed.strings, called_names, path, literals)
    _code_shapes(found, code)
    return found


def _names(
    found: dict[str, str],
    identifiers: Iterable[str],
    name: str,
    calls: tuple[str, ...],
    facts: list[n.Facts] | None = None,
) -> None:
    """The name rules: words, compounds, safe comparisons and path guards, deletions, SQL
    names and the loaders of unsafe deserialisation (error classes' names aside). `facts`:
    the identifiers' `n.identifier_facts` that are not None, when known."""
    if facts is None:
        facts = list(filter(None, map(n.identifier_facts, identifiers)))
    for _identifier, risks, _amount, _marker in facts:
        # Each rule reads the identifier alone, so its evidence is kept per identifier (a
        # tree repeats `self`, `value`, `queryset` thousands of times); the first evidence
        # for a category still wins, as when the rules ran here one by one.
        for category, evidence in risks:
            if category not in found:
                found[category] = evidence
    if "deserialization" not in found and name in v.LOAD_FUNCTIONS:
        loader = next((i for i in identifiers if n.is_loader(i)), None)
        if loader is not None:
            found["deserialization"] = f"loads objects with a {loader}"


def _money(
    found: dict[str, str],
    identifiers: Iterable[str],
    strings: tuple[str, ...],
    facts: list[n.Facts] | None = None,
    literals: list[t.Literal] | None = None,
) -> None:
    """An amount next to a currency marker (a word, or a currency code in a literal)."""
    if "payments" in found:
        return
    if facts is None:
        facts = list(filter(None, map(n.identifier_facts, identifiers)))
    if literals is None:
        literals = list(filter(None, map(t.literal_facts, strings)))
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
    literals: list[t.Literal] | None = None,
) -> None:
    """SQL statements, destructive ones, write modes of open() and '..' path segments;
    `literals`: the strings' `t.literal_facts` that are not None, when known."""
    if literals is None:
        literals = list(filter(None, map(t.literal_facts, strings)))
    for _literal, sql, statement, parent, _currency in literals:
        if sql:
            found.setdefault("sql", "builds SQL")
            if statement:
                found.setdefault("deletion", f"runs {statement}")
        if "filesystem" not in found and parent:
            found["filesystem"] = "checks paths for '..'"
    if "filesystem" not in found and any(c in t.OPEN_CALLS for c in calls):
        mode = next((s for s in strings if t.WRITE_MODE.fullmatch(s)), None)
        if mode is not None:
            found["filesystem"] = f"opens a file for writing ({mode!r})"
    if "sql" not in found and path and t.MIGRATION_PATH.search(path):
        found["sql"] = "is a database migration"


def _code_shapes(found: dict[str, str], code: str) -> None:
    """Concurrency types and goroutines, and paths joined under a root directory."""
    # Each pattern runs only on code holding a word every one of its matches contains: the
    # look-behinds make the regex engine try every position of the code otherwise.
    if "concurrency" not in found:
        typed = t.CONCURRENCY_TYPES.search(code) if t.has_concurrency_word(code) else None
        if "go" in code and t.GO_STATEMENT.search(code):
            found["concurrency"] = "starts goroutines"
        elif typed is not None:
            found["concurrency"] = f"uses {typed.group(0)}"
    if "filesystem" not in found and ("oin" in code or "resolve" in code):
        joined = t.UNDER_ROOT.search(code)
        if joined is not None:
            found["filesystem"] = f"joins paths under {joined.group(1)}"


_CLASS_CATEGORIES = frozenset(
    {"auth", "crypto", "payments", "concurrency", "deserialization", "validation"}
)


def _enclosing(enclosing: str | None, name: str) -> dict[str, str]:
    """The words of the enclosing classes' names: a method of a signer signs, and a `delete`
    of a QuerySet or a file store deletes data."""
    found: dict[str, str] = {}
    words = n.words_of(name)
    deletes = bool(words) and set(words) <= n.VERBS
    for owner, categories, objects in _owners(enclosing):
        for category, evidence in categories:
            found.setdefault(category, evidence)
        if deletes and objects and "deletion" not in found:
            found["deletion"] = f"{name} of {owner}"
    return found


_Owner = tuple[str, tuple[tuple[str, str], ...], bool]  # name, its evidence, an object word


@functools.lru_cache(maxsize=1024)
def _owners(enclosing: str | None) -> tuple[_Owner, ...]:
    """The enclosing classes (error classes aside), what their words hold, and whether one
    names a kind of thing a deletion deletes: kept, since a class's methods all ask."""
    owners: list[_Owner] = []
    for line in (enclosing or "").split("\n"):
        match = re.match(r"\s*(?:class|type|struct|impl|interface)\s+([A-Za-z_$][\w$]*)", line)
        if match is None or match.group(1).endswith(n.ERROR_SUFFIXES):
            continue
        owner = match.group(1)
        categories: dict[str, str] = {}
        for word in n.words_of(owner):
            category = n.WORD.get(word)
            if category in _CLASS_CATEGORIES and category not in categories:
                categories[category] = f"a method of {owner} ({word})"
        objects = bool(set(n.words_of(owner)) & n.OBJECTS)
        owners.append((owner, tuple(categories.items()), objects))
    return tuple(owners)
