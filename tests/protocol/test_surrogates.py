"""A lone surrogate in a document, a name or a URI breaks nothing, and moves no edit.

JSON can carry `"\\ud800"` and a UTF-16 editor buffer can hold one; no UTF-8 encoder takes it.
Before the fix every model action and the static review failed with UnicodeEncodeError
(-32603) and no ledger row was written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.e2e.conftest import make_workspace
from tests.e2e.lsp_helpers import CLIENTS, EditorClient, start, stop
from tests.fakes.wire import FakeProvider
from tests.fakes.wire_formats import text_of

pytestmark = pytest.mark.asyncio(loop_scope="module")

LONE = "\ud800"
# Surrogates before the target on its own line, in a string, in a comment, and in the name's
# neighbourhood; an astral character too, so UTF-16 columns differ from code points.
SOURCE = (
    f'BANNER = "caf{LONE}é 🎉"  # {LONE}\n'
    "\n"
    "\n"
    "def greet(name: str) -> str:\n"
    f'    sep = "{LONE}"; mark = "\udfff"\n'
    "    if not name:\n"
    "        return sep\n"
    "    return name + sep + mark\n"
)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def editor(
    fake: FakeProvider, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[EditorClient]:
    """VS Code's capabilities (UTF-16 positions), with the surrogate document open."""
    home, root = make_workspace(tmp_path_factory.mktemp("surrogates"), fake)
    client = await start(home, root, CLIENTS["vscode"])
    client.home = home
    client.open(root / "odd.py", text=SOURCE)
    yield client
    await stop(client)


def ledger(home: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(home / "data" / "ledger.sqlite3") as con:
        return list(con.execute("SELECT action, tier, outcome FROM requests ORDER BY rowid"))


@pytest.mark.parametrize(
    ("action", "tier"),
    [
        ("docstring", "budget"),
        ("rename", "budget"),
        ("explain", "budget"),
        ("review", "budget"),
        ("design", "budget"),
        ("review", "static"),
        ("docstring", "static"),
    ],
)
async def test_every_action_runs_and_is_recorded(
    editor: EditorClient, fake: FakeProvider, action: str, tier: str
) -> None:
    uri = (editor.root / "odd.py").as_uri()  # type: ignore[operator]
    rows_before = len(ledger(editor.home)) if (editor.home / "data").exists() else 0
    sent_before = fake.request_count
    here = editor.position(uri, "sep = ")
    result = await editor.command(
        "tierwise.run",
        {
            "action": action,
            "uri": uri,
            "tier": tier,
            "refresh": True,
            "position": {"line": here.line, "character": here.character},
        },
    )
    assert result["tier"] == tier
    rows = ledger(editor.home)
    assert len(rows) == rows_before + 1 and rows[-1] == (action, tier, "ok")
    if tier != "static":
        assert fake.request_count == sent_before + 1
        prompt = text_of(fake.requests[-1].body.get("messages", []))
        # What left the machine is well-formed: the surrogates became U+FFFD.
        assert "\ufffd" in prompt and LONE not in prompt


async def test_the_docstring_lands_where_utf16_positions_say(editor: EditorClient) -> None:
    uri = (editor.root / "odd.py").as_uri()  # type: ignore[operator]
    editor.replace_text(uri, SOURCE)
    here = editor.position(uri, "if not name")
    result = await editor.command(
        "tierwise.run",
        {
            "action": "docstring",
            "uri": uri,
            "tier": "budget",
            "refresh": True,
            "position": {"line": here.line, "character": here.character},
        },
    )
    assert result["applied"] is True
    # The client's own buffer: its surrogates are untouched, the docstring is under the def.
    assert editor.texts[uri] == SOURCE.replace(
        "def greet(name: str) -> str:\n",
        'def greet(name: str) -> str:\n    """Summarise greet for the reader."""\n',
    )


async def test_a_surrogate_in_a_uri_or_a_tier_name_is_a_clean_error(editor: EditorClient) -> None:
    from pygls.exceptions import JsonRpcInvalidParams

    with pytest.raises(JsonRpcInvalidParams, match="is not open"):
        await editor.command(
            "tierwise.route",
            {
                "action": "review",
                "uri": f"file:///x{LONE}.py",
                "position": {"line": 0, "character": 0},
            },
        )
    uri = (editor.root / "odd.py").as_uri()  # type: ignore[operator]
    with pytest.raises(JsonRpcInvalidParams, match="unknown tier"):
        await editor.command(
            "tierwise.route",
            {"action": "review", "uri": uri, "tier": LONE, "position": {"line": 0, "character": 0}},
        )
