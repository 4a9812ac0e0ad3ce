"""Configuration through the server: merge order, hot reload, and the trust rule."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from tests.e2e.conftest import make_workspace
from tests.e2e.lsp_helpers import CLIENTS, EditorClient, start, stop, supports, wait_for
from tests.fakes.wire import FakeProvider


async def eventually(
    probe: Callable[[], Awaitable[Any]], check: Callable[[Any], bool], what: str
) -> Any:
    """Poll an async probe until its value passes the check (config applies asynchronously)."""
    value: Any = None
    for _ in range(250):
        value = await probe()
        if check(value):
            return value
        await asyncio.sleep(0.04)
    raise AssertionError(f"timed out waiting for {what}; last value: {value!r}")


def base_reason(route: dict[str, Any]) -> str:
    """The first routing reason: "<action> starts at <tier>" (the configured base tier)."""
    return str(route["reasons"][0])


async def route(client: EditorClient, uri: str, action: str) -> dict[str, Any]:
    """tierwise.route for an action on parse_order."""
    here = client.position(uri, "parts = line.split")
    result: dict[str, Any] = await client.command(
        "tierwise.route",
        {
            "action": action,
            "uri": uri,
            "position": {"line": here.line, "character": here.character},
        },
    )
    return result


@pytest.mark.parametrize("kind", list(CLIENTS))
async def test_init_options_and_pulled_settings_merge_deeply(
    kind: str, fake: FakeProvider, tmp_path: Path
) -> None:
    home, root = make_workspace(tmp_path, fake)
    client = await start(
        home,
        root,
        CLIENTS[kind],
        init_options={"tierwise": {"routing": {"base": {"explain": "budget"}}}},
        configuration={"routing": {"base": {"review": "budget"}}},
    )
    try:
        uri = client.open(root / "shop.py")
        pulls = supports(client, "workspace.configuration")
        review_base = "review starts at budget" if pulls else "review starts at mid"
        await eventually(
            lambda: route(client, uri, "review"),
            lambda r: base_reason(r) == review_base,
            "the pulled settings",
        )
        # Pulling workspace/configuration must not drop what initializationOptions set.
        assert base_reason(await route(client, uri, "explain")) == "explain starts at budget"

        client.set_configuration({"routing": {"base": {"review": "frontier"}}}, section="tierwise")
        settings = None if pulls else {"tierwise": {"routing": {"base": {"review": "frontier"}}}}
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings=settings)
        )
        await eventually(
            lambda: route(client, uri, "review"),
            lambda r: base_reason(r) == "review starts at frontier",
            "the changed settings",
        )
        assert base_reason(await route(client, uri, "explain")) == "explain starts at budget"
        assert any("tierwise" in m.message and "ready" in m.message for m in client.log_messages)
    finally:
        await stop(client)


async def test_workspace_file_hot_reload_keeps_the_last_good_config(
    fake: FakeProvider, tmp_path: Path
) -> None:
    home, root = make_workspace(
        tmp_path, fake, workspace_toml='[routing.base]\nexplain = "budget"\n'
    )
    workspace_file = root / ".tierwise.toml"
    client = await start(home, root, CLIENTS["vscode"])
    try:
        uri = client.open(root / "shop.py")
        assert base_reason(await route(client, uri, "explain")) == "explain starts at budget"

        workspace_file.write_text('[routing.base]\nexplain = "frontier"\n', encoding="utf-8")
        await eventually(
            lambda: route(client, uri, "explain"),
            lambda r: base_reason(r) == "explain starts at frontier",
            "the reload",
        )

        invalid = '[routing.base]\nexplain = "ultra"\n'
        workspace_file.write_text(invalid, encoding="utf-8")

        def complaints() -> list[str]:
            return [m.message for m in client.messages if "'ultra'" in m.message]

        (message,) = await wait_for(complaints, what="a message about the invalid file")
        assert str(workspace_file) in message and "routing.base.explain" in message
        assert client.messages[-1].type == types.MessageType.Error
        assert base_reason(await route(client, uri, "explain")) == "explain starts at frontier"

        workspace_file.write_text(invalid + "\n", encoding="utf-8")  # saved again, still invalid
        await asyncio.sleep(1.0)
        workspace_file.write_text('[routing.base]\nexplain = "mid"\n', encoding="utf-8")
        await eventually(
            lambda: route(client, uri, "explain"),
            lambda r: base_reason(r) == "explain starts at mid",
            "the fixed file",
        )
        assert len(complaints()) == 1  # one message per problem, not one per save
    finally:
        await stop(client)


async def test_workspace_file_cannot_redirect_providers(fake: FakeProvider, tmp_path: Path) -> None:
    home, root = make_workspace(
        tmp_path,
        fake,
        workspace_toml=(
            '[providers.anthropic]\nbase_url = "http://127.0.0.1:9/v1"\n\n'
            '[routing.base]\nexplain = "budget"\n\n'
            '[server]\ndisplay = "message"\n'
        ),
    )
    client = await start(
        home,
        root,
        CLIENTS["neovim"],
        init_options={"providers": {"openai": {"api_key_env": "HOME"}}},
    )
    try:
        uri = client.open(root / "shop.py")

        def refusals() -> list[str]:
            return [m.message for m in client.messages if "ignored" in m.message]

        await wait_for(lambda: len(refusals()) == 2, what="two refusal messages")
        by_source = {("tierwise.toml" in m): m for m in refusals()}
        assert "'providers.anthropic.base_url'" in by_source[True]
        assert (
            "initializationOptions" in by_source[False]
            and "'providers.openai.api_key_env'" in by_source[False]
        )
        # The rest of the workspace file applies; the endpoint stays the user's (the fake).
        assert base_reason(await route(client, uri, "explain")) == "explain starts at budget"
        before = fake.request_count
        here = client.position(uri, "qty = int")
        result = await client.command(
            "tierwise.run",
            {
                "action": "explain",
                "uri": uri,
                "position": {"line": here.line, "character": here.character},
            },
        )
        assert result["tier"] == "budget" and fake.request_count == before + 1
        # display = "message": the markdown comes as a message even though Neovim could show
        # a document.
        assert result["shown"] == "message" and client.messages[-1].message == result["markdown"]
        assert not client.shown_documents
    finally:
        await stop(client)


async def test_invalid_init_option_becomes_a_message_and_defaults(
    fake: FakeProvider, tmp_path: Path
) -> None:
    home, root = make_workspace(tmp_path, fake)
    client = await start(
        home, root, CLIENTS["minimal"], init_options={"server": {"display": "loud"}}
    )
    try:
        uri = client.open(root / "shop.py")
        (message,) = await wait_for(
            lambda: [m.message for m in client.messages if "loud" in m.message], what="a message"
        )
        assert "initializationOptions" in message and "server.display" in message
        assert base_reason(await route(client, uri, "explain")) == "explain starts at mid"
    finally:
        await stop(client)
