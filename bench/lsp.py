"""Language-server latencies: `initialize`, a cache-hit `tierwise.run`, and a bare round trip.

Run: .venv-dev/bin/python -m bench.lsp [--spawns N] [--repeat N]

Every figure comes from the same raw stdio client (bench/rpc.py), as lean as an editor's.
`initialize` is timed from process start to its response, against a bare pygls server with
no features. The bare round trip is a request the server has no handler for, answered by pygls
alone; the cache-hit run and the code-action listing are quoted as ratios to it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.rpc import RawClient
from bench.timing import sample_async, table
from tests.e2e.lsp_helpers import FAKE_KEY, fake_reply, user_config
from tests.fakes.wire import FakeProvider

FILE = Path(__file__).resolve().parent.parent / "examples" / "shop" / "db.py"
TIERWISE = [sys.executable, "-m", "tierwise", "serve"]
BARE = [sys.executable, str(Path(__file__).resolve().parent / "bare_server.py")]


def initialize_params(root: Path) -> dict[str, Any]:
    """A client with no optional capabilities (no progress, no configuration pull)."""
    return {
        "processId": os.getpid(),
        "rootUri": root.as_uri(),
        "capabilities": {"general": {"positionEncodings": ["utf-16"]}},
    }


async def time_initialize(command: list[str], env: dict[str, str], root: Path) -> float:
    """Seconds from spawning the server to its initialize response."""
    started = time.perf_counter()
    client = await RawClient.spawn(command, env)
    await client.request("initialize", initialize_params(root))
    elapsed = time.perf_counter() - started
    client.notify("initialized", {})
    await client.close()
    return elapsed


async def measure(args: argparse.Namespace, env: dict[str, str], fake: FakeProvider) -> str:
    """Run every measurement; returns the tables."""
    root = FILE.parent
    inits: dict[str, list[float]] = {"bare": [], "tierwise": []}
    for _ in range(args.spawns):  # interleaved, so machine noise hits both alike
        inits["bare"].append(await time_initialize(BARE, env, root))
        inits["tierwise"].append(await time_initialize(TIERWISE, env, root))

    client = await RawClient.spawn(TIERWISE, env)
    await client.request("initialize", initialize_params(root))
    client.notify("initialized", {})
    uri = FILE.as_uri()
    text = FILE.read_text(encoding="utf-8")
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
    )
    line = text.split("\n").index(next(x for x in text.split("\n") if "def search_orders" in x))
    position = {"line": line + 2, "character": 4}
    run = {"action": "review", "uri": uri, "position": position}
    first = await client.request(
        "workspace/executeCommand", {"command": "tierwise.run", "arguments": [run]}
    )
    assert isinstance(first, dict) and first.get("cache_hit") is False, first
    sent = len(fake.requests)

    async def bare() -> None:
        reply = await client.request("tierwise/noSuchMethod", {})
        assert isinstance(reply, dict) and reply.get("code") == -32601, reply

    async def cached_run() -> None:
        reply = await client.request(
            "workspace/executeCommand", {"command": "tierwise.run", "arguments": [run]}
        )
        assert reply["cache_hit"] is True, reply

    async def code_actions() -> None:
        reply = await client.request(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": uri},
                "range": {"start": position, "end": position},
                "context": {"diagnostics": []},
            },
        )
        assert reply, "no code actions listed"

    rows = [
        ("bare round trip (unhandled method)", await sample_async(bare, args.repeat)),
        ("codeAction listing (route, no model)", await sample_async(code_actions, args.repeat)),
        ("tierwise.run review, cache hit", await sample_async(cached_run, args.repeat)),
    ]
    assert len(fake.requests) == sent, "a cache hit reached the provider"
    await client.close()
    init_rows = [
        ("initialize: bare pygls server (baseline)", inits["bare"]),
        ("initialize: tierwise serve", inits["tierwise"]),
    ]
    return (
        table("initialize, from process start", init_rows, init_rows[0][0])
        + "\n\n"
        + table(f"round trips on one server ({FILE.name})", rows, rows[0][0])
    )


def main() -> None:
    """Print the language-server benchmark tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spawns", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeProvider() as fake:
        fake.responder = fake_reply
        home = Path(tmp)
        config = home / "config.toml"
        config.write_text(user_config(fake), encoding="utf-8")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "TIERWISE_CONFIG": str(config),
            "TIERWISE_DATA_DIR": str(home / "data"),
            "TIERWISE_CACHE_DIR": str(home / "cache"),
            "ANTHROPIC_API_KEY": FAKE_KEY,
            "OPENAI_API_KEY": FAKE_KEY,
        }
        print(asyncio.run(measure(args, env, fake)))


if __name__ == "__main__":
    main()
