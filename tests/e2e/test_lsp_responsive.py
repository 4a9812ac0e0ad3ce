"""The server keeps answering while a request works on a huge or hostile document, refuses a
document over server.max_file_bytes at once, and answers a request past its work budget with
an error. No timing is asserted beyond generous hang bounds: the proof is the order in which
answers arrive (a ping sent after a slow request is answered before it)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.e2e.conftest import make_workspace
from tests.e2e.lsp_helpers import CLIENTS, EditorClient, start, stop, user_config, wait_for
from tests.fakes.wire import FakeProvider

pytestmark = pytest.mark.asyncio(loop_scope="module")

HANG_BOUND_S = 60  # a generous bound: far above any answer, far below "never"
_ids = itertools.count(1)


def c_functions(count: int) -> str:
    """An ordinary C file of `count` small functions (about 87 bytes each)."""
    return "#include <stdio.h>\n\n" + "".join(
        f"static int compute_{i}(int a, int b) {{\n    if (a > b) {{ return a - {i}; }}\n"
        f"    return b + {i};\n}}\n\n"
        for i in range(count)
    )


HOSTILE = c_functions(9_500)  # 0.95 MB: under the 1 MiB default limit, and slow to route


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def editor(
    fake: FakeProvider, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[EditorClient]:
    home, root = make_workspace(tmp_path_factory.mktemp("responsive"), fake)
    client = await start(home, root, CLIENTS["vscode"])
    yield client
    await stop(client)


def workspace(client: EditorClient) -> Path:
    """The client's workspace root (set by `start`)."""
    assert client.root is not None
    return client.root


def send(client: EditorClient, method: str, params: Any) -> tuple[str, asyncio.Future[Any]]:
    """Send a raw request now; its id and a future of (result or error dict)."""
    msg_id = f"responsive-{next(_ids)}"
    future: Future[Any] = Future()
    client.protocol._request_futures[msg_id] = future
    client.protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    return msg_id, asyncio.wrap_future(future)


async def answer(future: asyncio.Future[Any]) -> Any:
    """The result, or the JSON-RPC error as {"code", "message"}."""
    try:
        return await asyncio.wait_for(asyncio.shield(future), HANG_BOUND_S)
    except JsonRpcException as exc:
        return {"code": exc.code, "message": exc.message}


def target_name(result: Any) -> str:
    """The routed target's name from a tierwise.route result (a dict or a decoded object)."""
    target = result["target"] if isinstance(result, dict) else result.target
    return str(target["name"] if isinstance(target, dict) else target.name)


def open_doc(client: EditorClient, root: Path, name: str, text: str, language: str) -> str:
    uri = (root / name).as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )
    return uri


def route_params(uri: str, line: int) -> dict[str, Any]:
    return {
        "command": "tierwise.route",
        "arguments": [{"action": "review", "uri": uri, "position": {"line": line, "character": 4}}],
    }


async def test_a_ping_is_answered_while_a_hostile_document_is_routed(
    editor: EditorClient,
) -> None:
    uri = open_doc(editor, workspace(editor), "hostile.c", HOSTILE, "c")
    last = HOSTILE.count("\n") - 3
    _, slow = send(editor, "workspace/executeCommand", route_params(uri, last))
    _, ping = send(editor, "tierwise/noSuchMethod", {})
    done, _ = await asyncio.wait({slow, ping}, timeout=HANG_BOUND_S, return_when="FIRST_COMPLETED")
    assert ping in done and slow not in done, "the ping waited for the hostile document"
    assert (await answer(ping))["code"] == -32601  # answered by the server, as unknown
    routed = await answer(slow)
    assert target_name(routed) == "compute_9499", routed


async def test_a_big_python_module_is_parsed_in_a_child_process_and_routed(
    fake: FakeProvider, tmp_path: Path
) -> None:
    # Over the size parsed apart (engine/apart.py, 250,000 characters): the server spawns its
    # child. A generous work bound: this checks the result, not the time, on a loaded machine.
    home, root = make_workspace(tmp_path, fake)
    (home / "config.toml").write_text(
        user_config(fake, "\n[server]\nwork_timeout_s = 120\n"), encoding="utf-8"
    )
    big = "".join(
        f"def handler_{n}(request, value={n}):\n    return request.get(value) or {n}\n\n\n"
        for n in range(3_400)
    )
    assert 250_000 < len(big) < 300_000
    client = await start(home, root, CLIENTS["minimal"])
    try:
        uri = open_doc(client, root, "big.py", big, "python")
        routed = await answer(
            send(client, "workspace/executeCommand", route_params(uri, big.count("\n") - 3))[1]
        )
        assert "code" not in routed, routed
        assert target_name(routed) == "handler_3399", routed
        failed = [m.message for m in client.log_messages if "separate process" in m.message]
        assert not failed, failed  # the child parsed it: no fallback to parsing in the server
    finally:
        await stop(client)


async def test_a_cancelled_request_on_a_hostile_document_is_answered_at_once(
    editor: EditorClient,
) -> None:
    uri = open_doc(
        editor, workspace(editor), "hostile2.c", HOSTILE.replace("compute_", "calc_"), "c"
    )
    last = HOSTILE.count("\n") - 3
    _, first = send(editor, "workspace/executeCommand", route_params(uri, last))
    cancelled_id, cancelled = send(editor, "workspace/executeCommand", route_params(uri, last))
    editor.protocol._send_data(
        {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": cancelled_id}}
    )
    done, _ = await asyncio.wait(
        {first, cancelled}, timeout=HANG_BOUND_S, return_when="FIRST_COMPLETED"
    )
    assert cancelled in done, "the cancellation waited for the work to finish"
    assert (await answer(cancelled))["code"] == -32800  # RequestCancelled
    assert target_name(await answer(first)) == "calc_9499"


async def test_a_document_over_max_file_bytes_is_refused_with_the_setting(
    editor: EditorClient,
) -> None:
    big = "def f():\n    return 1\n\n\n" * 60_000  # 1.4 MB of Python
    uri = open_doc(editor, workspace(editor), "huge.py", big, "python")
    refused = await answer(send(editor, "workspace/executeCommand", route_params(uri, 1))[1])
    assert refused["code"] == -32602, refused
    assert "server.max_file_bytes" in refused["message"]
    assert "1,440,000 bytes" in refused["message"]
    listed = await answer(
        send(
            editor,
            "textDocument/codeAction",
            {
                "textDocument": {"uri": uri},
                "range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 0}},
                "context": {"diagnostics": []},
            },
        )[1]
    )
    assert listed == []
    await wait_for(
        lambda: any("server.max_file_bytes" in m.message for m in editor.messages),
        what="one message naming the setting",
    )
    assert (await answer(send(editor, "tierwise/noSuchMethod", {})[1]))["code"] == -32601


async def test_work_past_its_budget_is_an_error_not_a_hang(
    fake: FakeProvider, tmp_path: Path
) -> None:
    home, root = make_workspace(tmp_path, fake)
    (home / "config.toml").write_text(
        # A bound far below any machine's time to extract a 0.95 MB document it has never seen
        # (seconds here, hundreds of milliseconds on a fast quiet machine). The server judges it
        # by the time the work took, so a loop that only saw the deadline once the work was done
        # (the work held the GIL) still refuses: a fresh-clone run was answered before that.
        user_config(fake, "\n[server]\nwork_timeout_s = 0.001\n"),
        encoding="utf-8",
    )
    client = await start(home, root, CLIENTS["minimal"])
    try:
        uri = open_doc(client, root, "hostile.c", HOSTILE, "c")
        failed = await answer(
            send(client, "workspace/executeCommand", route_params(uri, HOSTILE.count("\n") - 3))[1]
        )
        assert isinstance(failed, dict), f"answered instead of refused: {failed}"
        assert failed["code"] == -32803, failed  # RequestFailed
        assert "server.work_timeout_s" in failed["message"]
        assert (await answer(send(client, "tierwise/noSuchMethod", {})[1]))["code"] == -32601
    finally:
        await stop(client)
