"""The configuration watcher imports nothing on the event loop.

When the first document opens, the server imports the provider SDKs in a thread
(`ProviderPool.warm`); anthropic and httpx import anyio, which watchfiles uses too. An import
on the event loop of a module another thread is importing waits for that whole import: the
watcher, importing watchfiles (and anyio's lazily loaded parts on its first run) on the loop,
stalled every request for about a second behind the SDK import (`python -m bench.hostile`,
0.87 MB C file). In a fresh interpreter, an audit hook records the modules first imported on
the loop's thread while a watcher starts and reaches its first quiet tick.
"""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = r"""
import asyncio, json, pathlib, sys, tempfile, threading

from tierwise.server.settings import ConfigWatcher

main = threading.main_thread()
on_loop = []


def hook(event, args):
    if event == "import" and threading.current_thread() is main and args[0] not in sys.modules:
        on_loop.append(args[0])


async def run():
    folder = pathlib.Path(tempfile.mkdtemp())
    live = asyncio.Event()

    async def on_change():
        live.set()

    await asyncio.to_thread(lambda: None)  # the executor's own modules, before the hook
    sys.addaudithook(hook)
    watcher = ConfigWatcher([folder / "config.toml"], on_change)
    watcher.start()
    await asyncio.wait_for(live.wait(), 60)  # the first quiet tick: the watch is running
    await watcher.stop()


asyncio.run(run())
print(json.dumps(on_loop))
print(json.dumps("anyio" in sys.modules and "watchfiles" in sys.modules))
"""


def test_the_watcher_imports_in_a_thread() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    on_loop, loaded = (json.loads(line) for line in done.stdout.splitlines()[-2:])
    assert loaded  # the watcher did load watchfiles and anyio
    assert on_loop == []
