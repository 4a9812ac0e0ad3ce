"""Redaction of secrets in outgoing text: keys, tokens, passwords, private key blocks.

Every regex here runs in linear time by construction. Each token pattern starts with a negative
lookbehind of its own character class, so a match can only begin where a run of token characters
begins. Every open-ended repeat is possessive (`*+`, `++`) or is followed by a character its class
excludes, so a failed attempt never re-scans a run. A 100 000-character line costs one pass per
pattern. The Python checks that follow a match look only at that match and its neighbours.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator

import attrs

from tierwise.privacy import formats
from tierwise.privacy.values import (
    MIN_ENTROPY_BITS,
    MIN_SECRET_LENGTH,
    is_placeholder,
    mixed,
    password_like,
    random_looking,
)

__all__ = ["KINDS", "MIN_ENTROPY_BITS", "MIN_SECRET_LENGTH", "Redaction", "redact"]


@attrs.frozen
class Redaction:
    """Text with its secrets replaced, how many were replaced, and their sorted unique kinds."""

    text: str
    count: int
    kinds: tuple[str, ...]


# When detections overlap, the merged span takes the kind that comes first here.
KINDS = (
    "private-key", "anthropic-key", "openai-key", "aws-access-key", "aws-secret-key",
    "github-token", "gitlab-token", "slack-token", "chat-webhook", "chat-token", "google-api-key",
    "stripe-key", "email-sms-key", "registry-token", "api-key", "jwt", "auth-header",
    "url-password", "conn-password", "conn-key", "url-token", "positional-key", "password",
    "secret-assignment",
)  # fmt: skip


def redact(text: str) -> Redaction:
    """Replace each secret's characters with `<redacted:KIND>`, keeping the quotes around it."""
    found = sorted(
        (start, end, KINDS.index(kind)) for start, end, kind in _detect(text) if end > start
    )
    if not found:
        return Redaction(text, 0, ())
    merged: list[list[int]] = []
    for start, end, rank in found:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2] = min(merged[-1][2], rank)
        else:
            merged.append([start, end, rank])
    pieces: list[str] = []
    pos = 0
    for start, end, rank in merged:
        pieces += [text[pos:start], f"<redacted:{KINDS[rank]}>"]
        pos = end
    pieces.append(text[pos:])
    kinds = tuple(sorted({KINDS[rank] for _, _, rank in merged}))
    return Redaction("".join(pieces), len(merged), kinds)


def _detect(text: str) -> Iterator[tuple[int, int, str]]:
    # Each rule runs only where the text holds a piece every match of it holds: a question is
    # scanned on every request, and most code has no "://", "bearer" or "password=" at all.
    lowered = text.lower()  # the IGNORECASE rules' pieces (their patterns are ASCII-only)
    yield from _private_keys(text)
    yield from _tokens(text)
    if "bearer" in lowered or "basic" in lowered:
        yield from formats.auth_headers(text)
    if "://" in text:
        yield from formats.url_passwords(text)
    if any(piece in lowered for piece in _PARAM_PIECES):
        yield from _params(text)
    if any(piece in lowered for piece in _SECRET_NAME_PIECES):
        yield from _assignments(text)
    yield from formats.detect(text, lowered)


# -- private key blocks --

_PEM_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]{1,20} ){0,4}PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END (?:[A-Z0-9]{1,20} ){0,4}PRIVATE KEY(?: BLOCK)?-----")
# The body of a block cut off before its END line (context is trimmed to a token budget): base64
# joined by "\n" escapes inside one string literal, or whole base64 and header lines.
_PEM_BODY = re.compile(
    r"(?:\\n|[A-Za-z0-9+/=])*+"
    r"(?:\r?\n[ \t]*+(?:[A-Za-z0-9+/=]{16,}+|(?:Proc-Type|DEK-Info):[^\r\n]*+)[ \t]*+)*+"
)


def _private_keys(text: str) -> Iterator[tuple[int, int, str]]:
    pos = 0
    ends_left = True  # once no END follows, none follows any later BEGIN either
    while (begin := _PEM_BEGIN.search(text, pos)) is not None:
        end = _PEM_END.search(text, begin.end()) if ends_left else None
        if end is None:
            ends_left = False
            body = _PEM_BODY.match(text, begin.end())
            stop = body.end() if body else begin.end()
        else:
            stop = end.end()
        yield begin.start(), stop, "private-key"
        pos = max(stop, begin.end())


# -- prefixed tokens --


# (kind, prefix, body, check of the body).
_TOKENS: tuple[tuple[str, str, str, Callable[[str], bool] | None], ...] = (
    ("anthropic-key", "sk-ant-", r"[\w-]{20,}+", mixed),
    ("openai-key", r"sk-(?!ant-)(?:proj-|svcacct-|admin-)?", r"[\w-]{20,}+", mixed),
    ("aws-access-key", "(?:AKIA|ASIA)", r"[A-Z0-9]{16}(?![A-Za-z0-9])", None),
    ("github-token", "gh[pousr]_", r"[A-Za-z0-9]{36,}+", mixed),
    ("github-token", "github_pat_", r"\w{22,}+", mixed),
    ("slack-token", "xox[abprs]-", r"[A-Za-z0-9-]{10,}+", mixed),
    ("google-api-key", "AIza", r"[\w-]{35}(?![\w-])", None),
    # Secret and restricted keys; publishable keys (pk_) are public by design.
    ("stripe-key", r"[sr]k_(?:live|test)_", r"[A-Za-z0-9]{16,}+", mixed),
    ("jwt", "eyJ", r"[\w-]++\.eyJ[\w-]++\.[\w-]*+", None),
)


_TOKEN_SPECS = _TOKENS + formats.TOKENS
# Each pattern starts with its prefix, so the regex engine can search for that literal (or
# character set) directly instead of testing every position; that a token starts where a run
# of token characters starts is checked on each match instead of by a leading lookbehind.
# Patterns with no literal to search for, which test every position: each runs only where the
# text holds a piece every match of it holds.
_TOKEN_PIECES: dict[str, tuple[str, ...]] = {
    r"[sr]k_(?:live|test)_": ("k_live_", "k_test_"),
    "": ("-us",),  # Mailchimp's [0-9a-f]{32}-us[0-9]
    r"\d{8,10}:AA": (":AA",),
}
_TOKEN_PATTERNS = tuple(
    (kind, re.compile(f"{prefix}(?P<body>{body})", re.ASCII), check, _TOKEN_PIECES.get(prefix))
    for kind, prefix, body, check in _TOKEN_SPECS
)
_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "_-")


def _tokens(text: str, *, gated: bool = True) -> Iterator[tuple[int, int, str]]:
    for kind, regex, check, pieces in _TOKEN_PATTERNS:
        if gated and pieces is not None and not any(piece in text for piece in pieces):
            continue
        for match in regex.finditer(text):
            start = match.start()
            if start and text[start - 1] in _TOKEN_CHARS:
                continue  # inside a longer word: "task-list-..." is no "sk-" key
            if check is None or check(match.group("body")):
                yield start, match.end(), kind


# -- passwords in connection strings and parameters --

_PARAM = re.compile(
    r"(?<![\w.])(?P<key>password|passwd|pwd|access_token|api_key|apikey|client_secret|token|secret"
    r"|sig)"
    r"=(?P<secret>[^;&\s\"'`]++)",
    re.ASCII | re.IGNORECASE,
)
_PAIR = re.compile(r"[A-Za-z_][\w.-]*+=[^\s;&\"'`,()]++", re.ASCII)
_PASSWORD_KEYS = frozenset({"password", "passwd", "pwd"})
# What every _PARAM match holds, lowered: one of its keys and the "=" after it.
_PARAM_PIECES = tuple(
    f"{key}="
    for key in (
        "password", "passwd", "pwd", "access_token", "api_key", "apikey", "client_secret",
        "token", "secret", "sig",
    )
)  # fmt: skip


def _params(text: str) -> Iterator[tuple[int, int, str]]:
    """password=... in connection strings and command lines; ?token=... in URLs."""
    for match in _PARAM.finditer(text):
        start = match.start("key")
        value = match.group("secret")
        if is_placeholder(value):
            continue
        dashes = start >= 2 and text[start - 2 : start] == "--"
        if start and text[start - 1] == "-" and not dashes:
            continue  # part of a longer name such as db-password
        before = _char_before(text, start)
        if match.group("key").lower() in _PASSWORD_KEYS:
            ok = dashes or before in (";", "&", "?") or text.startswith(";", match.end())
            ok = ok or _pair_beside(text, start, -1) or _pair_beside(text, match.end(), 1)
            kind = "conn-password"
        else:
            ok = before in ("?", "&") and mixed(value) and len(value) >= 8
            kind = "url-token"
        if ok:
            yield match.start("secret"), match.end(), kind


def _char_before(text: str, pos: int) -> str:
    """The nearest character before `pos` that is not a space or tab ("" at the start)."""
    while pos > 0 and text[pos - 1] in " \t":
        pos -= 1
    return text[pos - 1] if pos > 0 else ""


def _pair_beside(text: str, pos: int, step: int) -> bool:
    """Whether a space-separated key=value (libpq: "user=app password=x") is before or after pos."""

    def at(i: int) -> str:  # the character on the `step` side of boundary i
        j = i if step > 0 else i - 1
        return text[j] if 0 <= j < len(text) else "\n"

    near = pos
    while at(near) in " \t":
        near += step
    far = near
    while near != pos and not at(far).isspace() and at(far) not in "\"'`":
        far += step
    start, end = sorted((near, far))
    return near != pos and _PAIR.fullmatch(text, start, end) is not None


# -- secret-like names assigned literal values --

# NAME = "v", NAME: Type = "v", const NAME = 'v', "name": "v", name := "v", :name => "v",
# NAME=v / NAME: v (env, YAML, INI; bare values only at the start of a line, which includes a
# line of .env text inside a string literal: after its quote or after a "\n" escape). A bare
# value holds no ":" and "=" only as base64 padding, so that a long run of "a:a:a..." or
# "a=a=a..." ending in a stray character fails at once at each start instead of rescanning.
_ASSIGNMENT = re.compile(
    r"""
    (?:(?<![\w.\\-])|(?<=\\[nr]))(?P<name>[A-Za-z_][\w.-]*+)
    ["']?
    (?:[ \t]*+:[ \t]*+[A-Za-z_][\w.\[\],| ]*+)?
    [ \t]*+(?::=|=>|=(?!=)|:)[ \t]*+
    (?:
        [rRbBuU]{0,2}(?P<quote>["'`])(?P<quoted>[^"'`\\\r\n]*+)(?P=quote)
      | (?P<bare>[^\s"'`,;\#(){}\[\]<>\\:=]++=*+)(?=[ \t]*+(?:\#|\r|\n|\Z|\\[nr]|["'`]))
    )
    """,
    re.VERBOSE | re.ASCII,
)
_NAME_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", re.ASCII)
_SCHEME_PREFIX = re.compile(r"(?:Bearer|Basic|Token)[ \t]+", re.IGNORECASE)
_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", re.ASCII)


def _assignments(text: str, *, gated: bool = True) -> Iterator[tuple[int, int, str]]:
    for match in _ASSIGNMENT.finditer(text):
        name = match.group("name")
        if gated and _SECRET_NAME_PIECE.search(name) is None:
            continue  # most names in code: no word of a secret-like name is in them
        kind = _secret_name_kind(name)
        if kind is None:
            continue
        group = "quoted" if match.group("quote") else "bare"
        if group == "bare" and not _starts_line(text, match.start("name")):
            continue
        start, end = match.span(group)
        value = match.group(group)
        if scheme := _SCHEME_PREFIX.match(value):
            start += scheme.end()
            value = value[scheme.end() :]
        bare = group == "bare"
        if _secret_value(value, bare=bare):
            yield start, end, kind
        elif _password_name(name) and password_like(value) and not _code_name(value, bare=bare):
            # A chosen password is too short and plain for the entropy rule ("hunter2").
            yield start, end, "password"


# Names whose last word is one of these hold a password ("db_password", "self.passwd");
# "password_field", "password_hint" or "min_password_length" hold something about one.
_PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "pw", "pass", "passphrase"})
# A piece of the name that `_secret_name_kind` needs before it can find a name secret-like:
# "key" (key, apikey, privatekey, secretkey), "secret", "pass" (passw, passphrase, pass), "pw"
# (pwd, pw), "token", "auth" (auth, authorization), "credential" (credentials).
_SECRET_NAME_PIECES = ("key", "secret", "pass", "pw", "token", "auth", "credential")
# The same, looked for in a name (ASCII, as _ASSIGNMENT's names are) in any case.
_SECRET_NAME_PIECE = re.compile("|".join(_SECRET_NAME_PIECES), re.ASCII | re.IGNORECASE)
# Keys that are not secrets: what a *key* name holds when one of these qualifies it.
_NOT_SECRET_KEYS = frozenset(
    {"idempotency", "idempotent", "dedupe", "dedup", "cache", "partition", "sort", "primary"}
    | {"foreign", "object", "request", "row", "lookup", "translation", "i18n", "s3", "file"}
    | {"group", "message", "route", "index", "map", "dict", "hash", "storage", "bucket"}
)
_PUBLIC_WORDS = frozenset({"public", "publishable", "pub"})
# A last word that says the name holds something about a secret, not the secret itself:
# password_policy, TOKEN_TYPE, SECRET_NAME, API_KEY_HEADER, token_url, key_id.
_DESCRIPTOR_WORDS = frozenset(
    {"policy", "hint", "label", "field", "length", "rule", "rules", "regex", "pattern", "prompt"}
    | {"message", "error", "placeholder", "column", "url", "uri", "path", "name", "type", "id"}
    | {"ids", "header", "format", "version", "count", "limit", "size", "mode", "algorithm"}
    | {"alg", "scheme", "endpoint", "prefix", "suffix", "env", "var", "file", "dir", "arn"}
)


def _password_name(name: str) -> bool:
    words = [word.lower() for word in _NAME_WORD.findall(name)]
    return bool(words) and words[-1] in _PASSWORD_WORDS


def _secret_name_kind(name: str) -> str | None:
    """The kind for a secret-like variable or key name (API_KEY, clientSecret, db.password)."""
    words = [word.lower() for word in _NAME_WORD.findall(name)]
    if not words or _PUBLIC_WORDS.intersection(words) or words[-1] in _DESCRIPTOR_WORDS:
        return None  # PUBLIC_KEY, STRIPE_PUBLISHABLE_KEY (public by design); password_policy
    if words[-1] == "key" and _NOT_SECRET_KEYS.intersection(words[:-1]):
        return None  # idempotency_key, cache_key, sort_key, object_key
    secret_like = words[-1] == "key" or words[-1].endswith(("apikey", "privatekey", "secretkey"))
    secret_like = secret_like or any(
        any(part in word for part in ("secret", "passw", "passphrase"))
        or word.endswith("token")
        or word in ("pwd", "pw", "pass", "auth", "authorization", "credential", "credentials")
        for word in words
    )
    if not secret_like:
        return None
    if "secret" in words and ("aws" in words or "access" in words):
        return "aws-secret-key"
    return "secret-assignment"


def _secret_value(value: str, *, bare: bool) -> bool:
    if is_placeholder(value) or any(c.isspace() or c in "{}" for c in value):
        return False
    if "://" in value or ("/" in value and "." in value):
        return False  # a URL (its password is handled on its own) or a file path
    if value.startswith("arn:"):
        return False  # an AWS resource name (KMS_KEY = "arn:aws:kms:..."), not its key
    return not _code_name(value, bare=bare) and random_looking(value)


def _code_name(value: str, *, bare: bool) -> bool:
    """Unquoted names are code (API_KEY = settings.API_KEY, auth: TokenEndpointAuth), not values."""
    return (
        bare
        and _DOTTED_NAME.fullmatch(value) is not None
        and ("_" in value or "." in value or _camel(value))
    )


def _camel(value: str) -> bool:
    """Whether a name reads as CamelCase words (OAuth2BearerToken), as random keys rarely do."""
    wordy = 0
    for part in _NAME_WORD.findall(value):
        if part.isdigit() or part.isupper():
            ok = len(part) <= (3 if part.isdigit() else 5)
        elif any(c in "aeiouy" for c in part.lower()):
            ok = len(part) >= 3
            wordy += len(part)
        else:
            ok = 3 <= len(part) <= 4  # abbreviations such as Mcp, Xml, Sql
        if not ok:
            return False
    return wordy >= 0.6 * len(value)


def _starts_line(text: str, pos: int) -> bool:
    """Whether only indentation, "export" or a YAML "-" precedes pos on its line.

    A line also starts inside a string literal holding .env text: right after its opening quote
    ("API_TOKEN=..."), or after a "\\n" escape ("DEBUG=1\\nSECRET=...").
    """
    while pos > 0 and text[pos - 1] in " \t":
        pos -= 1
    for lead in ("export", "-"):
        if pos >= len(lead) and text.startswith(lead, pos - len(lead)):
            pos -= len(lead)
            while pos > 0 and text[pos - 1] in " \t":
                pos -= 1
            break
    if pos >= 2 and text[pos - 2] == "\\" and text[pos - 1] in "nr":
        return True
    return pos == 0 or text[pos - 1] in "\r\n\"'"
