"""The request ledger: one SQLite row per request (rows.py), its schema (migrations.py) and
the store that writes and summarises it (store.py). Import from `tierwise.ledger`."""

from tierwise.ledger.migrations import MIGRATIONS, migrate
from tierwise.ledger.rows import COLUMNS, ERROR_MAX_CHARS, OUTCOMES, LedgerRow, TuneRow
from tierwise.ledger.store import Ledger

__all__ = [
    "COLUMNS",
    "ERROR_MAX_CHARS",
    "MIGRATIONS",
    "OUTCOMES",
    "Ledger",
    "LedgerRow",
    "TuneRow",
    "migrate",
]
