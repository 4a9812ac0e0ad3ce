"""The engine's parsed files: one parse per text of a file, shared by every request on it."""

from __future__ import annotations

import threading
from collections import OrderedDict

from tierwise.context.extract import SourceFile, load
from tierwise.engine.apart import ApartParser

# Parsed files kept per engine: enough for the files open side by side in an editor.
PARSED_FILES_KEPT = 16


class ParsedFiles:
    """The last parses by path; thread-safe (code-action listing routes in a worker thread)."""

    def __init__(self, apart: ApartParser | None) -> None:
        # The server parses big files in a child process; the CLI passes None.
        self.apart = apart
        self._files: OrderedDict[str, SourceFile] = OrderedDict()
        self._lock = threading.Lock()
        self._parsing: dict[str, tuple[str, threading.Event]] = {}  # path -> text being parsed

    def has(self, path: str, source: str) -> bool:
        """Whether this very text of the file is parsed already (routing it again is cheap)."""
        with self._lock:
            known = self._files.get(path)
        return known is not None and known.source is source

    def get(self, path: str, source: str) -> SourceFile:
        """The parse of this text: reused while the text is unchanged (code actions ask often),
        and after an edit built from the previous version by re-parsing only what changed."""
        with self._lock:
            known = self._files.get(path)
            if known is not None and known.source == source:
                self._files.move_to_end(path)
                return known
            # A code-action listing and a command often arrive together for a new version:
            # one thread parses it, the other waits for that parse instead of doing its own.
            waiting = self._parsing.get(path)
            mine = waiting is None or waiting[0] is not source
            if mine:
                event = threading.Event()
                self._parsing[path] = (source, event)
        if not mine and waiting is not None:
            waiting[1].wait()
            return self.get(path, source)
        try:
            parsed = None
            fresh = known is None or known.backend != "python" or known.path != path
            if self.apart is not None and fresh and self.apart.wants(path, source):
                parsed = self.apart.parse(path, source)
            if parsed is None:
                parsed = load(path, source, previous=known)
            with self._lock:
                self._files[path] = parsed
                self._files.move_to_end(path)
                while len(self._files) > PARSED_FILES_KEPT:
                    self._files.popitem(last=False)
        finally:
            with self._lock:
                if self._parsing.get(path, (None,))[0] is source:
                    del self._parsing[path]
            event.set()
        return parsed
