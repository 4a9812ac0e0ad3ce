"""What one string literal or piece of code holds for the risk evidence: SQL statements and
destructive ones, `..` path segments and currency codes in literals, open() write modes and
migration paths, concurrency types, goroutines and paths joined under a root in code."""

from __future__ import annotations

import functools
import re

CURRENCY_CODE = re.compile(r"\b(?:USD|EUR|GBP|JPY|CHF|CAD|AUD)\b|[€£¥]")
SQL_UPPER = re.compile(
    r"\bSELECT\b[\s\S]+?\bFROM\b|\bINSERT\s+(?:OR\s+\w+\s+)?INTO\b|\bUPDATE\s+\S+\s+SET\b"
    r"|\bDELETE\s+FROM\b|\b(?:CREATE|DROP|ALTER|TRUNCATE)\s+(?:TABLE|INDEX|VIEW|SCHEMA)\b"
)
SQL_LOWER = re.compile(
    r"\bselect\s+(?:\*|[\w.]+(?:\s*,\s*[\w.]+)+)\s+from\s+\w|\binsert\s+into\s+[\w.\"`]+\s*\("
    r"|\bupdate\s+[\w.\"`]+\s+set\s+[\w.\"`]+\s*=|\bdelete\s+from\s+[\w.\"`]+\s+where\b"
    r"|\b(?:drop|truncate)\s+table\b",
    re.I,
)
SQL_DESTRUCTIVE = re.compile(
    r"\b(DELETE\s+FROM|DROP\s+(?:TABLE|SCHEMA)|TRUNCATE(?:\s+TABLE)?)\b", re.I
)
WRITE_MODE = re.compile(r"[rb]?[wax]b?\+?|r\+b?|rb\+")
PARENT_DIR = re.compile(r"(?:^|[/\\])\.\.(?:[/\\]|$)")
MIGRATION_PATH = re.compile(r"(?:^|[/\\])migrations[/\\]|[/\\]alembic[/\\]versions[/\\]")
OPEN_CALLS = ("open", "io.open", "os.fdopen")

CONCURRENCY_TYPES = re.compile(
    r"(?<![\w$])(?:R?Lock|Mutex|RwLock|(?:Bounded)?Semaphore|Condition|Barrier|WaitGroup|"
    r"(?:Thread|Process)PoolExecutor|Atomic(?:Bool|Usize|Isize|U64|I64|U32|I32)|"
    r"SharedArrayBuffer)(?![\w$])"
)
# Words every match of CONCURRENCY_TYPES holds: the look-behind makes the regex engine try
# every position of the code otherwise.
CONCURRENCY_WORDS = (
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
GO_STATEMENT = re.compile(r"^[ \t]*go[ \t]+(?:func\b|[\w.]+\()", re.M)
UNDER_ROOT = re.compile(
    r"\b(?:join|resolve|Join)\s*\(\s*(?:self\.|this\.|s\.)?_?"
    r"(root|base_?dir|base|directory|dest(?:ination)?|upload_?dir|folder|path)\b"
)

# literal, is SQL, the destructive statement it runs, has a '..' segment, first currency code
Literal = tuple[str, bool, str, bool, str]


@functools.lru_cache(maxsize=8192)
def literal_facts(literal: str) -> Literal | None:
    """What the string rules read of one literal (None: nothing; kept: a class holds its
    methods' strings)."""
    sql = bool(SQL_UPPER.search(literal) or SQL_LOWER.search(literal))
    destructive = SQL_DESTRUCTIVE.search(literal) if sql else None
    statement = re.sub(r"\s+", " ", destructive.group(1)).upper() if destructive else ""
    parent = PARENT_DIR.search(literal) is not None
    currency = CURRENCY_CODE.search(literal)
    code = currency.group(0) if currency else ""
    return (literal, sql, statement, parent, code) if sql or parent or code else None


def has_concurrency_word(code: str) -> bool:
    """Whether the code holds a word every concurrency type's name contains."""
    return any(w in code for w in CONCURRENCY_WORDS)
