"""Developers of one team for the shared-cache tests: each an Engine with its own user config,
its own L1 directory and ledger, all pointed at one real redis-server and one provider fake."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from tests.e2e.lsp_helpers import user_config
from tests.fakes.wire import FakeProvider
from tierwise.config import load_config
from tierwise.engine import Engine, Event, Outcome

T = TypeVar("T")
SECRET = "team-secret-0123456789abcdef0123456789abcdef"
SECRET_ENV = "TIERWISE_TEAM_SECRET"

# A module the team works on: a plain helper and a function holding a live-looking key.
SOURCE = """\
import json


def total_weight(items, factor=2):
    total = 0
    for item in items:
        if item.kg > 10:
            total += item.kg * factor
    return json.dumps({"total": total})


def connect(host):
    token = "sk-ant-api03-Zx7Qp2Lm9Rt4Vw8Yb3Nc6Hd1Jf5Kg0Ms2Pq7Tu9Wx4Ya8Bc3De6Fh1Gj5Lk0Mn"
    return open_session(host, token=token)
"""


def developer(
    home: Path,
    fake: FakeProvider,
    redis_url: str | None,
    *,
    team: str = "team-a",
    secret_env: str = SECRET_ENV,
    extra: str = "",
    cache_extra: str = "",
    workspace: Path | None = None,
    timeout_ms: int = 1000,
) -> Engine:
    """An engine as one developer has it: L1 and ledger under `home`, L2 at `redis_url`.

    The deadline per L2 operation is a second here, not the default 50 ms: tests run many
    engines on one busy machine, and only the fault tests (which pass timeout_ms=50) are about
    the deadline."""
    home.mkdir(parents=True, exist_ok=True)
    shared = (
        f'[cache.shared]\nurl = "{redis_url}"\nteam = "{team}"\nsecret_env = "{secret_env}"\n'
        f'user = "{home.name}"\ntimeout_ms = {timeout_ms}\n{cache_extra}'
        if redis_url
        else ""
    )
    config_text = user_config(
        fake,
        f'\n[cache]\ndir = "{home / "cache"}"\n\n[ledger]\npath = "{home / "ledger.sqlite3"}"\n\n'
        + shared
        + "\n"
        + extra,
    )
    path = home / "config.toml"
    path.write_text(config_text, encoding="utf-8")
    root = workspace or home / "repo"
    root.mkdir(parents=True, exist_ok=True)
    config, warnings = load_config(config_path=path, workspace_root=root)
    assert not warnings, warnings
    return Engine(config, workspace_root=str(root))


def line_of(source: str, needle: str) -> int:
    """The 0-based line holding `needle`."""
    return next(i for i, text in enumerate(source.split("\n")) if needle in text)


async def ask_async(
    engine: Engine,
    action: str = "docstring",
    *,
    source: str = SOURCE,
    needle: str = "def total_weight",
    path: str | None = None,
    events: list[Event] | None = None,
    **options: Any,
) -> Outcome:
    """One request on the running loop; its writes finished before it returns."""
    root = Path(engine.workspace_root or ".")
    task = engine.build_task(
        action, path or str(root / "weights.py"), source, line_of(source, needle), 4, **options
    )
    outcome = await engine.run(task, on_event=events.append if events is not None else None)
    await engine.stores.drain()
    return outcome


def run(coro: Coroutine[Any, Any, T], *engines: Engine) -> T:
    """Run on a fresh event loop (as each CLI command does), closing the engines' L2 clients."""

    async def go() -> T:
        try:
            return await coro
        finally:
            for engine in engines:
                await engine.stores.drain()
                await engine.stores.aclose_shared()

    return asyncio.run(go())


def ask(engine: Engine, action: str = "docstring", **kwargs: Any) -> Outcome:
    """One request on its own event loop."""
    return run(ask_async(engine, action, **kwargs), engine)


def model_calls(fake: FakeProvider) -> int:
    """Requests that reached the provider fake (each one a paid model call)."""
    return sum(1 for r in fake.requests if r.path.endswith(("/messages", "/chat/completions")))


def lookup_keys(
    engine: Engine,
    action: str = "docstring",
    *,
    source: str = SOURCE,
    needle: str = "def total_weight",
    tier: str | None = None,
) -> list[str]:
    """The keys a request would look up, in order (the first is where its answer goes)."""
    from tierwise.handlers.registry import get_handler

    root = Path(engine.workspace_root or ".")
    line = line_of(source, needle)
    task = engine.build_task(action, str(root / "weights.py"), source, line, 4, tier=tier)
    ran, decision = engine.prepare(task)
    return engine.cache_keys(ran, get_handler(ran.action), decision)
