"""Secrets recognised by their vendor's format or by where they sit, beyond the generic rules in
redaction.py: registry, chat-webhook, email and SMS keys; authorization headers; passwords in
URLs; storage and message-bus connection strings; Go's MySQL DSN; and keys passed positionally
to client constructors or to login().

The same linear-time rules hold as in redaction.py: every open-ended repeat is possessive or
bounded, each token pattern starts with a negative lookbehind of its own class, and the call
context of a string literal is read from at most CALL_LOOKBACK characters before it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator

from tierwise.privacy.values import is_placeholder, mixed, password_like, random_looking

Detection = tuple[int, int, str]


_SLACK_HOOK = r"https://hooks\.slack\.com/(?:services|workflows|triggers)/"
_DISCORD_HOOK = r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/"
_TEAMS_HOOK = r"https://(?:[\w-]++\.webhook\.office\.com/webhookb2|outlook\.office\.com/webhook)/"
_URL_PATH = r"[\w@.-]++(?:/[\w@.-]++)++"

# (kind, prefix, body, check of the body): matched in one pass with redaction.py's own tokens.
TOKENS: tuple[tuple[str, str, str, Callable[[str], bool] | None], ...] = (
    ("gitlab-token", "gl(?:pat|ptt|rt|dt)-", r"[\w-]{20,}+", mixed),
    ("chat-webhook", _SLACK_HOOK, r"[\w/]{20,}+", None),
    ("chat-webhook", _DISCORD_HOOK, r"\d{5,}+/[\w-]{20,}+", None),
    ("chat-webhook", _TEAMS_HOOK, _URL_PATH, None),
    ("registry-token", "npm_", r"[A-Za-z0-9]{36}(?![A-Za-z0-9])", mixed),
    ("registry-token", "pypi-AgE", r"[\w-]{50,}+", None),
    ("registry-token", "dckr_pat_", r"[\w-]{20,}+", None),
    ("registry-token", "rubygems_", r"[0-9a-f]{48}(?![0-9a-f])", None),
    ("email-sms-key", r"SG\.", r"[\w-]{22}\.[\w-]{43}(?![\w-])", None),  # SendGrid
    ("email-sms-key", "key-", r"[0-9a-f]{32}(?![0-9a-f])", None),  # Mailgun
    ("email-sms-key", "", r"[0-9a-f]{32}-us[0-9]{1,2}(?![\w-])", None),  # Mailchimp
    ("api-key", "hf_", r"[A-Za-z0-9]{30,}+", mixed),  # Hugging Face
    ("api-key", "gsk_", r"[A-Za-z0-9]{40,}+", mixed),  # Groq
    ("api-key", "whsec_", r"[A-Za-z0-9+/=]{24,}+", mixed),  # webhook signing secrets
    ("api-key", "GOCSPX-", r"[\w-]{24,}+", None),  # Google OAuth client secret
    ("api-key", "shp(?:at|ca|pa|ss)_", r"[a-fA-F0-9]{32}(?![a-fA-F0-9])", None),
    ("api-key", "do[por]_v1_", r"[a-f0-9]{64}(?![a-f0-9])", None),  # DigitalOcean
    # Discord bot tokens (base64 user id, timestamp, HMAC) and Telegram bot tokens.
    ("chat-token", "[MNO]", r"[\w-]{23,27}\.[\w-]{6}\.[\w-]{27,}+", mixed),
    ("chat-token", r"\d{8,10}:AA", r"[\w-]{33}(?![\w-])", None),
)

# Azure Storage, Service Bus and Event Hubs connection strings; their SharedAccessKeyName is a
# name, not a key, and is not matched (the "=" must follow the key word directly).
_CONN_KEY = re.compile(
    r"(?<![\w.])(?:AccountKey|SharedAccessKey|SharedAccessSignature)=(?P<secret>[^;\"'`\s\\]++)",
    re.ASCII | re.IGNORECASE,
)
# .npmrc: //registry.npmjs.org/:_authToken=..., _auth=base64(user:pass), _password=...
_NPMRC = re.compile(
    r"(?<![\w.])(?:_authToken|_auth|_password)[ \t]*+=[ \t]*+(?P<secret>[^\s\"'`\\]++)",
    re.ASCII,
)
# curl/wget credentials: -u user:pass, --user=user:pass, or ["-u", "user:pass"] in an argv list.
_USER_FLAG = re.compile(
    r"(?<![\w-])(?:-u|--user)(?:[ \t]++|=|[\"'],[ \t]*+[\"'])[^\s:\"'@]++:(?P<secret>[^\s\"'@]++)",
    re.ASCII,
)
# .netrc: "machine HOST login USER password PASS", on lines or in one line.
_NETRC = re.compile(r"(?<![\w-])(?:password|passwd)[ \t]++(?P<secret>[^\s\"'\\]++)", re.ASCII)
NETRC_LOOKBACK = 200
# Go's MySQL driver: "user:password@tcp(host:3306)/db" (no scheme, so not a URL).
_GO_DSN = re.compile(r"(?<![\w.-])[\w.-]++:(?P<secret>[^\s:/@\"'`]++)@(?:tcp|unix|udp)\(", re.ASCII)

# String literals: keys passed positionally are found through the call they are passed to.
_LITERAL = re.compile(r"(?P<q>[\"'`])(?P<value>[^\"'`\\\r\n]{4,400}+)(?P=q)")
_CALLEE = re.compile(r"(?P<callee>[A-Za-z_$][\w.$]*+)[ \t]*+$", re.ASCII)
CALL_LOOKBACK = 160
# Constructors of API clients: cohere.Client("..."), SearchClient(app, "..."), new ApiClient(...).
_CLIENT = re.compile(
    r"(?:[A-Z]\w*)?(?:Client|Api|API|Sdk|SDK|Session|Service|Auth|Bot|Connection|Credentials?)"
)
_VENDORS = frozenset(
    {"OpenAI", "Anthropic", "Groq", "Cohere", "Mistral", "Pinecone", "Mailgun", "Pusher"}
    | {"Vonage", "Octokit", "Airtable", "Algolia", "Replicate", "Together", "Twilio"}
)
# Calls whose second and later arguments are a password: login(user, pw), simple_bind_s(dn, pw),
# HTTPBasicAuth(user, pw), authenticate(user, pw), set_password(pw)...
_PASSWORD_CALL = re.compile(
    r"(?i).*(?:login|log_in|signin|sign_in|bind|basicauth|digestauth|authenticate|set_password).*"
)


_AUTH_HEADER = re.compile(
    r"(?<![\w-])(?P<scheme>Bearer|Basic)[ \t]++(?P<secret>[\w~+/.-]++=*+)", re.ASCII | re.IGNORECASE
)


def auth_headers(text: str) -> Iterator[Detection]:
    """Bearer tokens that look random, and Basic credentials that decode to "user:password"."""
    for match in _AUTH_HEADER.finditer(text):
        value = match.group("secret")
        if match.group("scheme").lower() == "basic":
            ok = _basic_credentials(value)
        else:
            ok = random_looking(value) and not is_placeholder(value)
        if ok:
            yield match.start("secret"), match.end("secret"), "auth-header"


def _basic_credentials(value: str) -> bool:
    """HTTP Basic credentials are base64 of "user:password"; plain words do not decode to that."""
    try:
        return b":" in base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False


# Greedy (not possessive) password so that an unencoded "@" in it still leaves the host's "@"
# as the end; the run cannot cross "/" or whitespace, so the retreat is bounded by the run.
_URL_PASSWORD = re.compile(
    r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*+://"
    r"[^\s:/?#@\"'`<>]*+:"
    r"(?P<secret>[^\s/?#\"'`<>]+)@"
)


def url_passwords(text: str) -> Iterator[Detection]:
    """The password of a URL with credentials (scheme://user:password@host)."""
    for match in _URL_PASSWORD.finditer(text):
        if not is_placeholder(match.group("secret")):
            yield match.start("secret"), match.end("secret"), "url-password"


def detect(text: str, lowered: str, *, gated: bool = True) -> Iterator[Detection]:
    """Every secret these rules find, as (start, end, kind); TOKENS are matched by redaction.py.
    `lowered` is `text.lower()`; `gated`: each rule only where the text holds a piece every
    match of it holds (its patterns start with a lookbehind, so they test every position)."""
    if not gated or "key=" in lowered or "signature=" in lowered:
        for match in _CONN_KEY.finditer(text):
            if len(match.group("secret")) >= 16 and not is_placeholder(match.group("secret")):
                yield match.start("secret"), match.end("secret"), "conn-key"
    if not gated or "_auth" in text or "_password" in text:
        for match in _NPMRC.finditer(text):
            if len(match.group("secret")) >= 8 and not is_placeholder(match.group("secret")):
                yield match.start("secret"), match.end("secret"), "registry-token"
    if not gated or "@tcp(" in text or "@unix(" in text or "@udp(" in text:
        for match in _GO_DSN.finditer(text):
            if not is_placeholder(match.group("secret")):
                yield match.start("secret"), match.end("secret"), "url-password"
    if not gated or "-u" in text:
        for match in _USER_FLAG.finditer(text):
            if password_like(match.group("secret")):
                yield match.start("secret"), match.end("secret"), "conn-password"
    for match in _NETRC.finditer(text) if not gated or "passw" in text else ():
        near = text[max(0, match.start() - NETRC_LOOKBACK) : match.start()]
        if "machine " in near and password_like(match.group("secret")):
            yield match.start("secret"), match.end("secret"), "password"
    yield from _positional(text)


def _positional(text: str) -> Iterator[Detection]:
    """Keys passed as plain arguments: a random-looking literal given to an API client's
    constructor, or the password given to login(user, password)."""
    for match in _LITERAL.finditer(text):
        value = match.group("value")
        start = match.start()
        line_start = text.rfind("\n", max(0, start - CALL_LOOKBACK), start) + 1
        before = text[max(line_start, start - CALL_LOOKBACK) : start]
        opened = before.rfind("(")
        if opened < 0 or ")" in before[opened:]:
            continue  # not directly inside a call's parentheses
        args = before[opened + 1 :].strip()
        if args and not args.endswith(","):
            continue  # a keyword argument (the assignment rule reads its name) or an expression
        callee = _CALLEE.search(before, 0, opened)
        if callee is None:
            continue
        name = callee.group("callee").rsplit(".", 1)[-1]
        position = args.count(",")
        if _PASSWORD_CALL.fullmatch(name):
            first = 0 if name.lower() == "set_password" else 1
            if position >= first and password_like(value):
                yield match.start("value"), match.end("value"), "password"
        elif (_CLIENT.fullmatch(name) or name in _VENDORS) and _key_like(value):
            yield match.start("value"), match.end("value"), "positional-key"


def _key_like(value: str) -> bool:
    """A literal an API key could be: random-looking, not a URL, path or publishable key."""
    if "://" in value or "/" in value or value.startswith(("pk_", "pk-")):
        return False
    return random_looking(value) and not is_placeholder(value)
