"""The language server: `tierwise serve` (stdio, or TCP for debugging)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tierwise.server.app import TierwiseServer

__all__ = ["create_server", "run_server"]


def create_server(
    *, config_path: Path | None = None, workspace_root: Path | None = None
) -> TierwiseServer:
    """A fresh language server with every feature registered (no module-global server)."""
    from tierwise.server import features
    from tierwise.server.app import TierwiseServer

    server = TierwiseServer(config_path=config_path, workspace_root=workspace_root)
    features.register(server)
    return server


class _QuietExpectedErrors(logging.Filter):
    """Drop pygls' tracebacks for errors that are answers, not faults (bad params, cancels).

    The server already logs one precise line for each of them.
    """

    EXPECTED = (-32602, -32800, -32803)  # InvalidParams, RequestCancelled, RequestFailed

    def filter(self, record: logging.LogRecord) -> bool:
        """False for records about expected errors."""
        if record.getMessage().startswith("Unable to deserialize message"):
            return False
        error = record.exc_info[1] if record.exc_info else None
        return getattr(error, "code", None) not in self.EXPECTED


class RedactSecrets(logging.Filter):
    """No secret reaches a log, at any level: keys from the environment and whatever the
    redaction rules find (pygls logs every message body at debug, documents included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message and traceback text in place; never drops a record."""
        from tierwise import privacy
        from tierwise.providers.keys import scrub_environment_keys

        def clean(text: str) -> str:
            return scrub_environment_keys(privacy.redact(text).text)

        message = record.getMessage()
        cleaned = clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = clean(record.exc_text)
        return True


def _configure_logging(log_file: Path | None, level: str) -> logging.Handler:
    """Logs go to stderr or a file, never stdout (stdout carries the protocol)."""
    handler: logging.Handler = (
        logging.FileHandler(log_file, encoding="utf-8", errors="backslashreplace")
        if log_file
        else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    numeric = getattr(logging, level.upper(), logging.INFO)
    handler.setLevel(numeric)  # tierwise may log lower for the client (server.log_level)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(numeric)
    # pygls logs every message body at INFO (source code included), the HTTP clients every
    # request: only when debugging.
    for name in ("pygls", "httpx", "httpx2", "httpcore", "anthropic", "openai"):
        logging.getLogger(name).setLevel(logging.DEBUG if level == "debug" else logging.WARNING)
    handler.addFilter(_QuietExpectedErrors())
    handler.addFilter(RedactSecrets())
    return handler


def _parse_tcp(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        from tierwise.core.errors import UsageError

        raise UsageError(f"--tcp {value!r}: expected HOST:PORT, e.g. 127.0.0.1:2087")
    return host or "127.0.0.1", int(port)


def run_server(args: argparse.Namespace | None = None) -> int:
    """Run the server until the client exits (the `tierwise serve` command); the exit code."""
    from tierwise.server.framing import DEFAULT_MAX_MESSAGE_BYTES
    from tierwise.server.transport import serve_stdio, serve_tcp

    # pygls and lsprotocol (just imported) left about 50,000 objects for the collector to
    # track, all living as long as the process: out of its way before the server is built, or
    # the full pass that tierwise's own start-up triggers on the way to the initialize answer
    # walks them all (25-40 ms here; a bare pygls server stops short of one). What
    # freeze_imports does after the engine is built.
    gc.freeze()

    tcp = getattr(args, "tcp", None)
    address = _parse_tcp(tcp) if tcp else None
    limit = getattr(args, "max_message_bytes", None) or DEFAULT_MAX_MESSAGE_BYTES
    _configure_logging(getattr(args, "log_file", None), getattr(args, "log_level", None) or "info")
    server = create_server(
        config_path=getattr(args, "config", None), workspace_root=getattr(args, "workspace", None)
    )
    server.log_handler.addFilter(RedactSecrets())
    logging.getLogger("tierwise").addHandler(server.log_handler)
    serve = serve_tcp(server, *address, limit) if address else serve_stdio(server, limit)
    try:
        return asyncio.run(serve)
    finally:
        server.shutdown()
