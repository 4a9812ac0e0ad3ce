"""Fixtures for the end-to-end language server tests: a fake model server and a workspace."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.lsp_helpers import CLIENTS, EditorClient, fake_reply, start, stop, user_config
from tests.fakes.wire import FakeProvider

# Non-ASCII before and inside targets: a column counted in the wrong encoding moves edits.
SHOP = '''\
"""Shop helpers — prices in €."""
import os


def add(a: int, b: int) -> int:
    total = a + b
    if total < 0:
        raise ValueError("négatif")
    return total


def greet(name: str) -> str:
    if not name:
        return "nobody"
    cleaned = name.strip()
    return f"héllo {cleaned} 👋"


def parse_order(line: str) -> dict:
    parts = line.split(",")
    qty = int(parts[1])
    if qty <= 0:
        raise ValueError(line)
    return {"id": parts[0], "qty": qty}


class Cart:
    def weight(self, items: list) -> float:
        heavy = [i for i in items if i.kg > 10]
        light = [i for i in items if i.kg <= 10]
        if not items:
            return 0.0
        return sum(i.kg for i in heavy + light)
'''

HELPERS = """\
def calc(x: int) -> int:
    doubled = x * 2
    if doubled > 100:
        return 100
    return doubled
"""

MAIN = """\
from helpers import calc


def run() -> int:
    return calc(4) + calc(5)
"""


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProvider]:
    """One fake Anthropic/OpenAI server per module, answering each action plausibly."""
    with FakeProvider() as server:
        server.responder = fake_reply
        yield server


def make_workspace(
    base: Path, fake: FakeProvider, *, workspace_toml: str | None = None
) -> tuple[Path, Path]:
    """A home (user config, data, cache) and a project root with shop.py, helpers.py, main.py."""
    home = base / "home"
    root = base / "project"
    home.mkdir(parents=True)
    root.mkdir(parents=True)
    (home / "config.toml").write_text(user_config(fake), encoding="utf-8")
    (root / "shop.py").write_text(SHOP, encoding="utf-8")
    (root / "helpers.py").write_text(HELPERS, encoding="utf-8")
    (root / "main.py").write_text(MAIN, encoding="utf-8")
    (root / ".env").write_text("API_TOKEN=abc123\n", encoding="utf-8")
    if workspace_toml is not None:
        (root / ".tierwise.toml").write_text(workspace_toml, encoding="utf-8")
    return home, root


@contextlib.asynccontextmanager
async def workspace_editor(
    fake: FakeProvider,
    base: Path,
    client: str,
    *,
    config: str | None = None,
    init_options: Any = None,
) -> AsyncIterator[EditorClient]:
    """`tierwise serve` over stdio for a fresh workspace of this fake (make_workspace), as the
    editor `client` ("vscode", "neovim") initializes it; `config` replaces the user config.
    The home is on `client.home`; the server is shut down after."""
    home, root = make_workspace(base, fake)
    if config is not None:
        (home / "config.toml").write_text(config, encoding="utf-8")
    editor = await start(home, root, CLIENTS[client], init_options=init_options)
    editor.home = home
    try:
        yield editor
    finally:
        await stop(editor)


@contextlib.contextmanager
def answering(responder: Callable[[dict[str, Any]], str]) -> Iterator[FakeProvider]:
    """A fake provider whose replies `responder` writes from each request body."""
    with FakeProvider() as server:
        server.responder = responder
        yield server


def ledger_rows(home: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of a workspace server's own ledger (under `home`/data)."""
    con = sqlite3.connect(next((home / "data").glob("*.sqlite3")))
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()
