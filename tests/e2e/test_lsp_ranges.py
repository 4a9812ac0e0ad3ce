"""Code action ranges as real editors send them, over stdio: a range is not always a selection.

What each editor sends (checked against their sources and, for eglot 1.9, in Emacs; see
docs/lsp.md "What a range means"):
- VS Code: the selection; an empty range at the cursor when nothing is selected; a whole-line
  selection runs from column 0 of the first line to column 0 of the line after the last.
- Neovim 0.12 (`vim.lsp.buf.code_action`): an empty range at the cursor in normal mode; in
  linewise visual mode (`V`) column 0 of the first line to the end of the last line.
- eglot 1.9: the bounds of the expression at point: the whole function with the cursor inside
  `def`, the name, the parameter list, a name in the body; an empty range at a line start.

A range that covers exactly one definition, or lies inside its header, means that definition;
so does one name. Docstring and Rename are then listed just as for the cursor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.e2e.conftest import SHOP, workspace_editor
from tests.e2e.lsp_helpers import CLIENTS, EditorClient, raw_request, to_position
from tests.fakes.wire import FakeProvider

pytestmark = pytest.mark.asyncio(loop_scope="module")

LINES = SHOP.split("\n")


def at(needle: str, *, after: bool = False, line_end: bool = False) -> dict[str, int]:
    """A position in SHOP: at (or after) the first occurrence, or at the end of its line."""
    offset = SHOP.index(needle) + (len(needle) if after else 0)
    position = to_position(SHOP, offset, "utf-16")
    if line_end:
        return {"line": position.line, "character": len(LINES[position.line])}
    return {"line": position.line, "character": position.character}


def word(needle: str, length: int) -> tuple[dict[str, int], dict[str, int]]:
    """The range of the first `length` characters of the first occurrence of `needle`."""
    start = at(needle)
    return start, {"line": start["line"], "character": start["character"] + length}


def line_start(needle: str, delta: int = 0) -> dict[str, int]:
    return {"line": at(needle)["line"] + delta, "character": 0}


PARSE_ORDER_END = 'return {"id": parts[0], "qty": qty}'
SHAPES: dict[str, dict[str, tuple[dict[str, int], dict[str, int]]]] = {
    "vscode": {
        "cursor in the body": (at("parts = line.split"), at("parts = line.split")),
        "whole lines selected": (line_start("def parse_order"), line_start(PARSE_ORDER_END, 1)),
        "name double-clicked": (at("parse_order"), at("parse_order", after=True)),
    },
    "neovim": {
        "normal mode cursor": (at("qty = int"), at("qty = int")),
        "linewise visual": (line_start("def parse_order"), at(PARSE_ORDER_END, line_end=True)),
        "linewise visual on a method": (
            line_start("def weight"),
            at("return sum(i.kg", line_end=True),
        ),
    },
    "minimal": {  # eglot 1.9's shapes (its capabilities are close to a minimal client's)
        "cursor inside def: the whole function": (
            at("def parse_order"),
            at(PARSE_ORDER_END, after=True),
        ),
        "cursor on the name": (at("parse_order"), at("parse_order", after=True)),
        "cursor on the parenthesis: the parameters": word("(line: str) -> dict", 11),
        "cursor on a name in the body": word("int(parts[1])", 3),
        "cursor at the line start": (line_start("def parse_order"), line_start("def parse_order")),
    },
}
CASES = [(client, shape) for client, shapes in SHAPES.items() for shape in shapes]


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=list(SHAPES))
async def editor(
    request: pytest.FixtureRequest, fake: FakeProvider, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[EditorClient]:
    async with workspace_editor(fake, tmp_path_factory.mktemp(request.param), request.param) as c:
        yield c


def client_name(editor: EditorClient) -> str:
    return next(name for name, caps in CLIENTS.items() if caps == editor.capabilities)


async def listed(editor: EditorClient, start: dict[str, int], end: dict[str, int]) -> list[str]:
    """The action names listed for a range, with the tier each is routed to."""
    uri = editor.open(editor.root / "shop.py")  # type: ignore[operator]
    params = {
        "textDocument": {"uri": uri},
        "range": {"start": start, "end": end},
        "context": {"diagnostics": []},
    }
    items: list[Any] = await raw_request(
        editor, f"r-{id(params)}", "textDocument/codeAction", params
    )
    return sorted(
        " · ".join(item["title"].split(" · ")[:2]) for item in items or [] if "title" in item
    )


async def test_each_editors_ranges_mean_the_definition(editor: EditorClient) -> None:
    name = client_name(editor)
    reference = await listed(editor, at("parts = line.split"), at("parts = line.split"))
    assert {t.split(" · ")[0] for t in reference} >= {"Docstring", "Rename", "Review"}
    for shape, (first, last) in SHAPES[name].items():
        got = await listed(editor, first, last)
        expected = reference
        if "method" in shape:
            expected = await listed(editor, at("heavy = [i"), at("heavy = [i"))
            assert {t.split(" · ")[0] for t in expected} >= {"Docstring", "Rename"}
        assert got == expected, f"{name}: {shape}"


async def test_a_real_selection_is_still_a_selection(editor: EditorClient) -> None:
    body = await listed(editor, at("parts = line.split"), at("qty = int(parts[1])", after=True))
    two = await listed(editor, line_start("def add"), at(PARSE_ORDER_END, after=True))
    for titles in (body, two):
        names = {t.split(" · ")[0] for t in titles}
        assert "Docstring" not in names and "Rename" not in names, titles
        assert "Review" in names


async def test_running_on_an_eglot_range_documents_the_function(editor: EditorClient) -> None:
    uri = editor.open(editor.root / "shop.py")  # type: ignore[operator]
    start, end = SHAPES["minimal"]["cursor inside def: the whole function"]
    result = await editor.command(
        "tierwise.run",
        {
            "action": "docstring",
            "uri": uri,
            "range": {"start": start, "end": end},
            "tier": "static",
        },
    )
    assert result["target"]["name"] == "parse_order" and result["target"]["kind"] == "function"
