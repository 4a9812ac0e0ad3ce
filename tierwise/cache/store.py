"""The response cache: JSON answers in a bounded, LRU diskcache in a private directory.

diskcache pickles values by default (CVE-2025-69872: anyone who can write the cache directory
can run code in the reader). `JsonDisk` stores only bytes and refuses to unpickle anything, and
this module only ever writes JSON-encoded bytes, so nothing is deserialised but JSON.

What is stored: the caller's answer (a result dict plus model, tier and cost) under a hash key.
The caller never stores raw source code, file contents or API keys; `set` refuses a value with a
top-level "source" or "code" key as a guard against mistakes.

A corrupt directory is moved aside and rebuilt empty (see `rebuilt_reason`) instead of failing
the request; locked or busy databases count as a miss and are left alone. A directory that
cannot be used at all (read-only, full, on a read-only file system) raises `CacheUnusable`,
naming the directory and what is missing, and the engine then runs without a cache.
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import diskcache

from tierwise.cache.disk import JsonDisk, UnsafeEntry, secure_dir, unusable_reason
from tierwise.core.errors import TierwiseError
from tierwise.core.sqlite import sqlite_is_corrupt

COUNTERS_FILE = "counters.sqlite3"
FORBIDDEN_KEYS = ("source", "code")
# Seconds to wait on a database another process holds; a busy cache is a miss, not a stall.
LOCK_TIMEOUT_S = 2.0
TOUCHED_KEYS = 4096  # entries whose last touch is remembered


class CacheUnusable(TierwiseError):
    """The cache directory cannot be used; the message names it and the missing permission."""


@attrs.frozen
class CacheStats:
    """Cache size and the persisted hit/miss/saving counters."""

    entries: int
    size_bytes: int
    hits: int
    misses: int
    saved_usd: float
    directory: Path
    # The shared cache's counters on this machine: hits served from L2 (part of `hits`), and
    # the L2 values refused (MAC failures, not our JSON, over the size cap) since the last clear.
    shared: dict[str, float] = attrs.field(factory=dict)


class _Counters:
    """Hit, miss and saving counters in a one-row SQLite table, so they survive restarts."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()  # the connection is shared with the engine's worker threads
        self._con = sqlite3.connect(
            path, timeout=LOCK_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
            self._con.execute(
                "CREATE TABLE IF NOT EXISTS counters (id INTEGER PRIMARY KEY CHECK (id = 1),"
                " hits INTEGER NOT NULL, misses INTEGER NOT NULL, saved_usd REAL NOT NULL)"
            )
            self._con.execute("INSERT OR IGNORE INTO counters VALUES (1, 0, 0, 0.0)")
            self._con.execute(
                "CREATE TABLE IF NOT EXISTS named (name TEXT PRIMARY KEY, value REAL NOT NULL)"
            )
        except sqlite3.Error:
            self._con.close()
            raise

    def add(self, hits: int, misses: int, saved_usd: float) -> None:
        """Add to the counters in one atomic UPDATE (safe across processes)."""
        with self._lock:
            self._con.execute(
                "UPDATE counters SET hits = hits + ?, misses = misses + ?,"
                " saved_usd = saved_usd + ? WHERE id = 1",
                (hits, misses, saved_usd),
            )

    def bump(self, name: str, amount: float) -> None:
        """Add to a named counter (created at 0)."""
        with self._lock:
            self._con.execute(
                "INSERT INTO named VALUES (?, ?)"
                " ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                (name, amount),
            )

    def named(self) -> dict[str, float]:
        """Every named counter."""
        with self._lock:
            rows = self._con.execute("SELECT name, value FROM named ORDER BY name").fetchall()
        return {str(name): float(value) for name, value in rows}

    def read(self) -> tuple[int, int, float]:
        """(hits, misses, saved_usd)."""
        with self._lock:
            row = self._con.execute(
                "SELECT hits, misses, saved_usd FROM counters WHERE id = 1"
            ).fetchone()
        return (int(row[0]), int(row[1]), float(row[2])) if row else (0, 0, 0.0)

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self._con.execute(
                "UPDATE counters SET hits = 0, misses = 0, saved_usd = 0.0 WHERE id = 1"
            )
            self._con.execute("DELETE FROM named")

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._con.close()


class ResponseCache:
    """Answers by key, bounded by size with least-recently-used eviction."""

    def __init__(self, directory: Path, *, max_mb: int = 256, touch_every_s: float = 60.0) -> None:
        self.directory = Path(directory)
        self.max_mb = max_mb
        # An entry hit again within this many seconds of its last touch by this process is not
        # touched again: each touch is a write, after which every read of the file starts cold.
        self.touch_every_s = touch_every_s
        self._touched: dict[str, float] = {}  # key -> when this process last marked it used
        self.rebuilt_reason: str | None = None
        self.notes: list[str] = []  # what happened to the directory while in use
        self._lock = threading.Lock()  # guards the swap of the two handles during a rebuild
        self._cache, self._counters = self._open_or_rebuild()
        # A handle on the same files that reads without the LRU update (`peek`): the main one's
        # get is a write transaction (the access time), whose WAL checkpoints stall it for ms.
        self._reader: diskcache.Cache | None = None
        self._reader_of: diskcache.Cache | None = None  # the main handle it was opened beside

    # -- opening and recovery --------------------------------------------------------------------

    def _open(self) -> tuple[diskcache.Cache, _Counters]:
        secure_dir(self.directory)
        cache = self._handle("least-recently-used")
        try:
            counters = _Counters(self.directory / COUNTERS_FILE)
        except BaseException:
            cache.close()
            raise
        return cache, counters

    def _handle(self, eviction_policy: str) -> diskcache.Cache:
        return diskcache.Cache(
            str(self.directory),
            timeout=LOCK_TIMEOUT_S,
            disk=JsonDisk,
            size_limit=self.max_mb * 1024 * 1024,
            eviction_policy=eviction_policy,
        )

    def _open_or_rebuild(self) -> tuple[diskcache.Cache, _Counters]:
        try:
            try:
                return self._open()
            except sqlite3.DatabaseError as exc:
                if not sqlite_is_corrupt(exc):
                    raise
                self._move_aside(exc)
                return self._open()
        except (sqlite3.Error, OSError) as exc:
            raise CacheUnusable(unusable_reason(self.directory, exc)) from None

    def _move_aside(self, exc: BaseException) -> None:
        """Rename the corrupt directory (kept for inspection) and note why."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        aside = self.directory.with_name(f"{self.directory.name}.corrupt-{stamp}")
        try:
            self.directory.rename(aside)
            where = f"moved it to {aside}"
        except OSError:
            import shutil

            shutil.rmtree(self.directory, ignore_errors=True)
            where = "deleted it"
        self.rebuilt_reason = (
            f"the cache database in {self.directory} was corrupt ({exc}); {where} "
            "and started an empty cache"
        )

    def _recover(self, broken: diskcache.Cache, exc: sqlite3.DatabaseError) -> None:
        """Rebuild after corruption seen during use (once, even if several threads saw it)."""
        if not sqlite_is_corrupt(exc):
            return  # locked, busy, full disk: a miss this time, the data is fine
        with self._lock:
            if self._cache is not broken:
                return  # another thread already rebuilt
            self._close_handles()
            self._move_aside(exc)
            self._cache, self._counters = self._open()

    def _close_handles(self) -> None:
        reader, self._reader, self._reader_of = getattr(self, "_reader", None), None, None
        closes = [self._cache.close, self._counters.close] + ([reader.close] if reader else [])
        for close in closes:
            with contextlib.suppress(sqlite3.Error):
                close()

    # -- entries ---------------------------------------------------------------------------------

    def get(self, key: str, *, touch: bool = True) -> dict[str, Any] | None:
        """The stored answer for `key`, or None (a miss) when absent, unreadable or unsafe.
        `touch=False` leaves its access time (the LRU order) to a later `touch(key)`, once a
        touch has opened the read handle (before, a get is the main handle's)."""
        cache = self._cache
        try:
            raw = (cache if touch else self._peeker(cache)).get(key, default=None)
        except UnsafeEntry:
            self._discard(cache, key)
            return None
        except sqlite3.DatabaseError as exc:
            self._recover(cache, exc)
            return None
        except (diskcache.Timeout, OSError):
            return None  # busy, or a large value's file vanished: a miss
        if raw is None:
            return None
        value = _decode(raw)
        if value is None:
            self._discard(cache, key)
        return value

    def get_first(
        self, keys: Iterable[str], *, touch: bool = True
    ) -> tuple[str, dict[str, Any]] | None:
        """The first key (in the given order) that has an answer, with the answer."""
        for key in keys:
            value = self.get(key, touch=touch)
            if value is not None:
                return key, value
        return None

    def touch(self, key: str) -> None:
        """Mark an entry used now (the LRU order), as a get does: for `get(touch=False)`; at
        most once every `touch_every_s` per entry (the order is kept to that precision). The
        first touch opens the read handle `get(touch=False)` uses from then on."""
        with contextlib.suppress(sqlite3.Error, diskcache.Timeout, OSError):
            self._open_reader()
        now = time.monotonic()
        if now - self._touched.get(key, -math.inf) < self.touch_every_s:
            return
        if len(self._touched) >= TOUCHED_KEYS:
            self._touched.clear()
        self._touched[key] = now
        with contextlib.suppress(sqlite3.Error, diskcache.Timeout, OSError, UnsafeEntry):
            self._cache.get(key, default=None)

    def _peeker(self, cache: diskcache.Cache) -> diskcache.Cache:
        """The read handle beside `cache`, once `touch` opened it; until then `cache` itself
        (opening a handle writes its settings: 10-20 ms, kept off the request path)."""
        reader = self._reader
        return reader if reader is not None and self._reader_of is cache else cache

    def _open_reader(self) -> None:
        """Open the read handle beside the current main one (in `touch`, off the request)."""
        if self._reader is not None and self._reader_of is self._cache:
            return
        if not self.directory.is_dir():
            return  # deleted: no reader recreates it (the next set starts a new cache)
        with self._lock:
            if self._reader is None or self._reader_of is not self._cache:
                old, self._reader = self._reader, self._handle("none")
                self._reader_of = self._cache
                if old is not None:
                    with contextlib.suppress(sqlite3.Error):
                        old.close()

    def set(self, key: str, value: dict[str, Any]) -> None:
        """Store an answer; raises ValueError for a value carrying source code or not JSON."""
        if not isinstance(value, dict):
            raise ValueError(f"cache values are dicts, not {type(value).__name__}")
        forbidden = [k for k in FORBIDDEN_KEYS if k in value]
        if forbidden:
            raise ValueError(
                f"refusing to cache a value with a {forbidden[0]!r} key: the cache stores answers "
                "and hashes, never source code"
            )
        try:
            data = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"cache values must be plain JSON data: {exc}") from None
        self._reopen_if_deleted()
        cache = self._cache
        try:
            cache.set(key, data.encode("utf-8"))
        except sqlite3.DatabaseError as exc:
            self._recover(cache, exc)
        except (diskcache.Timeout, OSError):
            pass  # not stored this time; the answer was already delivered

    def _reopen_if_deleted(self) -> None:
        """A directory removed while in use would take every later write into unlinked files:
        start an empty cache there instead (it is only a cache) and say so in `notes`."""
        if self.directory.is_dir():
            return
        with self._lock:
            if self.directory.is_dir():
                return  # another thread already did
            self._close_handles()
            try:
                self._cache, self._counters = self._open()
            except (TierwiseError, sqlite3.Error, OSError):
                return  # cannot recreate it: later reads and writes fail as misses
            self.notes.append(
                f"the cache directory {self.directory} was deleted while tierwise was running; "
                "started an empty cache"
            )

    def _discard(self, cache: diskcache.Cache, key: str) -> None:
        """Delete an entry that must never be served."""
        with contextlib.suppress(sqlite3.Error, diskcache.Timeout, OSError):
            cache.delete(key)

    # -- counters and maintenance ------------------------------------------------------------------

    def record_hit(self, saved_usd: float) -> None:
        """Count a hit and the dollars it saved."""
        self._count(1, 0, saved_usd)

    def record_miss(self) -> None:
        """Count a miss."""
        self._count(0, 1, 0.0)

    def count(self, name: str, amount: float = 1) -> None:
        """Add to a named counter (the shared cache's hits and refusals)."""
        cache, counters = self._cache, self._counters
        try:
            counters.bump(name, amount)
        except sqlite3.DatabaseError as exc:
            self._recover(cache, exc)
        except sqlite3.Error:
            pass  # a lost count must never fail a request

    def _count(self, hits: int, misses: int, saved_usd: float) -> None:
        cache, counters = self._cache, self._counters
        try:
            counters.add(hits, misses, saved_usd)
        except sqlite3.DatabaseError as exc:
            self._recover(cache, exc)
        except sqlite3.Error:
            pass  # a lost count must never fail a request

    def stats(self) -> CacheStats:
        """Entries, bytes on disk and the persisted counters."""
        cache, counters = self._cache, self._counters
        try:
            hits, misses, saved = counters.read()
            size = int(cache.volume())
            named = counters.named()
            return CacheStats(len(cache), size, hits, misses, saved, self.directory, named)
        except sqlite3.DatabaseError as exc:
            self._recover(cache, exc)
            return CacheStats(0, 0, 0, 0, 0.0, self.directory)

    def clear(self) -> int:
        """Remove every entry and reset the counters; returns the number of entries removed."""
        cache, counters = self._cache, self._counters
        try:
            removed = int(cache.clear())
            counters.reset()
        except sqlite3.DatabaseError as exc:
            if not sqlite_is_corrupt(exc):
                raise TierwiseError(
                    f"could not clear the response cache in {self.directory}: {exc}"
                ) from None
            self._recover(cache, exc)
            return 0
        return removed

    def close(self) -> None:
        """Close the database connections."""
        with self._lock:
            self._close_handles()


def _decode(raw: Any) -> dict[str, Any] | None:
    """A stored entry as a dict, or None for anything that is not a JSON object in bytes."""
    if not isinstance(raw, bytes):
        return None
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
