"""What the SQLite-backed stores (the ledger, the diskcache response cache) share."""

from __future__ import annotations

# SQLITE_CORRUPT and SQLITE_NOTADB: the file is damaged or is not a database at all.
_CORRUPT_CODES = frozenset({11, 26})


def sqlite_is_corrupt(exc: BaseException) -> bool:
    """True when a sqlite3 error means a damaged database (not a lock, a full disk or misuse)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(code, int) and (code & 0xFF) in _CORRUPT_CODES
