"""Privacy: which files are never sent or stay local (globs.py), and redaction of secrets in
outgoing text (redaction.py, with vendor formats in formats.py and what a secret value looks
like in values.py). Import from here."""

from typing import TYPE_CHECKING, Any

from tierwise.privacy.globs import is_excluded, matches_any

if TYPE_CHECKING:
    from tierwise.privacy.redaction import (
        KINDS,
        MIN_ENTROPY_BITS,
        MIN_SECRET_LENGTH,
        Redaction,
        redact,
    )

__all__ = [
    "KINDS",
    "MIN_ENTROPY_BITS",
    "MIN_SECRET_LENGTH",
    "Redaction",
    "is_excluded",
    "matches_any",
    "redact",
]


def __getattr__(name: str) -> Any:
    # The redaction patterns (a twentieth of a `tierwise route` cold start to compile) load
    # on the first request that is sent to a provider, not with the package.
    if name in __all__:
        from tierwise.privacy import redaction

        return getattr(redaction, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
