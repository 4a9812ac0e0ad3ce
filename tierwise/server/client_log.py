"""Tierwise's log records mirrored to the editor as window/logMessage."""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types
from pygls.lsp.server import LanguageServer


class ClientLogHandler(logging.Handler):
    """Mirrors tierwise log records to the client as window/logMessage."""

    LEVELS = {
        logging.ERROR: types.MessageType.Error,
        logging.WARNING: types.MessageType.Warning,
        logging.INFO: types.MessageType.Info,
        logging.DEBUG: types.MessageType.Log,
    }

    def __init__(self, server: LanguageServer) -> None:
        super().__init__(logging.INFO)
        self.server = server
        self.loop: asyncio.AbstractEventLoop | None = None
        self._busy = False

    def emit(self, record: logging.LogRecord) -> None:
        """Send the record, from the event loop's thread, unless connected to nobody yet."""
        if self.loop is None or self._busy or self.loop.is_closed():
            return
        kind = self.LEVELS.get(record.levelno, types.MessageType.Log)
        try:
            params = types.LogMessageParams(type=kind, message=self.format(record))
        except Exception:
            return
        self.loop.call_soon_threadsafe(self._send, params)

    def _send(self, params: types.LogMessageParams) -> None:
        self._busy = True  # sending must not log its way back here
        try:
            self.server.window_log_message(params)
        except Exception:
            pass
        finally:
            self._busy = False
