"""initialize, shutdown and exit in the order the LSP gives them, over the real stdio server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.protocol.conftest import spawn
from tests.rpc import RpcServer

NOT_INITIALIZED, INVALID_REQUEST = -32002, -32600


@pytest.fixture
def fresh(workspace: tuple[Path, Path]) -> Iterator[RpcServer]:
    """A server that has not been initialized."""
    rpc = spawn(workspace[0])
    yield rpc
    rpc.close()


def test_requests_before_initialize_get_server_not_initialized(
    fresh: RpcServer, workspace: tuple[Path, Path]
) -> None:
    reply = fresh.request("workspace/executeCommand", {"command": "tierwise.stats"})
    assert reply["error"]["code"] == NOT_INITIALIZED
    assert "send initialize before 'workspace/executeCommand'" in reply["error"]["message"]
    # A notification before initialize is dropped; the session then starts normally.
    fresh.open((workspace[1] / "shop.py").as_uri(), "x = 1\n")
    assert fresh.request("shutdown")["error"]["code"] == NOT_INITIALIZED
    fresh.initialize(workspace[1])
    stats = fresh.request("workspace/executeCommand", {"command": "tierwise.stats"})
    assert "result" in stats, stats
    assert fresh.exit() == 0


def test_a_second_initialize_is_refused(fresh: RpcServer, workspace: tuple[Path, Path]) -> None:
    fresh.initialize(workspace[1])
    reply = fresh.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    assert reply["error"]["code"] == INVALID_REQUEST
    assert "initialize was already received" in reply["error"]["message"]
    fresh.ping()


def test_requests_after_shutdown_are_invalid_and_exit_then_exits_0(
    fresh: RpcServer, workspace: tuple[Path, Path]
) -> None:
    fresh.initialize(workspace[1])
    assert fresh.request("shutdown") == {"jsonrpc": "2.0", "id": 2, "result": None}
    for method, params in [
        ("workspace/executeCommand", {"command": "tierwise.stats"}),
        ("textDocument/codeAction", {}),
        ("tierwise/ping", {}),
    ]:
        reply = fresh.request(method, params)
        assert reply["error"]["code"] == INVALID_REQUEST, reply
        assert "after shutdown" in reply["error"]["message"]
    fresh.notify("textDocument/didClose", {"textDocument": {"uri": "file:///x.py"}})
    fresh.notify("exit")
    assert fresh.wait() == 0


def test_exit_without_shutdown_exits_1(fresh: RpcServer, workspace: tuple[Path, Path]) -> None:
    fresh.initialize(workspace[1])
    fresh.notify("exit")
    assert fresh.wait() == 1


def test_exit_before_initialize_exits_1(fresh: RpcServer) -> None:
    fresh.notify("exit")
    assert fresh.wait() == 1


def test_the_end_of_input_without_exit_ends_the_server(
    fresh: RpcServer, workspace: tuple[Path, Path]
) -> None:
    fresh.initialize(workspace[1])
    assert fresh.process.stdin is not None
    fresh.send_raw(b"Content-Length: 99\r\n\r\n{")  # cut off mid-message
    fresh.process.stdin.close()
    assert fresh.wait(timeout=30) == 1


@pytest.mark.parametrize("attempt", range(5))
def test_shutdown_right_after_initialized_succeeds(
    attempt: int, fresh: RpcServer, workspace: tuple[Path, Path]
) -> None:
    # pygls cancels every pending future while iterating its table; our done-callback edited
    # the table ("dictionary changed size during iteration", -32603, not marked shut down).
    # The client's workspace/configuration answer is what `initialized` is still waiting for.
    caps = {"general": {"positionEncodings": ["utf-16"]}, "workspace": {"configuration": True}}
    if attempt < 3:
        fresh.unanswered.add("workspace/configuration")  # `initialized` is still running
    reply = fresh.request(
        "initialize",
        {"processId": None, "rootUri": workspace[1].as_uri(), "capabilities": caps},
    )
    assert "result" in reply
    fresh.notify("initialized", {})
    if attempt % 2:
        time.sleep(0.05 * attempt)
    assert fresh.request("shutdown") == {"jsonrpc": "2.0", "id": 2, "result": None}
    after = fresh.request("tierwise/ping")
    assert after["error"]["code"] == INVALID_REQUEST  # marked shut down
    fresh.notify("exit")
    assert fresh.wait() == 0


def test_an_initialize_with_bad_params_can_be_sent_again(
    fresh: RpcServer, workspace: tuple[Path, Path]
) -> None:
    bad = fresh.request("initialize", {"processId": "x", "capabilities": {}})
    assert bad["error"]["code"] == -32602
    assert "$.params.processId: expected an integer, got a string 'x'" in bad["error"]["message"]
    still = fresh.request("workspace/executeCommand", {"command": "tierwise.stats"})
    assert still["error"]["code"] == NOT_INITIALIZED
    fresh.initialize(workspace[1])
    assert "result" in fresh.request("workspace/executeCommand", {"command": "tierwise.stats"})
