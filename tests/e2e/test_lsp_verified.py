"""A cheap answer that fails its check, through `tierwise serve`: retried one tier up, the note
in the result the editor gets, the retry in the ledger (docs/routing.md, "Verified answers")."""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from tests.e2e.conftest import SHOP, answering, ledger_rows, workspace_editor
from tests.e2e.lsp_helpers import EditorClient, supports
from tests.fakes.wire import FakeProvider

pytestmark = pytest.mark.asyncio(loop_scope="module")

FLAWED = "Add two numbers.\n\nArgs:\n    a: The first number.\n\nReturns:\n    The sum."
GOOD = (
    "Add two numbers.\n\nArgs:\n    a: The first number.\n    b: The second number.\n\n"
    "Returns:\n    The sum."
)


def reply(body: dict[str, Any]) -> str:
    """Budget models forget `b`; every other tier documents both parameters."""
    return FLAWED if body["model"] in ("claude-haiku-4-5", "gpt-5-nano") else GOOD


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProvider]:
    with answering(reply) as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def editor(
    fake: FakeProvider, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[EditorClient]:
    async with workspace_editor(fake, tmp_path_factory.mktemp("verified"), "vscode") as client:
        yield client


async def test_a_docstring_that_fails_its_check_is_answered_one_tier_up(
    editor: EditorClient,
) -> None:
    uri = editor.open(editor.root / "shop.py")  # type: ignore[operator]
    here = editor.position(uri, "total = a + b")
    result = await editor.command(
        "tierwise.run",
        {"action": "docstring", "uri": uri, "position": {"line": here.line, "character": 4}},
    )
    note = "budget's answer failed the check 'parameter b not documented'; answered by mid"
    assert result["tier"] == "mid" and note in result["warnings"]
    assert supports(editor, "workspace.apply_edit") and result["applied"] is True
    tree = ast.parse(editor.texts[uri])
    functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    assert ast.get_docstring(functions["add"]) == GOOD  # the retry's answer, not budget's
    before = {f.name: f for f in ast.parse(SHOP).body if isinstance(f, ast.FunctionDef)}
    assert ast.get_docstring(before["add"]) is None
    rows = ledger_rows(
        editor.home,
        "SELECT tier, verified, failed_check, escalated_from, applied FROM requests"
        " WHERE action = 'docstring' ORDER BY id",
    )
    # The applied edit is marked on the row of the answer that was applied: the retry's.
    assert rows == [("budget", 0, "docstring.params", "", None), ("mid", 1, "", "budget", 1)]
