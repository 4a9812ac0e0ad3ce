"""An editor that quits right after it applied an edit: the answer still reaches the ledger.

Neovim answers workspace/applyEdit and, when the user quits at once, sends shutdown and exit
straight after; the server read all three together and cancelled the job that was about to
record the answer, so an edit the user kept was missing from the ledger (and from tune).
These tests send the answer, shutdown and exit as one write, the hardest order there is.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from tests.protocol.conftest import spawn
from tests.rpc import RpcServer, frame

CAPS = {
    "general": {"positionEncodings": ["utf-16"]},
    "workspace": {"applyEdit": True},
}


def edit_events(home: Path) -> list[tuple[str, str, str]]:
    """(action, kind, status) of every edit event in the test's ledger."""
    con = sqlite3.connect(next((home / "data").glob("*.sqlite3")))
    try:
        return con.execute(
            "SELECT r.action, e.kind, e.status FROM edits e JOIN requests r"
            " ON r.id = e.request_id ORDER BY e.id"
        ).fetchall()
    finally:
        con.close()


def fresh_server(tmp_path: Path, workspace: tuple[Path, Path]) -> tuple[Path, RpcServer]:
    """A server with its own home (the module's config, an empty ledger), not initialized."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text((workspace[0] / "config.toml").read_text())
    return home, spawn(home)


def ask_for_docstring(rpc: RpcServer, root: Path) -> dict[str, Any]:
    """Open shop.py, ask for greet's docstring (static tier), wait for the server's applyEdit."""
    rpc.unanswered.add("workspace/applyEdit")
    rpc.initialize(root, CAPS)
    path = root / "shop.py"
    text = path.read_text(encoding="utf-8")
    rpc.open(path.as_uri(), text)
    line = text.split("\n").index("def greet(name: str) -> str:")
    args = {
        "action": "docstring",
        "tier": "static",
        "uri": path.as_uri(),
        "position": {"line": line, "character": 4},
    }
    rpc.send(
        {
            "jsonrpc": "2.0",
            "id": "run",
            "method": "workspace/executeCommand",
            "params": {"command": "tierwise.run", "arguments": [args]},
        }
    )
    deadline = time.monotonic() + 30
    while not any(m["method"] == "workspace/applyEdit" for m in rpc.server_requests):
        assert time.monotonic() < deadline, "the server sent no workspace/applyEdit"
        time.sleep(0.01)
    return next(m for m in rpc.server_requests if m["method"] == "workspace/applyEdit")


@pytest.mark.parametrize(
    "how",
    ["shutdown-exit", "shutdown-then-exit", "shutdown-then-eof", "answer-after-shutdown", "eof"],
)
def test_an_edit_answered_just_before_quitting_is_recorded(
    tmp_path: Path, workspace: tuple[Path, Path], how: str
) -> None:
    home, rpc = fresh_server(tmp_path, workspace)
    try:
        asked = ask_for_docstring(rpc, workspace[1])
        answer = frame({"jsonrpc": "2.0", "id": asked["id"], "result": {"applied": True}})
        shutdown = frame({"jsonrpc": "2.0", "id": "bye", "method": "shutdown"})
        exit_ = frame({"jsonrpc": "2.0", "method": "exit"})
        if how == "shutdown-exit":  # all three in one read
            rpc.send_raw(answer + shutdown + exit_)
        elif how == "shutdown-then-exit":  # as Neovim quits: exit once shutdown is answered
            rpc.send_raw(answer + shutdown)
            assert rpc.response("bye")["result"] is None
            rpc.send_raw(exit_)
        elif how == "shutdown-then-eof":  # as Neovim quits: it asks for shutdown, and is gone
            rpc.send_raw(answer + shutdown)
            assert rpc.process.stdin is not None
            rpc.process.stdin.close()
        elif how == "answer-after-shutdown":  # the edit's answer comes after the shutdown
            rpc.send_raw(shutdown)
            time.sleep(0.05)
            rpc.send_raw(answer)
            assert rpc.response("bye")["result"] is None
            rpc.send_raw(exit_)
        else:
            rpc.send_raw(answer)
            assert rpc.process.stdin is not None
            rpc.process.stdin.close()  # the editor died: no shutdown, no exit
        code = rpc.wait(30)
    finally:
        rpc.close()
    assert code == (1 if how == "eof" else 0)  # 0 once a shutdown came
    assert edit_events(home) == [("docstring", "edit", "applied")]


def test_shutdown_does_not_wait_long_for_an_edit_never_answered(
    tmp_path: Path, workspace: tuple[Path, Path]
) -> None:
    home, rpc = fresh_server(tmp_path, workspace)
    try:
        ask_for_docstring(rpc, workspace[1])
        # The editor never answers the applyEdit: shutdown is still answered, the run is
        # cancelled (not left hanging), and nothing is recorded as applied.
        assert rpc.request("shutdown", timeout=10)["result"] is None
        assert rpc.response("run", timeout=10)["error"]["code"] == -32800  # RequestCancelled
        rpc.notify("exit")
        assert rpc.wait(20) == 0
    finally:
        rpc.close()
    assert edit_events(home) == []
