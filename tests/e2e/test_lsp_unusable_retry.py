"""A cheap reply that cannot be used at all, through `tierwise serve`: retried one tier up like
a failed check, the note in the result the editor gets, both rows in the ledger (docs/routing.md,
"Verified answers"). The engine's side is tests/unit/test_verified.py; this is the server's."""

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

BUDGET_MODELS = ("claude-haiku-4-5", "gpt-5-nano")
# Code where a docstring was asked for, and no docstring in it: nothing to insert.
CODE = "def add(a, b):\n    return a + b\n"
GOOD = (
    "Add two numbers.\n\nArgs:\n    a: The first number.\n    b: The second number.\n\n"
    "Returns:\n    The sum."
)


def reply(body: dict[str, Any]) -> str:
    """Budget models answer with code; every other tier with a docstring."""
    return CODE if body["model"] in BUDGET_MODELS else GOOD


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProvider]:
    with answering(reply) as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def editor(
    fake: FakeProvider, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[EditorClient]:
    async with workspace_editor(fake, tmp_path_factory.mktemp("unusable"), "neovim") as client:
        yield client


async def test_an_unusable_budget_reply_is_answered_one_tier_up(
    editor: EditorClient, fake: FakeProvider
) -> None:
    uri = editor.open(editor.root / "shop.py")  # type: ignore[operator]
    here = editor.position(uri, "total = a + b")
    asked = len(fake.requests)
    result = await editor.command(
        "tierwise.run",
        {"action": "docstring", "uri": uri, "position": {"line": here.line, "character": 4}},
    )
    models = [r.body["model"] for r in fake.requests[asked:]]
    assert models[0] in BUDGET_MODELS and models[1:] and models[-1] not in BUDGET_MODELS
    note = (
        "budget's answer could not be used (docstring reply was Python code with no docstring "
        "for 'add'; expected the docstring text only); answered by mid"
    )
    assert result["tier"] == "mid" and note in result["warnings"], result["warnings"]
    assert supports(editor, "workspace.apply_edit") and result["applied"] is True
    functions = {
        f.name: f for f in ast.parse(editor.texts[uri]).body if isinstance(f, ast.FunctionDef)
    }
    assert ast.get_docstring(functions["add"]) == GOOD
    before = {f.name: f for f in ast.parse(SHOP).body if isinstance(f, ast.FunctionDef)}
    assert ast.get_docstring(before["add"]) is None
    rows = ledger_rows(
        editor.home,
        "SELECT tier, outcome, escalated_from, applied, input_tokens > 0 FROM requests"
        " WHERE action = 'docstring' ORDER BY id",
    )
    # The unusable reply's row keeps its tokens (they were paid for) and is an error; the
    # retry's row is the answer, marked applied.
    assert rows == [("budget", "error", "", None, 1), ("mid", "ok", "budget", 1, 1)]
