"""Privacy: which files are never sent or stay local (globs.py), and redaction of secrets in
outgoing text (redaction.py, with vendor formats in formats.py and what a secret value looks
like in values.py). Import from here."""

from tierwise.privacy.globs import is_excluded, matches_any
from tierwise.privacy.redaction import KINDS, MIN_ENTROPY_BITS, MIN_SECRET_LENGTH, Redaction, redact

__all__ = [
    "KINDS",
    "MIN_ENTROPY_BITS",
    "MIN_SECRET_LENGTH",
    "Redaction",
    "is_excluded",
    "matches_any",
    "redact",
]
