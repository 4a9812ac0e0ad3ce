"""Small thread-safe memories for pure work repeated on unchanged input.

Code-action listings route every action at the cursor, and editors ask again on every cursor
move; the same target gets its signals, prompt size and cache-key normal form computed over
and over. These are pure functions of their input, so the last few answers are kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class Memo(Generic[V]):
    """The last `size` results of a pure function, by key (safe across worker threads)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The remembered value for `key`, else compute (outside the lock) and remember it."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget everything (the configuration changed)."""
        with self._lock:
            self._items.clear()
