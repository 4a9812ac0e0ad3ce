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

Risk evidence, and the choices that keep false positives down:
- Calls are resolved through the imports ("run" bound by `from subprocess import run` is
  subprocess.run). Generic method names (execute, query, delete) count only on a receiver that
  looks like a database or file handle (cursor, conn, db, session, pool, objects, ...), so a JS
  `Map.delete` or `RegExp.exec` is not a risk.
- Identifiers are split into snake/camel words and matched as whole words: "author" is not
  auth, "payload" is not pay, "tokenize" is not an auth token.
- Strings count for SQL only when they look like statements (upper-case keywords, or strict
  lower-case shapes such as "delete from t where"); docstrings and comments never count, so
  "Delete stale rows" in a docstring is not data deletion.
- Money words that are common outside payments (price, amount, total, fee, tax, ...) count only
  next to a money marker (Decimal, quantize, currency, cents, or a currency code in a string):
  `format_price(value)` alone is not payments.
"""

from __future__ import annotations

import functools
import hashlib
import re

import attrs

from tierwise.context.imports import import_bindings
from tierwise.context.lexer import Lexed, lex
from tierwise.context.metrics import body_lines, decision_count, nesting_depth
from tierwise.core.code import CodeContext

RISK_CATEGORIES = ("auth", "crypto", "payments", "sql", "deletion", "exec", "concurrency")
TRIVIAL_LINES = 4  # default body size under which risk-free, branch-free code is trivial


@attrs.frozen
class RiskHit:
    """One risk category with short, human-readable evidence ("calls jwt.decode")."""

    category: str
    evidence: str


@attrs.frozen
class Signals:
    """What the router needs to know about a target."""

    lines: int
    cyclomatic: int
    nesting: int
    cross_file_calls: int
    risks: tuple[RiskHit, ...]
    trivial: bool
    directive: str | None
    target_key: str


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
    risks = _risks(ctx, lexed, text)
    return Signals(
        lines=lines,
        cyclomatic=cyclomatic,
        nesting=nesting,
        cross_file_calls=ctx.cross_file_calls,
        risks=risks,
        trivial=lines <= TRIVIAL_LINES and cyclomatic == 1 and not risks,
        directive=_directive(ctx.leading_comment, lexed.comments),
        target_key=target_key(target.path, target.kind, target.name),
    )


# --- risk -----------------------------------------------------------------------------------


# Risk vocabulary, one "kind category names..." row per line:
# - module: qualified-name prefixes (modules, packages, crates); they count when the name was
#   resolved through an import, or its root is not also a common variable name;
# - exact: whole qualified names; last: the final segment of any call ("x.rmtree");
# - word: snake/camel-case words in identifiers; money: words that need a money marker.
_TABLE = """
module auth jwt jose jsonwebtoken bcrypt passlib argon2 authlib oauthlib flask_login itsdangerous
module auth passport django.contrib.auth github.com/golang-jwt/jwt golang.org/x/crypto/bcrypt
module crypto hashlib hmac secrets cryptography Crypto nacl ssl crypto sha2 aes_gcm ring openssl
module crypto rsa ed25519_dalek
module payments stripe braintree paypalrestsdk paypal adyen
module sql sqlite3 psycopg2 psycopg pymysql MySQLdb asyncpg sqlalchemy alembic pg mysql mysql2
module sql knex database/sql github.com/jackc/pgx gorm.io/gorm sqlx diesel rusqlite
module sql django.db.migrations
module deletion rimraf
module exec subprocess pty child_process execa os/exec std::process tokio::process
module concurrency threading _thread multiprocessing concurrent.futures worker_threads sync
module concurrency sync/atomic std::thread std::sync tokio::sync rayon crossbeam
exact crypto os.urandom
exact deletion shutil.rmtree os.remove os.unlink os.rmdir os.removedirs os.Remove os.RemoveAll
exact deletion fs.rm fs.rmSync fs.unlink fs.unlinkSync fs.rmdir fs.rmdirSync fs.promises.rm
exact deletion fs.promises.unlink fs/promises.rm fs/promises.unlink std::fs::remove_file
exact deletion std::fs::remove_dir std::fs::remove_dir_all
exact exec eval exec __import__ Function os.system os.popen os.execv os.execve os.execvp os.execl
exact exec os.execlp os.spawnv os.spawnl os.posix_spawn pickle.load pickle.loads marshal.loads
exact exec yaml.load yaml.unsafe_load syscall.Exec importlib.import_module
exact exec asyncio.create_subprocess_exec asyncio.create_subprocess_shell
exact concurrency asyncio.gather asyncio.create_task asyncio.wait asyncio.as_completed
exact concurrency asyncio.Lock asyncio.Semaphore asyncio.Event asyncio.Condition asyncio.Queue
exact concurrency asyncio.TaskGroup asyncio.to_thread asyncio.run_coroutine_threadsafe
exact concurrency tokio::spawn Worker SharedArrayBuffer Atomics
last auth check_password set_password verify_password hash_password check_password_hash
last auth generate_password_hash authenticate login_user logout_user
last crypto Fernet AESGCM pbkdf2_hmac createCipheriv createDecipheriv createHmac createHash
last crypto randomBytes
last payments charge refund capture_payment create_payment_intent
last deletion rmtree unlink delete_many delete_one deleteMany deleteOne delete_object
last deletion delete_objects deleteObject deleteObjects drop_table drop_all bulk_delete purge
last concurrency Lock RLock Unlock RUnlock
word auth password passwd passphrase jwt oauth oauth2 auth auth0 authn authz authenticate
word auth authenticated authentication authenticator authorize authorized authorization
word auth credential credentials csrf permission permissions bearer
word crypto encrypt decrypt encrypted decrypted encryption decryption cipher ciphertext
word crypto plaintext nonce hmac sha1 sha256 sha512 md5 aes rsa pbkdf2 scrypt keypair
word payments payment payments pay payout payouts refund refunds refunded invoice invoices
word payments billing checkout charge charges charged stripe cvv cvc iban
money amount price prices amount amounts total subtotal cost costs fee fees tax balance discount
money marker decimal quantize currency cents money
receiver db cursor cur conn connection db database session engine pool tx txn trx knex sql stmt
receiver db statement
receiver store objects filter query repo repository table collection bucket s3 requests httpx
method sql execute executemany executescript exec query raw Exec Query QueryRow QueryContext
method sql ExecContext QueryRowContext
method deletion delete destroy
ambiguous root sync ring pg crypto pty mysql rsa sqlx
"""


def _table(kind: str, category: str | None = None) -> dict[str, str]:
    """name -> category for the rows of one kind (and category) of the table."""
    rows = (line.split() for line in _TABLE.splitlines() if line.strip())
    return {
        name: row[1]
        for row in rows
        if row[0] == kind and category in (None, row[1])
        for name in row[2:]
    }


_MODULES = _table("module")
_EXACT = _table("exact")
_LAST = _table("last")
_AMBIGUOUS_ROOTS = frozenset(_table("ambiguous"))  # roots that are also common variable names
_DB_RECEIVERS = frozenset(_table("receiver", "db"))
# Generic method names count only on a receiver that looks like a database or store handle.
_RECEIVER_RULES: tuple[tuple[frozenset[str], frozenset[str], str], ...] = (
    (_DB_RECEIVERS, frozenset(_table("method", "sql")), "sql"),
    (
        _DB_RECEIVERS | frozenset(_table("receiver", "store")),
        frozenset(_table("method", "deletion")),
        "deletion",
    ),
)
_SEPARATOR = re.compile(r"\.|::|/")
_ERROR_SUFFIXES = ("Error", "Exception", "Warning")
_CONCURRENCY_HINT = re.compile(
    r"Lock|Mutex|Semaphore|Condition|Barrier|WaitGroup|Pool|Atomic|Shared"
)
_CONCURRENCY_TYPES = re.compile(
    r"(?<![\w$])(?:R?Lock|Mutex|RwLock|(?:Bounded)?Semaphore|Condition|Barrier|WaitGroup|"
    r"(?:Thread|Process)PoolExecutor|Atomic(?:Bool|Usize|Isize|U64|I64|U32|I32)|"
    r"SharedArrayBuffer)(?![\w$])"
)


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


_WORD_RULES: tuple[tuple[str, frozenset[str], str], ...] = (
    ("auth", frozenset(_table("word", "auth")), "handles auth data ({})"),
    ("crypto", frozenset(_table("word", "crypto")), "does cryptography ({})"),
    ("payments", frozenset(_table("word", "payments")), "handles payments ({})"),
)
_COMPOUNDS = (  # identifiers whose words only mean something together
    ("auth", ("accesstoken", "refreshtoken", "sessiontoken", "apikey", "clientsecret")),
    ("payments", ("cardnumber", "creditcard")),
)
_MONEY_WORDS = frozenset(_table("money", "amount"))
_MONEY_MARKERS = frozenset(_table("money", "marker"))
_CURRENCY_CODE = re.compile(r"\b(?:USD|EUR|GBP|JPY|CHF|CAD|AUD)\b|[€£¥]")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_IDENT_AT = re.compile(r"[\w$]+")
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
_GO_STATEMENT = re.compile(r"^[ \t]*go[ \t]+(?:func\b|[\w.]+\()", re.M)


@functools.lru_cache(maxsize=256)
def _context_bindings(language: str, imports: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """What the context's imports bind: the same for every target of a file, so kept."""
    return tuple(import_bindings(language, "\n".join(imports)))


def _risks(ctx: CodeContext, lexed: Lexed, text: str) -> tuple[RiskHit, ...]:
    language = ctx.target.language
    code = lexed.code
    bindings = dict(_context_bindings(language, ctx.imports))
    bindings.update(import_bindings(language, text))
    found: dict[str, str] = {}
    for name in ctx.called_names:
        root = _IDENT.match(name)
        resolved = root is not None and root.group(0) in bindings
        if root is not None and resolved:
            name = bindings[root.group(0)] + name[root.end() :]
        category = _classify(name.replace("()", "").replace("[]", ""), resolved)
        if category is not None:
            evidence = f"{'uses' if category == 'concurrency' else 'calls'} {name}"
            if len(evidence) < len(found.get(category, evidence + " ")):
                found[category] = evidence  # the shortest call reads best
    for qualified in _used_origins(code, bindings):
        category = _classify(qualified, True)
        if category is not None:
            found.setdefault(category, f"uses {qualified}")
    lowered = code.lower()
    for category, vocabulary, template in _WORD_RULES:
        identifier = _word_hit(code, lowered, vocabulary)
        if category not in found and identifier is not None:
            found[category] = template.format(identifier)
    squashed = lowered.replace("_", "")
    for category, compounds in _COMPOUNDS:
        hit = next((c for c in compounds if c in squashed), None)  # substring test first: fast
        compound = re.search(hit.replace("token", "_?token"), lowered) if hit else None
        if category not in found and compound is not None:
            template = _WORD_RULES[0 if category == "auth" else 2][2]
            found[category] = template.format(_identifier_at(code, compound.start()))
    if "payments" not in found:
        amount = _word_hit(code, lowered, _MONEY_WORDS)
        marker = _word_hit(code, lowered, _MONEY_MARKERS)
        currency = next((m for s in lexed.strings for m in _CURRENCY_CODE.findall(s)), None)
        marker = marker or (f'"{currency}"' if currency else None)
        if amount is not None and marker is not None:
            detail = amount if amount == marker else f"{amount} with {marker}"
            found["payments"] = f"handles money ({detail})"
    _sql_and_deletion(found, lexed.strings, ctx.target.path)
    if "concurrency" not in found:
        typed = _CONCURRENCY_TYPES.search(code) if _CONCURRENCY_HINT.search(code) else None
        if language == "go" and _GO_STATEMENT.search(code):
            found["concurrency"] = "starts goroutines"
        elif typed is not None:
            found["concurrency"] = f"uses {typed.group(0)}"
    return tuple(RiskHit(c, found[c]) for c in RISK_CATEGORIES if c in found)


def _identifier_at(code: str, index: int) -> str:
    """The whole identifier around a position."""
    start = index
    while start > 0 and (code[start - 1].isalnum() or code[start - 1] in "_$"):
        start -= 1
    match = _IDENT_AT.match(code, start)
    return match.group(0) if match else ""


def _word_hit(code: str, lowered: str, vocabulary: frozenset[str]) -> str | None:
    """The first identifier holding a vocabulary word as a whole snake/camel-case word."""
    for word in sorted(vocabulary):
        if word not in lowered:
            continue  # a cheap substring test first: most words are absent
        for match in re.finditer(re.escape(word), lowered):
            identifier = _identifier_at(code, match.start())
            if identifier.endswith(_ERROR_SUFFIXES):
                continue  # naming an error type (AuthError) is not handling the thing itself
            if word in {w.lower() for w in _WORDS.findall(identifier)}:
                return identifier
    return None


def _used_origins(code: str, bindings: dict[str, str]) -> list[str]:
    """Qualified names of imported things the code mentions ("threading.Lock"), errors aside."""
    if not bindings:
        return []
    names = "|".join(re.escape(n) for n in sorted(bindings, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w$.])(?:{names})(?:\s*(?:\.|::)\s*[A-Za-z_$][\w$]*)?(?![\w$])")
    found: set[str] = set()
    for mention in set(pattern.findall(code)):
        root = _IDENT.match(mention)
        if root is None:
            continue
        qualified = bindings[root.group(0)] + "".join(mention[root.end() :].split())
        if not qualified.endswith(_ERROR_SUFFIXES):
            found.add(qualified)
    return sorted(found)


def _sql_and_deletion(found: dict[str, str], strings: tuple[str, ...], path: str) -> None:
    for literal in strings:
        if not (_SQL_UPPER.search(literal) or _SQL_LOWER.search(literal)):
            continue
        destructive = _SQL_DESTRUCTIVE.search(literal)
        found.setdefault("sql", "builds SQL")
        if destructive:
            statement = re.sub(r"\s+", " ", destructive.group(1)).upper()
            found.setdefault("deletion", f"runs {statement}")
    if "sql" not in found and re.search(r"(?:^|[/\\])(?:migrations|alembic)[/\\]", path):
        found["sql"] = "is a database migration"


# --- directive ------------------------------------------------------------------------------

_DIRECTIVE = re.compile(r"\btierwise\s*:\s*([A-Za-z][\w-]*)", re.I)


def _directive(leading: str, comments: tuple[str, ...]) -> str | None:
    """The word after `tierwise:` in a comment above or inside the target, lower-cased."""
    for comment in (leading, *comments):
        match = _DIRECTIVE.search(comment)
        if match:
            return match.group(1).lower()
    return None
