"""Random and malformed requests to the real `tierwise serve`, one long-lived process.

After every case: the request got a result or a JSON-RPC error within the hang bound, the
error is not -32603 and carries no raw Python error text or a long echo of the input, and a
bare round trip right after is answered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.protocol.conftest import spawn
from tests.protocol.fuzzing import count, examples
from tests.protocol.strategies import code_action_params, command_arguments, json_value, weird_text
from tests.protocol.test_framing_fuzz import HEADER_DAMAGE
from tests.rpc import RpcServer

COMMANDS = [
    "tierwise.run",
    "tierwise.route",
    "tierwise.setTier",
    "tierwise.escalate",
    "tierwise.stats",
    "tierwise.clearCache",
    "tierwise.applyRename",
    "tierwise.fixChosen",
]
# Python's voice: what a message must never show the user.
PYTHON_TEXT = re.compile(
    r"Traceback|object has no attribute|NoneType|positional argument|unexpected keyword|"
    r"not subscriptable|not iterable|unhashable|object is not|__(init|call|dict|getitem)__|<class |"
    r"\b(Type|Key|Attribute|Index|Value|Unicode\w*|Recursion|Overflow)Error\b|"
    r"ClassValidationError|While structuring"
)
MAX_MESSAGE = 800  # characters: enough to name the field and the problem, never an echo


def _strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def without_echoes(message: str, what: Any) -> str:
    """The message with the client's own strings taken out (whole, quoted or cut short).

    A method named `__dict__` is echoed in "unknown method '__dict__'": that is the client's
    text, not Python's, so only what the server wrote itself is searched for Python's voice.
    """
    for text in sorted(set(_strings(what)), key=len, reverse=True):
        quoted = repr(text)
        if quoted in message:
            message = message.replace(quoted, "'…'")
            continue
        for cut in range(min(len(quoted), 200), 7, -1):  # clip() keeps a prefix, then "…"
            if quoted[:cut] + "…" in message:
                message = message.replace(quoted[:cut] + "…", "'…")
                break
        else:
            if len(text) >= 6:  # unknown keys are named without quotes
                message = message.replace(text[:30], "…")
    return message


def assert_clean(reply: dict[str, Any], what: Any) -> None:
    """A result, or an error that a user can read."""
    assert ("result" in reply) != ("error" in reply), reply
    if "error" not in reply:
        return
    error = reply["error"]
    message = error.get("message", "")
    assert error.get("code") != -32603, (what, error)
    assert "data" not in error or "traceback" not in json.dumps(error["data"]), (what, error)
    assert not PYTHON_TEXT.search(without_echoes(message, what)), (what, message)
    assert len(message) <= MAX_MESSAGE, (what, message[:300])


@pytest.fixture(scope="module")
def fuzzed(workspace: tuple[Path, Path]) -> Iterator[RpcServer]:
    """A server with two documents open: shop.py (Python) and a C file."""
    home, root = workspace
    rpc = spawn(home)
    rpc.initialize(root)
    rpc.open((root / "shop.py").as_uri(), (root / "shop.py").read_text(encoding="utf-8"))
    rpc.open((root / "main.c").as_uri(), "int main(void) {\n  return 0;\n}\n", language="c")
    yield rpc
    rpc.close()


def open_uris(root: Path) -> list[str]:
    return [(root / "shop.py").as_uri(), (root / "main.c").as_uri()]


def call(rpc: RpcServer, method: str, params: Any) -> dict[str, Any]:
    ident = rpc.next_id()
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": ident, "method": method}
    if params is not ...:
        message["params"] = params
    rpc.send(message)
    return rpc.response(ident)


@examples(1200)
@given(data=st.data())
def test_commands_with_random_arguments_are_answered_cleanly(
    fuzzed: RpcServer, workspace: tuple[Path, Path], data: st.DataObject
) -> None:
    count("server: commands")
    other = st.just("tierwise.nope") | weird_text
    pick = st.integers(0, 9).flatmap(lambda i: st.sampled_from(COMMANDS) if i < 8 else other)
    command = data.draw(pick, "command")
    arguments = data.draw(command_arguments(command, open_uris(workspace[1])), "arguments")
    params: dict[str, Any] = {"command": command}
    if arguments is not None:
        params["arguments"] = arguments
    reply = call(fuzzed, "workspace/executeCommand", params)
    assert_clean(reply, params)
    fuzzed.ping()


@examples(1200)
@given(data=st.data())
def test_code_actions_with_random_params_are_answered_cleanly(
    fuzzed: RpcServer, workspace: tuple[Path, Path], data: st.DataObject
) -> None:
    count("server: codeAction")
    params = data.draw(code_action_params(open_uris(workspace[1])), "params")
    reply = call(fuzzed, "textDocument/codeAction", params)
    assert_clean(reply, params)
    fuzzed.ping()


LSP_METHODS = [
    "textDocument/codeAction",
    "workspace/executeCommand",
    "textDocument/hover",
    "textDocument/completion",
    "$/cancelRequest",
    "$/setTrace",
    "workspace/didChangeWatchedFiles",
    "textDocument/didSave",
    "window/workDoneProgress/cancel",
    "codeAction/resolve",
]


@examples(600)
@given(
    method=st.sampled_from(LSP_METHODS) | weird_text,
    params=json_value | st.just(...),
    notification=st.booleans(),
)
def test_any_method_with_any_params_is_answered_or_ignored(
    fuzzed: RpcServer, method: str, params: Any, notification: bool
) -> None:
    count("server: methods")
    if notification:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not ...:
            message["params"] = params
        fuzzed.send(message)
    else:
        assert_clean(call(fuzzed, method, params), (method, params))
    fuzzed.ping()


@pytest.fixture(scope="module")
def documents(workspace: tuple[Path, Path]) -> Iterator[RpcServer]:
    """A server for document churn (opened, changed and closed at random)."""
    home, root = workspace
    rpc = spawn(home)
    rpc.initialize(root)
    yield rpc
    rpc.close()


@examples(500)
@given(data=st.data())
def test_document_notifications_with_random_params_never_break_the_server(
    documents: RpcServer, workspace: tuple[Path, Path], data: st.DataObject
) -> None:
    count("server: document sync")
    target = (workspace[1] / "churn.py").as_uri()
    uri = data.draw(st.just(target) | weird_text | json_value, "uri")
    change = data.draw(
        st.fixed_dictionaries(
            {"text": weird_text},
            optional={
                "range": st.fixed_dictionaries({"start": json_value, "end": json_value})
                | json_value,
            },
        )
        | json_value,
        "change",
    )
    kind = data.draw(st.sampled_from(["didOpen", "didChange", "didClose", "didSave"]), "kind")
    params: Any = {
        "didOpen": {
            "textDocument": {
                "uri": uri,
                "languageId": data.draw(weird_text),
                "version": 1,
                "text": data.draw(weird_text),
            }
        },
        "didChange": {
            "textDocument": {"uri": uri, "version": data.draw(json_value)},
            "contentChanges": [change],
        },
        "didClose": {"textDocument": {"uri": uri}},
        "didSave": {"textDocument": {"uri": uri}},
    }[kind]
    documents.notify(f"textDocument/{kind}", params)
    reply = call(
        documents,
        "workspace/executeCommand",
        {
            "command": "tierwise.route",
            "arguments": [
                {"action": "review", "uri": target, "position": {"line": 0, "character": 0}}
            ],
        },
    )
    assert_clean(reply, params)
    documents.ping()


@examples(100)  # each may wait out the quiet period; the parser's own fuzz runs thousands
@given(
    damage=st.lists(st.sampled_from(sorted(HEADER_DAMAGE)), min_size=1, max_size=3),
    garbage=st.binary(max_size=200).filter(lambda b: b"content-length" not in b.lower()),
    split=st.integers(0, 400),
)
def test_random_framing_over_stdio_gets_each_request_answered(
    fuzzed: RpcServer, damage: list[str], garbage: bytes, split: int
) -> None:
    count("server: framing")
    data, sent = b"", []
    for kind in damage:
        ident = fuzzed.next_id()
        body = json.dumps({"jsonrpc": "2.0", "id": ident, "method": "tierwise/probe"}).encode()
        data += HEADER_DAMAGE[kind](body)
        sent.append((ident, kind))
    data = data + garbage
    fuzzed.send_raw(data[:split])
    fuzzed.send_raw(data[split:])
    lost, swallowing = set(), False
    for ident, kind in sent:
        if swallowing and kind in ("missing", "no headers"):
            lost.add(ident)
        else:
            swallowing = kind == "oversized"
    for ident, _kind in sent:
        if ident in lost:
            continue
        reply = fuzzed.response(ident)
        assert reply["error"]["code"] in (-32601, -32700, -32600), reply
    fuzzed.ping()
    assert fuzzed.output_problems == []
