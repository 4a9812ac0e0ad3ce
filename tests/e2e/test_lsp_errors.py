"""Bad input never takes the server down: precise JSON-RPC errors, and the next request works."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from tests.e2e.conftest import make_workspace
from tests.e2e.lsp_helpers import CLIENTS, EditorClient, raw_request, start, stop
from tests.fakes.wire import FakeProvider

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["vscode", "minimal"])
async def editor(
    request: pytest.FixtureRequest, fake: FakeProvider, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[EditorClient]:
    """One server per client kind, with shop.py open."""
    home, root = make_workspace(tmp_path_factory.mktemp(request.param), fake)
    client = await start(home, root, CLIENTS[request.param])
    client.open(root / "shop.py")
    yield client
    await stop(client)


def shop(client: EditorClient) -> str:
    """The URI of the open shop.py."""
    return (client.root / "shop.py").as_uri()  # type: ignore[operator]


async def still_serving(client: EditorClient) -> None:
    """A valid request right after a bad one is answered normally."""
    result = await client.command(
        "tierwise.route",
        {"action": "review", "uri": shop(client), "position": {"line": 5, "character": 4}},
    )
    assert result["target"]["name"] == "add"


BAD_RUN_ARGUMENTS: list[tuple[str, Any, str]] = [
    (
        "unknown action",
        {"action": "summarise", "position": {"line": 5, "character": 0}},
        "unknown action 'summarise'",
    ),
    (
        "unknown tier",
        {"action": "review", "tier": "ultra", "position": {"line": 5, "character": 0}},
        "unknown tier 'ultra'",
    ),
    ("no position", {"action": "review"}, "pass a position"),
    (
        "line past the end",
        {"action": "review", "position": {"line": 999, "character": 0}},
        "position line 999 is outside",
    ),
    (
        "column past the end",
        {"action": "review", "position": {"line": 5, "character": 500}},
        "position character 500 is outside line 5",
    ),
    (
        "wrong type",
        {"action": 5, "position": {"line": 5, "character": 0}},
        r"argument\.action: expected a string, got a number 5",
    ),
    (
        "wrong flag type",
        {"action": "review", "refresh": "yes", "position": {"line": 5, "character": 0}},
        r"argument\.refresh: expected a boolean, got a string 'yes'",
    ),
    (
        "misspelt key",
        {"action": "review", "postion": {"line": 5, "character": 0}},
        r"unknown key\(s\) postion",
    ),
    (
        "bad position",
        {"action": "review", "position": {"line": "5", "character": 0}},
        r"argument\.position\.line: expected an integer, got a string '5'",
    ),
]


@pytest.mark.parametrize(
    ("case", "arguments", "message"), BAD_RUN_ARGUMENTS, ids=[c[0] for c in BAD_RUN_ARGUMENTS]
)
async def test_bad_run_arguments_are_invalid_params(
    editor: EditorClient, case: str, arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(JsonRpcInvalidParams, match=message):
        await editor.command("tierwise.run", {"uri": shop(editor), **arguments})
    await still_serving(editor)


async def test_missing_uri_unopened_document_and_bare_values(editor: EditorClient) -> None:
    with pytest.raises(JsonRpcInvalidParams, match=r"argument\.uri: required key missing"):
        await editor.command(
            "tierwise.run", {"action": "review", "position": {"line": 0, "character": 0}}
        )
    unopened = (editor.root / "helpers.py").as_uri()  # type: ignore[operator]
    with pytest.raises(JsonRpcInvalidParams, match="is not open"):
        await editor.command(
            "tierwise.run",
            {"action": "review", "uri": unopened, "position": {"line": 0, "character": 0}},
        )
    with pytest.raises(JsonRpcInvalidParams, match="must be an object"):
        await editor.command("tierwise.run", "review")
    with pytest.raises(JsonRpcInvalidParams, match=r"tierwise\.run needs an argument object"):
        await editor.command("tierwise.run")
    with pytest.raises(JsonRpcInvalidParams, match=r"unknown command 'tierwise\.summon'"):
        await editor.command("tierwise.summon")
    with pytest.raises(JsonRpcInvalidParams, match="nothing to escalate"):
        await editor.command("tierwise.escalate", {"uri": shop(editor)})
    await still_serving(editor)


async def test_a_refusal_says_which_tier_to_pick_in_editor_terms(editor: EditorClient) -> None:
    # No local server is configured: asked for by name, the local tier is refused, not swapped.
    with pytest.raises(JsonRpcException) as caught:
        await editor.command(
            "tierwise.run",
            {
                "action": "explain",
                "uri": shop(editor),
                "position": {"line": 5, "character": 4},
                "tier": "local",
            },
        )
    message = caught.value.message
    assert caught.value.code == -32803, message  # RequestFailed
    assert "local tier needs a local server" in message
    assert "pick the frontier tier" in message
    assert "--tier" not in message  # a CLI flag: an editor user has a tier picker instead
    await still_serving(editor)


async def test_rename_outside_a_definition_says_where_to_put_the_cursor(
    editor: EditorClient,
) -> None:
    with pytest.raises(JsonRpcInvalidParams, match="rename needs a function, method or class"):
        await editor.command(
            "tierwise.run",
            {"action": "rename", "uri": shop(editor), "position": {"line": 1, "character": 0}},
        )
    await still_serving(editor)


async def test_a_request_with_undecodable_params_is_answered(editor: EditorClient) -> None:
    # pygls 2.1.1 sends no response at all for this (the client would wait forever).
    params = {
        "textDocument": {"uri": shop(editor)},
        "range": {"start": {"line": 5, "character": 0}, "end": {"line": 5, "character": 0}},
        "context": {"diagnostics": [{"message": "a diagnostic without a range"}]},
    }
    with pytest.raises(JsonRpcInvalidParams) as error:
        await raw_request(editor, "no-range", types.TEXT_DOCUMENT_CODE_ACTION, params)
    assert "textDocument/codeAction" in error.value.message
    assert "params.context.diagnostics[0].range" in error.value.message
    await still_serving(editor)


async def test_excluded_files_get_no_actions_and_are_never_sent(
    editor: EditorClient, fake: FakeProvider
) -> None:
    env = editor.open(editor.root / ".env", language="dotenv")  # type: ignore[operator]
    here = {"line": 0, "character": 3}
    params = {
        "textDocument": {"uri": env},
        "range": {"start": here, "end": here},
        "context": {"diagnostics": []},
    }
    assert await raw_request(editor, "env-actions", types.TEXT_DOCUMENT_CODE_ACTION, params) == []
    before = fake.request_count
    with pytest.raises(JsonRpcInvalidParams, match=r"excluded by pattern '\.env'"):
        await editor.command("tierwise.run", {"action": "explain", "uri": env, "position": here})
    assert fake.request_count == before
    await still_serving(editor)


BAD_NAMES: list[tuple[str, str, str]] = [
    ("empty", "", r"name: the name is empty"),
    ("keyword", "class", r"name: 'class' is a Python keyword"),
    ("leading digit", "1abc", r"name: '1abc' is not a valid Python identifier"),
    ("space", "a b", r"name: 'a b' is not a valid Python identifier"),
    # The connection makes every string well-formed first: the lone surrogate arrives as U+FFFD
    # (docs/security.md, "Text"), which is no identifier either.
    ("lone surrogate", "\ud800x", r"name: '\ufffdx' is not a valid Python identifier"),
    ("10,000 characters", "a" * 10_000, r"name: 'a{40}'… \(10000 characters\) is longer than 100"),
    ("the current name", "add", r"name: 'add' is the current name"),
]


@pytest.mark.parametrize(("why", "name", "message"), BAD_NAMES, ids=[b[0] for b in BAD_NAMES])
async def test_apply_rename_refuses_a_name_that_is_not_an_identifier(
    editor: EditorClient, why: str, name: str, message: str
) -> None:
    applied_before = len(editor.applied)
    text_before = editor.texts[shop(editor)]
    arguments = {"uri": shop(editor), "position": {"line": 4, "character": 5}, "name": name}

    with pytest.raises(JsonRpcInvalidParams) as caught:
        await raw_request(
            editor,
            f"rename-{why}",
            "workspace/executeCommand",
            {"command": "tierwise.applyRename", "arguments": [arguments]},
        )

    assert caught.value.message.startswith("tierwise.applyRename: name: ")
    assert re.search(message, caught.value.message), caught.value.message
    assert len(caught.value.message) < 400  # a 10,000-character name is not echoed back
    assert len(editor.applied) == applied_before and editor.texts[shop(editor)] == text_before
    await still_serving(editor)
