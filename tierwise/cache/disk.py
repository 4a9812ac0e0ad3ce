"""The cache's ground: a diskcache `Disk` that never pickles, and the private directory it
lives in (created 0700; what is wrong with one that cannot be used, found by trying a write as
this user).

diskcache pickles values by default (CVE-2025-69872: anyone who can write the cache directory
can run code in the reader). `JsonDisk` stores only bytes and refuses to unpickle anything.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import diskcache
from diskcache.core import MODE_PICKLE, UNKNOWN

from tierwise.core.errors import ConfigError


class UnsafeEntry(Exception):
    """A stored entry that is not plain bytes (e.g. a planted pickle); it is never decoded."""


class JsonDisk(diskcache.Disk):
    """A diskcache Disk that stores bytes as is and never pickles or unpickles."""

    def put(self, key: Any) -> tuple[Any, bool]:
        """Keys must be str or bytes (stored raw); anything else would be pickled."""
        if type(key) not in (str, bytes):
            raise TypeError(f"cache keys must be str or bytes, not {type(key).__name__}")
        return super().put(key)

    def get(self, key: Any, raw: bool) -> Any:
        """Return a raw key; a pickled key is refused."""
        if not raw:
            raise UnsafeEntry("pickled key")
        return super().get(key, raw)

    def store(self, value: Any, read: bool, key: Any = UNKNOWN) -> tuple[Any, ...]:
        """Store bytes only (in the database, or in a file when large)."""
        if type(value) is not bytes:
            raise TypeError(f"the response cache stores bytes only, not {type(value).__name__}")
        return super().store(value, read, key)

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        """Read bytes back; a pickled entry is refused before any byte of it is decoded."""
        if mode == MODE_PICKLE:
            raise UnsafeEntry("pickled value")
        return super().fetch(mode, filename, value, read)


def secure_dir(directory: Path) -> None:
    """Create `directory` (mode 0700), or restrict an existing one that others could read."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if directory.stat().st_mode & 0o077:
            os.chmod(directory, 0o700)
    except FileExistsError:
        raise ConfigError(
            f"cache.dir: {directory} exists and is not a directory; "
            "remove it or set another cache.dir"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cache.dir: cannot create a private (0700) directory at {directory}: {exc.strerror}; "
            "fix its permissions, set another cache.dir, or set cache.enabled = false"
        ) from None


def unusable_reason(directory: Path, exc: BaseException) -> str:
    """Why a cache directory cannot be used, named by what a write there says (as this user)."""
    try:
        mode = stat.filemode(directory.stat().st_mode)
    except OSError:
        mode = "missing"
    try:
        handle, probe = tempfile.mkstemp(prefix=".tierwise-probe-", dir=directory)
    except OSError as denied:
        return (
            f"the response cache directory {directory} is not writable ({denied.strerror}; "
            f"mode {mode}): tierwise needs read, write and search permission there for your "
            f"user; fix it (chmod u+rwx {directory}) or set cache.dir"
        )
    os.close(handle)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return (
        f"cannot open the response cache in {directory} (mode {mode}): {exc}; "
        "set cache.dir to another directory, or cache.enabled = false"
    )
