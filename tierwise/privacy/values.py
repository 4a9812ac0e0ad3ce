"""What a secret value looks like: long, high-entropy, of mixed characters, and not a
placeholder or a label. Shared by the detectors in redaction.py and formats.py."""

from __future__ import annotations

import math
import re
from collections import Counter

MIN_SECRET_LENGTH = 16
MIN_ENTROPY_BITS = 3.5
# Hex has 16 symbols (4 bits at most): a random 32-digit hex key often measures 3.4-3.7 bits,
# below the bar for 62-symbol alphabets, so all-hex values have a bar of their own.
MIN_HEX_ENTROPY_BITS = 3.0
_HEX_LOWER, _HEX_UPPER = frozenset("0123456789abcdef"), frozenset("0123456789ABCDEF")
# Chosen passwords are short and plain ("hunter2", "Summer2024!"); below this they are words.
MIN_PASSWORD_LENGTH = 4


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    total = len(value)
    return -sum(c / total * math.log2(c / total) for c in Counter(value).values()) if total else 0.0


def char_classes(value: str) -> int:
    """How many of lower case, upper case and digits occur: random keys have at least two."""
    return sum(any(map(test, value)) for test in (str.islower, str.isupper, str.isdigit))


def mixed(body: str) -> bool:
    """At least two of lower case, upper case and digits."""
    return char_classes(body) >= 2


def random_looking(value: str) -> bool:
    """Long, high-entropy and mixed: "bearer" or "db-password-name" are not."""
    hex_digits = _HEX_LOWER.issuperset(value) or _HEX_UPPER.issuperset(value)  # one case, as keys
    bar = MIN_HEX_ENTROPY_BITS if hex_digits else MIN_ENTROPY_BITS
    return len(value) >= MIN_SECRET_LENGTH and char_classes(value) >= 2 and entropy(value) >= bar


_PLACEHOLDER = re.compile(
    r"\$\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z_]\w*|\{\{[^}]*\}\}|%\(\w+\)[sdr]|%[sd]|<[^<>]*>"
    r"|\{[A-Za-z_][\w.\[\]'\"]*(?:![rsa])?(?::[^{}]*)?\}|\*+|x+|X+|\.\.\.",
    re.ASCII,
)
# What a password field is often set to without being a password.
_NOT_PASSWORDS = frozenset(
    {"password", "passwd", "pwd", "pass", "secret", "none", "null", "nil", "true", "false"}
)


def is_placeholder(value: str) -> bool:
    """Templates and stand-ins such as ${DB_PASS}, {password}, %(pw)s, <password> or ****."""
    return _PLACEHOLDER.fullmatch(value) is not None


def password_like(value: str) -> bool:
    """A value a person could have chosen as a password: "hunter2", "Summer2024!", not "" or
    "password" or a template, not a sentence, a URL or a path."""
    return (
        len(value) >= MIN_PASSWORD_LENGTH
        and not is_placeholder(value)
        and value.lower() not in _NOT_PASSWORDS
        and not any(c.isspace() or c in "{}" for c in value)
        and "://" not in value
        and not value.startswith(("/", "./", "~/"))
    )
