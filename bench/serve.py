"""A tierwise server over stdio for the benchmarks: its environment, client and documents."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench.rpc import RawClient
from tests.e2e.lsp_helpers import FAKE_KEY, user_config
from tests.fakes.wire import FakeProvider

# The checkout whose tierwise is measured: the one this bench/ belongs to, put first on every
# child's path (an editable install elsewhere, or the child's working directory, would win).
ROOT = Path(__file__).resolve().parents[1]
TIERWISE = [sys.executable, "-m", "tierwise", "serve"]
BARE = [sys.executable, str(Path(__file__).resolve().parent / "bare_server.py")]
# A small user config file for the CLI rows that read one (cattrs structures it).
USER_CONFIG = """\
[providers.anthropic]
kind = "anthropic"
api_key_env = "ANTHROPIC_API_KEY"

[tiers.mid]
models = ["anthropic:claude-sonnet-4-5"]
"""


def compile_checkout() -> None:
    """Write the measured checkout's bytecode, as `pip install` does.

    Without it (a fresh checkout, or PYTHONDONTWRITEBYTECODE set, as it is on some CI images)
    every cold start compiles tierwise's sources again: 120 ms more per `route` here, which
    would be measured as start-up time.
    """
    import compileall

    compileall.compile_dir(ROOT / "tierwise", quiet=1)


def initialize_params(root: Path) -> dict[str, Any]:
    """A client with no optional capabilities (no progress, no configuration pull)."""
    return {
        "processId": os.getpid(),
        "rootUri": root.as_uri(),
        "capabilities": {"general": {"positionEncodings": ["utf-16"]}},
    }


# Asking again for the same target escalates a tier, which would turn repeated cache hits into
# new provider calls: the benchmarks repeat requests on purpose, so escalation is off.
NO_ESCALATION = "\n[routing]\nescalate_window_s = 0\n"


def environment(
    home: Path, fake: FakeProvider, extra_config: str = "", window_s: float = 0.0
) -> dict[str, str]:
    """The server's whole environment: a throwaway home, config pointing at the fake;
    `window_s` turns escalation on repeat on with that window (off by default)."""
    config = home / "config.toml"
    routing = NO_ESCALATION.replace("= 0", f"= {window_s:g}")
    config.write_text(user_config(fake, routing + extra_config), encoding="utf-8")
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TIERWISE_CONFIG": str(config),
        "TIERWISE_DATA_DIR": str(home / "data"),
        "TIERWISE_CACHE_DIR": str(home / "cache"),
        "PYTHONPATH": str(ROOT),
        "ANTHROPIC_API_KEY": FAKE_KEY,
        "OPENAI_API_KEY": FAKE_KEY,
    }


@contextlib.asynccontextmanager
async def server(
    fake: FakeProvider, root: Path, extra_config: str = "", window_s: float = 0.0
) -> AsyncIterator[RawClient]:
    """An initialized tierwise server with a fresh home; shut down on exit."""
    with tempfile.TemporaryDirectory() as tmp:
        env = environment(Path(tmp), fake, extra_config, window_s)
        client = await RawClient.spawn(TIERWISE, env)
        await client.request("initialize", initialize_params(root))
        client.notify("initialized", {})
        try:
            yield client
        finally:
            await client.close()


def open_document(client: RawClient, path: Path, text: str, version: int = 1) -> str:
    """didOpen a Python document; returns its URI."""
    uri = path.as_uri()
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": version, "text": text}},
    )
    return uri


def change_document(client: RawClient, uri: str, text: str, version: int) -> None:
    """didChange with the whole new text (what the server does with it is the same)."""
    client.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
    )


def insert_line(client: RawClient, uri: str, line: int, text: str, version: int) -> None:
    """didChange that inserts one line before `line` (an incremental edit, as editors send)."""
    at = {"line": line, "character": 0}
    client.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": at, "end": at}, "text": text + "\n"}],
        },
    )


def run_args(uri: str, line: int, action: str = "review", **extra: Any) -> dict[str, Any]:
    """executeCommand params for tierwise.run at a position."""
    arguments = {"action": action, "uri": uri, "position": {"line": line, "character": 8}}
    arguments.update(extra)
    return {"command": "tierwise.run", "arguments": [arguments]}


def code_action_params(uri: str, line: int) -> dict[str, Any]:
    """textDocument/codeAction params at a cursor."""
    position = {"line": line, "character": 8}
    return {
        "textDocument": {"uri": uri},
        "range": {"start": position, "end": position},
        "context": {"diagnostics": []},
    }
