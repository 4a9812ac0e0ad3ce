"""Hostile documents over the real server: every request answered within the hang bound.

The fixed list (tests/protocol/hostile.py) is what a malicious repository can hold; the
hypothesis part mixes the same ingredients at random, with positions that land anywhere
(past line ends, inside a UTF-16 surrogate pair, on line separators Python counts but the
LSP does not). The worst latency seen is printed at the end of the run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.protocol.conftest import spawn
from tests.protocol.fuzzing import LATENCIES, count, examples
from tests.protocol.hostile import HOSTILE, Hostile
from tests.protocol.test_fuzz_server import assert_clean
from tests.rpc import RpcServer

HANG_S = 30.0


def probes(uri: str, line: int, character: int) -> list[tuple[str, dict[str, Any]]]:
    """Code actions, a route and a static review at one place."""
    here = {"line": line, "character": character}
    return [
        (
            "textDocument/codeAction",
            {
                "textDocument": {"uri": uri},
                "range": {"start": here, "end": here},
                "context": {"diagnostics": []},
            },
        ),
        (
            "workspace/executeCommand",
            {
                "command": "tierwise.route",
                "arguments": [{"action": "review", "uri": uri, "position": here}],
            },
        ),
        (
            "workspace/executeCommand",
            {
                "command": "tierwise.run",
                "arguments": [{"action": "review", "tier": "static", "uri": uri, "position": here}],
            },
        ),
    ]


def probe(rpc: RpcServer, method: str, params: dict[str, Any], kind: str) -> None:
    started = time.perf_counter()
    reply = rpc.request(method, params, timeout=HANG_S)
    LATENCIES[kind] = max(LATENCIES.get(kind, 0.0), time.perf_counter() - started)
    assert_clean(reply, (method, params.get("textDocument", "")))


@pytest.fixture(scope="module")
def hostile_server(workspace: tuple[Path, Path]) -> Iterator[RpcServer]:
    home, root = workspace
    rpc = spawn(home)
    rpc.initialize(root)
    yield rpc
    rpc.close()


@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.name for h in HOSTILE])
def test_a_hostile_document_gets_every_request_answered(
    hostile: Hostile, hostile_server: RpcServer, workspace: tuple[Path, Path]
) -> None:
    rpc = hostile_server
    text = hostile.build()
    uri = (workspace[1] / f"hostile{hostile.suffix}").as_uri()
    rpc.open(uri, text, language=hostile.language)
    lines = text.count("\n")
    for line, character in [(0, 0), (lines // 2, 2), (max(lines - 1, 0), 0)]:
        for method, params in probes(uri, line, character):
            probe(rpc, method, params, "hostile documents (fixed)")
    rpc.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    rpc.ping()


# -- generated -------------------------------------------------------------------------------

PIECES = [
    "def f(a, b):\n",
    "class C:\n",
    "    ",
    "\t",
    "return a\n",
    "if x:\n",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "'",
    '"',
    '"""',
    "#",
    "\\",
    "\r\n",
    "\r",
    "\n",
    "\u2028",
    "\x0b",
    "\x0c",
    "\x85",
    "\x00",
    "\ud800",
    "\udfff",
    "🎉",
    "\U0001d523",
    "é",
    "\ufeff",
    "function g() {",
    "fn h() {",
    "func k() {",
    "    pass\n",
    ";",
    "x = 1\n",
    "@decorator\n",
]


@st.composite
def hostile_text(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.sampled_from(PIECES) | st.text(max_size=5), max_size=100))
    # Up to a few hundred KB: deep nesting, long lines, many line ends of every kind.
    repeat = draw(st.sampled_from([1, 1, 10, 40, 400]))
    return "".join(parts) * repeat


@examples(500)
@given(
    text=hostile_text(),
    language=st.sampled_from(["python", "c", "javascript", "typescript", "go", "rust", "plain"]),
    places=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 40)), min_size=1, max_size=3),
)
def test_generated_hostile_documents_get_every_request_answered(
    hostile_server: RpcServer,
    workspace: tuple[Path, Path],
    text: str,
    language: str,
    places: list[tuple[int, int]],
) -> None:
    count("hostile documents")
    uri = (workspace[1] / "generated.src").as_uri()
    hostile_server.open(uri, text, language=language)
    for line, character in places:
        for method, params in probes(uri, line, character):
            probe(hostile_server, method, params, "hostile documents (generated)")
    hostile_server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    hostile_server.ping()
