"""Cache and ledger faults under a running `tierwise serve`: a directory that is read-only, full,
corrupt or deleted while running, and two servers sharing one cache and one ledger under load.
Nothing crashes, every request is answered and recorded, no answer is served for another
target, no ledger row is lost."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import make_workspace
from tests.e2e.lsp_helpers import CLIENTS, EditorClient, start, stop
from tests.fakes.wire import FakeProvider

# Root (as in CI) ignores permission bits: drop the capabilities that let it, so that a
# read-only directory is read-only for the server as it is for any user.
AS_AN_ORDINARY_OWNER: tuple[str, ...] = (
    ("setpriv", "--bounding-set", "-dac_override,-dac_read_search") if os.geteuid() == 0 else ()
)


def ledger_rows(home: Path) -> list[dict[str, Any]]:
    """Every ledger row, oldest first."""
    path = home / "data" / "ledger.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        con.row_factory = sqlite3.Row
        return [dict(row) for row in con.execute("SELECT * FROM requests ORDER BY rowid")]


def explain_args(client: EditorClient, uri: str, needle: str) -> dict[str, Any]:
    """tierwise.run explain at `needle`, on mid: a named tier, so asking again does not escalate
    (and so miss the cache) as a repeated ask of an automatically routed request would."""
    here = client.position(uri, needle)
    return {
        "action": "explain",
        "uri": uri,
        "tier": "mid",
        "position": {"line": here.line, "character": here.character},
    }


async def cached(client: EditorClient, entries: int) -> None:
    """Wait until the server's cache holds `entries` answers (its writes are deferred)."""

    async def count() -> int:
        stats = await client.command("tierwise.stats")
        return int(stats.get("cache", {}).get("entries", 0))

    deadline = asyncio.get_running_loop().time() + 10
    while await count() < entries:
        assert asyncio.get_running_loop().time() < deadline, "the cache write never landed"
        await asyncio.sleep(0.05)


def cache_warnings(result: dict[str, Any]) -> list[str]:
    """The result's warnings about the response cache."""
    return [w for w in result["warnings"] if "response cache" in w]


async def test_a_read_only_cache_directory_means_no_cache_one_warning_and_recorded_requests(
    tmp_path: Path, fake: FakeProvider
) -> None:
    home, root = make_workspace(tmp_path, fake)
    cache = home / "cache"
    cache.mkdir(mode=0o700)
    cache.chmod(0o500)  # r-x: it can be listed, nothing can be written
    client = await start(home, root, CLIENTS["vscode"], prefix=AS_AN_ORDINARY_OWNER)
    try:
        uri = client.open(root / "shop.py")
        first = await client.command("tierwise.run", explain_args(client, uri, "total = a + b"))
        second = await client.command("tierwise.run", explain_args(client, uri, "total = a + b"))
        third = await client.command("tierwise.run", explain_args(client, uri, "cleaned ="))
    finally:
        await stop(client)
        cache.chmod(0o700)

    (warning,) = cache_warnings(first)
    assert str(cache) in warning and "not writable (Permission denied; mode dr-x------)" in warning
    assert "close other tierwise processes" not in warning  # the old, wrong hint
    assert "running without a response cache" in warning
    assert cache_warnings(second) == cache_warnings(third) == []  # said once
    assert first["markdown"] and second["cache_hit"] is False  # answered, just not cached
    assert [r["outcome"] for r in ledger_rows(home)] == ["ok", "ok", "ok"]
    assert list(cache.iterdir()) == []


async def test_a_full_cache_directory_means_no_cache_and_recorded_requests(
    tmp_path: Path, fake: FakeProvider
) -> None:
    if (
        shutil.which("unshare") is None
        or subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode
    ):
        pytest.skip("needs a private mount namespace (unshare -m) for a small tmpfs")
    home, root = make_workspace(tmp_path, fake)
    cache = home / "cache"
    cache.mkdir()
    # A 64 KiB file system, filled to the last byte before the server starts.
    fill = 'mount -t tmpfs -o size=64k tmpfs "$0" && (cat /dev/zero > "$0/filler") 2>/dev/null'
    prefix = ("unshare", "-m", "sh", "-c", f'{fill}; exec "$@"', str(cache))
    client = await start(home, root, CLIENTS["vscode"], prefix=prefix)
    try:
        uri = client.open(root / "shop.py")
        first = await client.command("tierwise.run", explain_args(client, uri, "total = a + b"))
        second = await client.command("tierwise.run", explain_args(client, uri, "cleaned ="))
    finally:
        await stop(client)

    (warning,) = cache_warnings(first)
    assert str(cache) in warning and "full" in warning
    assert cache_warnings(second) == []
    assert first["markdown"] and second["markdown"]
    assert [r["outcome"] for r in ledger_rows(home)] == ["ok", "ok"]


async def test_a_cache_and_ledger_deleted_while_running_are_recreated_and_lose_no_row(
    tmp_path: Path, fake: FakeProvider
) -> None:
    home, root = make_workspace(tmp_path, fake)
    client = await start(home, root, CLIENTS["vscode"])
    try:
        uri = client.open(root / "shop.py")
        await client.command("tierwise.run", explain_args(client, uri, "total = a + b"))
        await cached(client, 1)
        assert ledger_rows(home) and (home / "cache" / "cache.db").exists()

        shutil.rmtree(home / "cache")
        shutil.rmtree(home / "data")
        fresh = await client.command("tierwise.run", explain_args(client, uri, "cleaned ="))
        await cached(client, 1)  # the deferred write went into a new cache directory
        again = await client.command("tierwise.run", explain_args(client, uri, "cleaned ="))
    finally:
        await stop(client)

    assert fresh["cache_hit"] is False and again["cache_hit"] is True  # cached in the new one
    assert (home / "cache" / "cache.db").exists()
    rows = ledger_rows(home)  # the ledger made after the deletion holds both later requests
    assert [(r["outcome"], bool(r["cache_hit"])) for r in rows] == [("ok", False), ("ok", True)]
    told = [m.message for m in client.messages]
    assert any("deleted while tierwise was running" in m and "ledger" in m for m in told)
    assert any("cache directory" in m and "deleted while tierwise" in m for m in told)


async def test_a_cache_corrupted_while_running_is_rebuilt_and_the_request_answers(
    tmp_path: Path, fake: FakeProvider
) -> None:
    home, root = make_workspace(tmp_path, fake)
    client = await start(home, root, CLIENTS["vscode"])
    try:
        uri = client.open(root / "shop.py")
        await client.command("tierwise.run", explain_args(client, uri, "total = a + b"))
        await cached(client, 1)
        db = home / "cache" / "cache.db"
        with db.open("r+b") as handle:  # garbage over the SQLite header and first pages
            handle.write(b"this is not a database" * 400)
        after = await client.command("tierwise.run", explain_args(client, uri, "total = a + b"))
        later = await client.command("tierwise.run", explain_args(client, uri, "cleaned ="))
    finally:
        await stop(client)

    assert after["markdown"] and later["markdown"]
    assert [r["outcome"] for r in ledger_rows(home)] == ["ok", "ok", "ok"]


# -- two servers, one cache, one ledger --------------------------------------------------------

FUNCTIONS = 12


def many_functions() -> str:
    """Functions with distinct names; pairs share a body, so only the name tells them apart."""
    out = []
    for i in range(FUNCTIONS):
        out.append(f"def step_{i}(value: int) -> int:\n    doubled = value * {i // 2 + 2}\n")
        out.append("    if doubled > 100:\n        return 100\n    return doubled\n\n\n")
    return "".join(out)


async def test_two_servers_sharing_a_cache_and_ledger_under_load_mix_nothing_and_lose_nothing(
    tmp_path: Path, fake: FakeProvider
) -> None:
    home, root = make_workspace(tmp_path, fake)
    (root / "steps.py").write_text(many_functions(), encoding="utf-8")
    clients = [await start(home, root, CLIENTS["vscode"]) for _ in range(2)]
    answers: list[tuple[int, dict[str, Any]]] = []
    try:
        uris = [c.open(root / "steps.py") for c in clients]

        def runner(client: EditorClient, uri: str) -> Callable[[int], Any]:
            def run(i: int) -> Any:
                return client.command("tierwise.run", explain_args(client, uri, f"def step_{i}("))

            return run

        for _round in range(2):  # the second round is served from the cache both wrote
            batch = []
            for client, uri in zip(clients, uris, strict=True):
                run = runner(client, uri)
                batch += [(i, run(i)) for i in range(FUNCTIONS)]
            done = await asyncio.gather(*(job for _, job in batch))
            answers += [(i, result) for (i, _), result in zip(batch, done, strict=True)]
    finally:
        for client in clients:
            await stop(client)

    assert len(answers) == 2 * 2 * FUNCTIONS
    for i, result in answers:  # every answer is about its own function, cached or not
        assert result["target"]["name"] == f"step_{i}"
        assert f"step_{i} " in result["markdown"], (i, result["markdown"])
    rows = ledger_rows(home)
    assert len(rows) == len(answers)  # not one row lost to the other writer
    assert all(r["outcome"] == "ok" for r in rows)
    assert len({r["session"] for r in rows}) == 2
    assert sum(r["cache_hit"] for r in rows) >= FUNCTIONS  # the second round hit the cache
