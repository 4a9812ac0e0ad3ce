"""The real local model behind `tierwise serve` over stdio: an editor asks for a docstring on a
real function, routed to the local tier; what the editor gets is an applied edit that changes
only the docstring, or the local answer's failed check answered one tier up, or one clear
error with the file untouched, and the ledger holds the local call's estimated tokens."""

from __future__ import annotations

import ast
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from pygls.exceptions import JsonRpcException

from tests.e2e.lsp_helpers import CLIENTS, FAKE_KEY, EditorClient, start, stop
from tests.fakes.wire import FakeProvider
from tests.local_model.conftest import config_text
from tests.local_model.harness import Target, engine_from, without_docstrings
from tests.local_model.llama import LlamaServer
from tests.local_model.test_actions import routed_to_local

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def target(
    llama: LlamaServer, cloud: FakeProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    with pytest.MonkeyPatch.context() as patch:  # the autouse keys fixture is per test
        patch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
        patch.setenv("OPENAI_API_KEY", FAKE_KEY)
        engine = engine_from(config_text(llama, cloud), tmp_path_factory.mktemp("pick"))
        try:
            picked = routed_to_local(engine, "docstring", 1)[0]
        finally:
            engine.close()
    yield picked


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def editor(
    llama: LlamaServer,
    cloud: FakeProvider,
    target: Target,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[EditorClient]:
    base = tmp_path_factory.mktemp("serve")
    home, root = base / "home", base / "project"
    home.mkdir()
    root.mkdir()
    (home / "config.toml").write_text(config_text(llama, cloud), encoding="utf-8")
    shutil.copy(target.located.path, root / target.located.path.name)
    client = await start(home, root, CLIENTS["vscode"])
    client.home = home
    yield client
    await stop(client)


async def test_a_docstring_from_the_real_local_model_through_the_language_server(
    editor: EditorClient, target: Target
) -> None:
    path = editor.root / target.located.path.name  # type: ignore[operator]
    uri = editor.open(path)
    before = editor.texts[uri]
    args = {
        "action": "docstring",
        "uri": uri,
        "position": {"line": target.located.line, "character": target.located.col},
    }
    try:
        result = await editor.command("tierwise.run", args)
    except JsonRpcException as error:
        assert "Traceback" not in error.message and error.message
        assert editor.texts[uri] == before and not editor.applied
        result = None
    con = sqlite3.connect(next((editor.home / "data").glob("*.sqlite3")))
    try:
        rows = con.execute(
            "SELECT tier, outcome, verified, escalated_from, input_tokens, usage_estimated"
            " FROM requests ORDER BY id"
        ).fetchall()
    finally:
        con.close()
    first = rows[0]
    assert first[0] == "local" and first[4] > 0 and first[5] == 1, rows
    if result is None:
        assert first[1] == "error" and len(rows) == 1
        return
    after = editor.texts[uri]
    assert result["applied"] is True and after != before
    # Only a docstring changed.
    assert without_docstrings(ast.parse(after)) == without_docstrings(ast.parse(before))
    if first[2] == 1:
        assert result["tier"] == "local" and len(rows) == 1
    else:
        assert result["tier"] == "budget" and rows[1][:4] == ("budget", "ok", 1, "local")
        assert any("local's answer failed the check" in w for w in result["warnings"])
