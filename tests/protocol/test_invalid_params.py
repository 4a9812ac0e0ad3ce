"""Fixed reproducers: InvalidParams names the field, what was expected and what came.

Before: about 8% of malformed requests got raw Python text ("'list' object has no attribute
'keys'", "got NoneType"), `"only": [1]` gave -32603 with a TypeError, and errors repeated a
1 MB input in full.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.protocol.test_fuzz_server import assert_clean
from tests.rpc import RpcServer

MB = "x" * 1_000_000


def shop(workspace: tuple[Path, Path]) -> str:
    return (workspace[1] / "shop.py").as_uri()


def code_action(uri: str, context: Any) -> dict[str, Any]:
    here = {"line": 5, "character": 4}
    return {"textDocument": {"uri": uri}, "range": {"start": here, "end": here}, "context": context}


def execute(command: str, *arguments: Any) -> dict[str, Any]:
    return {"command": command, "arguments": list(arguments)}


CASES: list[tuple[str, str, Any, str]] = [
    (
        "only holds a number",
        "textDocument/codeAction",
        lambda uri: code_action(uri, {"diagnostics": [], "only": [1]}),
        "context.only[0]: expected a code action kind (a string), got a number 1",
    ),
    (
        "only is a string",
        "textDocument/codeAction",
        lambda uri: code_action(uri, {"diagnostics": [], "only": "refactor"}),
        "$.params.context.only: expected an array of strings, got a string 'refactor'",
    ),
    (
        "a diagnostic without a range",
        "textDocument/codeAction",
        lambda uri: code_action(uri, {"diagnostics": [{"message": "m"}]}),
        "$.params.context.diagnostics[0].range: required key missing",
    ),
    (
        "a line that is a string",
        "textDocument/codeAction",
        lambda uri: {
            **code_action(uri, {"diagnostics": []}),
            "range": {"start": {"line": "5", "character": 0}, "end": {"line": 5, "character": 0}},
        },
        "$.params.range.start.line: expected an integer, got a string '5'",
    ),
    (
        "a line past the LSP's integers",
        "textDocument/codeAction",
        lambda uri: {
            **code_action(uri, {"diagnostics": []}),
            "range": {"start": {"line": 2**31, "character": 0}, "end": {"line": 0, "character": 0}},
        },
        "$.params.range.start.line: expected an integer from 0 to 2147483647, "
        "got a number 2147483648",
    ),
    (
        "arguments is a boolean",
        "workspace/executeCommand",
        lambda uri: {"command": "tierwise.run", "arguments": False},
        "$.params.arguments: expected an array of any values, got a boolean False",
    ),
    (
        "a position that is a list",
        "workspace/executeCommand",
        lambda uri: execute("tierwise.run", {"action": "review", "uri": uri, "position": [5, 4]}),
        "argument.position: expected an object or null, got an array",
    ),
    (
        "an argument that is null",
        "workspace/executeCommand",
        lambda uri: execute("tierwise.setTier", None),
        "tierwise.setTier: argument 1 must be an object {tier}, got null",
    ),
    (
        "a 1 MB action",
        "workspace/executeCommand",
        lambda uri: execute(
            "tierwise.run", {"action": MB, "uri": uri, "position": {"line": 5, "character": 4}}
        ),
        "(1000000 characters); expected one of: docstring, rename, explain, review, design",
    ),
    (
        "a 1 MB tier",
        "workspace/executeCommand",
        lambda uri: execute("tierwise.setTier", {"tier": MB}),
        "unknown tier 'xxxxxxxx",
    ),
    (
        "a 1 MB command",
        "workspace/executeCommand",
        lambda uri: execute(MB),
        "(1000000 characters); known: tierwise.applyRename",
    ),
    (
        "a 1 MB unknown key",
        "workspace/executeCommand",
        lambda uri: execute("tierwise.setTier", {"tier": "auto", MB: 1}),
        "argument: unknown key(s) xxxx",
    ),
    (
        "a 1 MB URI that is not open",
        "workspace/executeCommand",
        lambda uri: execute(
            "tierwise.run",
            {"action": "review", "uri": f"file:///{MB}", "position": {"line": 0, "character": 0}},
        ),
        "(1000008 characters) is not open",
    ),
    (
        "escalate on a 1 MB URI",
        "workspace/executeCommand",
        lambda uri: execute("tierwise.escalate", {"uri": f"file:///{MB}"}),
        "nothing to escalate on file:///xxxx",
    ),
    (
        "a 1 MB method",
        MB,
        lambda uri: {},
        "unknown method 'xxxx",
    ),
]


@pytest.mark.parametrize(("name", "method", "params", "message"), CASES, ids=[c[0] for c in CASES])
def test_invalid_params_say_where_what_and_got_briefly(
    server: RpcServer,
    workspace: tuple[Path, Path],
    name: str,
    method: str,
    params: Any,
    message: str,
) -> None:
    reply = server.request(method, params(shop(workspace)))
    assert_clean(reply, name)
    error = reply["error"]
    assert error["code"] in (-32602, -32601), error
    assert message in error["message"], error["message"][:300]
    assert len(error["message"]) < 400
    server.ping()
