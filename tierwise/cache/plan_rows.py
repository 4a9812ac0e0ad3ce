"""`tierwise plan`'s memory of rows by file content: a file planned before, unchanged, under
the same tierwise code, configuration, actions and working directory, costs a hash.

The rows hold names, line numbers, tiers, dollar estimates and reasons (never code). They
live in one SQLite file next to the response cache, apart from it, so a large plan never
evicts answers. The key is a SHA-256 of a salt (see `salt`) and the file's bytes: anything a
row depends on that is not the file itself goes into the salt, and the caller decides when
remembered rows are valid at all (cli/plan.py: not with spend caps, nor with requests in the
escalation window). Entries unused for RETAIN_DAYS are dropped. Any database error turns the
memory off for the run: planning never fails because of it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

FILE_NAME = "plan-rows.sqlite3"
FORMAT = "plan-rows-2"  # bump when the rows' shape changes (2: "without_local")
RETAIN_DAYS = 30
_PACKAGE = Path(__file__).resolve().parents[1]


def code_fingerprint() -> str:
    """A hash of tierwise's own files (code, prompts, model tables): new code, new rows."""
    digest = hashlib.sha256(FORMAT.encode())
    for path in sorted(_PACKAGE.rglob("*")):
        if path.suffix in (".py", ".md", ".toml") and path.is_file():
            digest.update(str(path.relative_to(_PACKAGE)).encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def salt(*parts: str) -> bytes:
    """The part of every key that is not the file: the code, then what the caller names."""
    digest = hashlib.sha256(code_fingerprint().encode())
    for part in parts:
        digest.update(b"\0" + part.encode("utf-8", "surrogatepass"))
    return digest.digest()


def dumps(result: tuple[list[dict[str, Any]], list[str]]) -> str:
    """The text a file's (rows, warnings) are kept as (`loads` reads it back)."""
    return json.dumps(list(result))


def loads(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The (rows, warnings) of a text `dumps` made."""
    rows, warnings = json.loads(text)
    return rows, warnings


def file_key(salt: bytes, path: str, content: bytes) -> str:
    """The key of one file's rows."""
    return hashlib.sha256(
        salt + path.encode("utf-8", "surrogatepass") + b"\0" + content
    ).hexdigest()


class PlanRows:
    """Remembered (rows, warnings) per file key; every method is a no-op once it failed."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / FILE_NAME
        self._db: sqlite3.Connection | None = None
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._db = sqlite3.connect(self.path, timeout=2.0)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS rows"
                " (key TEXT PRIMARY KEY, value TEXT NOT NULL, used REAL NOT NULL)"
            )
        except (OSError, sqlite3.Error):
            self.close()

    @property
    def usable(self) -> bool:
        """Whether the database opened (and no call has failed since)."""
        return self._db is not None

    def get_many(self, keys: Iterable[str]) -> dict[str, tuple[list[dict[str, Any]], list[str]]]:
        """The remembered results among these keys (marked as used now)."""
        if self._db is None:
            return {}
        wanted = list(dict.fromkeys(keys))
        found: dict[str, tuple[list[dict[str, Any]], list[str]]] = {}
        try:
            for start in range(0, len(wanted), 500):
                batch = wanted[start : start + 500]
                marks = ",".join("?" * len(batch))
                for key, value in self._db.execute(
                    f"SELECT key, value FROM rows WHERE key IN ({marks})", batch
                ):
                    found[key] = loads(value)
            if found:
                now = time.time()
                with self._db:
                    self._db.executemany(
                        "UPDATE rows SET used = ? WHERE key = ?", [(now, k) for k in found]
                    )
        except (sqlite3.Error, ValueError):
            self.close()
            return {}
        return found

    def put_many(self, items: Iterable[tuple[str, list[dict[str, Any]], list[str]]]) -> None:
        """Remember results, and forget the ones unused for RETAIN_DAYS."""
        self.put_texts((key, dumps((rows, warnings))) for key, rows, warnings in items)

    def put_texts(self, items: Iterable[tuple[str, str]]) -> None:
        """Remember results as `dumps` made their texts; forget those unused for RETAIN_DAYS."""
        if self._db is None:
            return
        now = time.time()
        try:
            with self._db:  # one transaction
                self._db.executemany(
                    "INSERT OR REPLACE INTO rows (key, value, used) VALUES (?, ?, ?)",
                    [(key, text, now) for key, text in items],
                )
                self._db.execute("DELETE FROM rows WHERE used < ?", (now - RETAIN_DAYS * 86400,))
        except sqlite3.Error:
            self.close()

    def close(self) -> None:
        """Close the database (the memory is off from here on)."""
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        self._db = None


def forget_all(directory: Path) -> int:
    """Forget every remembered file (`tierwise cache clear`); how many there were."""
    path = directory / FILE_NAME
    if not path.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=2.0)) as db, db:
            (count,) = db.execute("SELECT count(*) FROM rows").fetchone()
            db.execute("DELETE FROM rows")
    except sqlite3.Error:
        return 0
    return int(count)
