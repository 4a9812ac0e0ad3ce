"""Every action end to end through `tierwise serve`, as VS Code, Neovim and a minimal client."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from tests.e2e.conftest import MAIN, SHOP, make_workspace, workspace_editor
from tests.e2e.lsp_helpers import (
    CLIENTS,
    EditorClient,
    apply_edits,
    edits_by_uri,
    raw_request,
    start,
    stop,
    supports,
    units,
    wait_for,
)
from tests.fakes.wire import FakeProvider

pytestmark = pytest.mark.asyncio(loop_scope="module")

TITLE = re.compile(r"^(Docstring|Rename|Explain|Review|Design) · (\w+) · (\$0|~\$(\d+\.\d+))$")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=list(CLIENTS))
async def editor(
    request: pytest.FixtureRequest, fake: FakeProvider, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[EditorClient]:
    """One server per client kind, with tier variants on (through initializationOptions)."""
    variants = {"tierwise": {"server": {"show_tier_variants": True}}}
    base = tmp_path_factory.mktemp(request.param)
    async with workspace_editor(fake, base, request.param, init_options=variants) as client:
        yield client


def position_json(position: types.Position) -> dict[str, int]:
    """A Position as command-argument JSON."""
    return {"line": position.line, "character": position.character}


async def code_actions(
    client: EditorClient, uri: str, position: types.Position, only: list[str] | None = None
) -> list[dict[str, Any]]:
    """textDocument/codeAction as raw JSON (the typed client decodes CodeActions as Commands)."""
    here = position_json(position)
    context: dict[str, Any] = {"diagnostics": []}
    if only is not None:
        context["only"] = only
    params = {
        "textDocument": {"uri": uri},
        "range": {"start": here, "end": here},
        "context": context,
    }
    result = await raw_request(client, f"ca-{id(params)}", "textDocument/codeAction", params)
    return list(result or [])


def command_of(item: dict[str, Any]) -> dict[str, Any]:
    """The command of a CodeAction, or the item itself when the server sent a bare Command."""
    return item["command"] if isinstance(item.get("command"), dict) else item


async def test_code_actions_show_the_routed_tier_and_its_cost(editor: EditorClient) -> None:
    uri = editor.open(editor.root / "shop.py")  # type: ignore[operator]
    here = editor.position(uri, "parts = line.split")
    items = await code_actions(editor, uri, here)
    titles = [item["title"] for item in items]
    assert {TITLE.match(t).group(1) for t in titles if TITLE.match(t)} == {  # type: ignore[union-attr]
        "Docstring",
        "Rename",
        "Explain",
        "Review",
        "Design",
    }, titles
    for action in ("docstring", "rename", "explain", "review", "design"):
        route = await editor.command(
            "tierwise.route", {"action": action, "uri": uri, "position": position_json(here)}
        )
        mine = [command_of(i) for i in items if command_of(i)["arguments"][0]["action"] == action]
        routed = [c for c in mine if "tier" not in c["arguments"][0]]
        assert len(routed) == 1, mine
        match = TITLE.match(routed[0]["title"])
        assert match is not None and match.group(2) == route["tier"], (routed, route["summary"])
        price = float(match.group(4)) if match.group(4) else 0.0
        assert price == pytest.approx(route["estimate_usd"], abs=0.0006)
        # With show_tier_variants: one more entry per other available tier, each pinned to it.
        variants = {
            c["arguments"][0]["tier"]: c["title"] for c in mine if "tier" in c["arguments"][0]
        }
        assert set(variants) == set(route["available"]) - {route["tier"]}
        # The picker view: every tier in ladder order, its model, and why an unusable one is.
        ladder = route["tiers"]
        assert [t["tier"] for t in ladder] == ["static", "local", "budget", "mid", "frontier"]
        assert {t["tier"] for t in ladder if t["available"]} == set(route["available"])
        by_tier = {t["tier"]: t for t in ladder}
        assert by_tier["local"]["why_not"] == "needs providers.local.base_url in your user config"
        assert by_tier["frontier"]["model"] == "anthropic:claude-opus-5"
        assert by_tier[route["tier"]]["estimate_usd"] == route["estimate_usd"]
        if action in ("docstring", "review"):
            assert by_tier["static"]["available"] and by_tier["static"]["model"] is None
        else:
            assert "no static" in by_tier["static"]["why_not"]
        for tier, title in variants.items():
            assert TITLE.match(title).group(2) == tier  # type: ignore[union-attr]
    if supports(editor, "text_document.code_action.code_action_literal_support"):
        kinds = {command_of(i)["arguments"][0]["action"]: i["kind"] for i in items}
        assert kinds["docstring"] == "refactor.rewrite.tierwise.docstring"
        assert kinds["review"].startswith("refactor.tierwise.")
    else:  # a client without CodeAction literals gets plain commands
        assert all(item["command"] == "tierwise.run" for item in items)


async def test_context_only_filters_code_action_kinds(editor: EditorClient) -> None:
    uri = editor.open(editor.root / "shop.py")  # type: ignore[operator]
    items = await code_actions(editor, uri, editor.position(uri, "qty = int"), ["refactor.rewrite"])
    actions = {command_of(i)["arguments"][0]["action"] for i in items}
    assert actions == {"docstring", "rename"}


async def test_a_docstring_edit_in_a_crlf_file_keeps_crlf_line_ends(
    editor: EditorClient,
) -> None:
    # parse_order: a function no other test documents, so no cached answer (CRLF and LF copies
    # of a function share a cache key) changes what another test sees.
    crlf = SHOP.replace("\n", "\r\n")
    path = editor.root / "shop_crlf.py"  # type: ignore[operator]
    path.write_bytes(crlf.encode("utf-8"))
    uri = editor.open(path, crlf)
    here = editor.position(uri, "parts = line.split")

    result = await editor.command(
        "tierwise.run",
        {"action": "docstring", "uri": uri, "position": position_json(here), "refresh": True},
    )

    expected = crlf.replace(
        "def parse_order(line: str) -> dict:\r\n",
        "def parse_order(line: str) -> dict:\r\n"
        '    """Summarise parse_order for the reader."""\r\n',
    )
    if supports(editor, "workspace.apply_edit"):
        assert result["applied"] is True
        text = editor.texts[uri]
    else:
        edit = editor.protocol._converter.structure(result["edit"], types.WorkspaceEdit)
        text = apply_edits(crlf, edits_by_uri(edit)[uri][1], editor.encoding)
    assert text == expected
    assert "\n" not in text.replace("\r\n", "")  # no bare LF slipped in


async def test_docstring_is_applied_as_a_versioned_edit_after_an_emoji(
    editor: EditorClient,
) -> None:
    uri = editor.open(editor.root / "shop.py")  # type: ignore[operator]
    before_progress = set(editor.progress_reports)
    here = editor.position(uri, "cleaned = name.strip()")
    result = await editor.command(
        "tierwise.run", {"action": "docstring", "uri": uri, "position": position_json(here)}
    )
    expected = SHOP.replace(
        "def greet(name: str) -> str:\n",
        'def greet(name: str) -> str:\n    """Summarise greet for the reader."""\n',
    )
    assert result["tier"] == "budget" and result["cost_usd"] > 0
    if supports(editor, "workspace.apply_edit"):
        assert result["applied"] is True
        assert editor.texts[uri] == expected
        version, _ = edits_by_uri(editor.applied[-1].edit)[uri]
        if supports(editor, "workspace.workspace_edit.document_changes"):
            assert version == 1  # computed for, and sent for, the version it was built from
    else:  # the edit comes back in the result for the client to apply
        assert result["applied"] is False
        assert editor.texts[uri] == SHOP
        edit = editor.protocol._converter.structure(result["edit"], types.WorkspaceEdit)
        _, edits = edits_by_uri(edit)[uri]
        assert apply_edits(SHOP, edits, editor.encoding) == expected
    new_tokens = set(editor.progress_reports) - before_progress
    if supports(editor, "window.work_done_progress"):
        (token,) = new_tokens
        reports = editor.progress_reports[token]
        assert isinstance(reports[0], types.WorkDoneProgressBegin)
        assert (
            reports[0].cancellable and reports[0].message == "budget · anthropic:claude-haiku-4-5"
        )
        assert isinstance(reports[-1], types.WorkDoneProgressEnd)
        assert reports[-1].message == f"budget · ${result['cost_usd']:.4f}"
        # While streaming, tokens and cost are estimates (the provider reports usage only at
        # the end), and the reports say so; the end message carries the billed figure.
        streaming = [r.message for r in reports[1:-1]]
        assert streaming and all(
            re.fullmatch(r"~\d+ tokens · est\. \$\d+\.\d{4}", m or "") for m in streaming
        ), streaming
    else:
        assert not new_tokens


async def test_review_publishes_diagnostics_with_a_quick_fix(editor: EditorClient) -> None:
    uri = editor.open(editor.root / "shop.py")  # type: ignore[operator]
    text = editor.texts[uri]
    here = editor.position(uri, "cleaned = name.strip()")
    result = await editor.command(
        "tierwise.run", {"action": "review", "uri": uri, "position": position_json(here)}
    )
    assert result["published"] is True
    diagnostics = await wait_for(lambda: editor.diagnostics.get(uri), what="diagnostics")
    (diag,) = diagnostics
    last_line = '    return f"héllo {cleaned} 👋"'
    line_no = text.split("\n").index(last_line)
    assert diag.source == "tierwise" and diag.message == "check the result of greet"
    assert diag.severity == types.DiagnosticSeverity.Warning
    assert (diag.range.start.line, diag.range.start.character) == (line_no, 4)
    assert (diag.range.end.line, diag.range.end.character) == (
        line_no,
        units(last_line, editor.encoding),
    )
    assert diag.data["tier"] == result["tier"] and diag.data["model"] == result["model"]

    fixes = await code_actions(editor, uri, diag.range.start, ["quickfix"])
    if not supports(editor, "text_document.code_action.code_action_literal_support"):
        assert fixes == []  # a quick fix is an edit, which needs CodeAction literals
        return
    (fix,) = fixes
    assert fix["kind"] == "quickfix.tierwise.review"
    edit = editor.protocol._converter.structure(fix["edit"], types.WorkspaceEdit)
    _, edits = edits_by_uri(edit)[uri]
    fixed = apply_edits(text, edits, editor.encoding)
    assert fixed == text.replace(last_line, last_line + "  # checked")

    # Lines added above move the diagnostic; an edit inside the reviewed code clears it.
    editor.replace_text(uri, "# moved\n" + text)
    await wait_for(
        lambda: [d.range.start.line for d in editor.diagnostics.get(uri, [])] == [line_no + 1],
        what="the diagnostic to move down one line",
    )
    editor.replace_text(uri, text.replace("cleaned = name.strip()", "cleaned = name"))
    await wait_for(lambda: len(editor.diagnostics[uri]) == 0, what="diagnostics cleared")


async def test_explain_opens_a_markdown_document_or_sends_a_message(editor: EditorClient) -> None:
    uri = editor.open(editor.root / "shop.py")  # type: ignore[operator]
    here = editor.position(uri, "total = a + b")
    result = await editor.command(
        "tierwise.run", {"action": "explain", "uri": uri, "position": position_json(here)}
    )
    assert result["markdown"].startswith("## What add does")
    if supports(editor, "window.show_document.support"):
        assert result["shown"] == "document"
        shown = editor.shown_documents[-1]
        path = Path(result["document"])
        assert shown.uri == path.as_uri()
        assert path.is_relative_to(editor.home / "data" / "docs")
        assert "It adds things up for the caller." in path.read_text(encoding="utf-8")
    else:
        assert result["shown"] == "message"
        assert editor.messages[-1].message == result["markdown"]
        # ... and no document was written that nothing would open.
        assert not (editor.home / "data" / "docs").exists()


async def test_design_returns_markdown(editor: EditorClient) -> None:
    uri = editor.open(editor.root / "shop.py")  # type: ignore[operator]
    here = editor.position(uri, "heavy = [i")
    result = await editor.command(
        "tierwise.run", {"action": "design", "uri": uri, "position": position_json(here)}
    )
    assert result["markdown"].startswith("## Design of weight")
    assert result["tier"] in ("mid", "frontier")


async def test_rename_asks_for_a_name_then_edits_every_file(editor: EditorClient) -> None:
    root: Path = editor.root  # type: ignore[assignment]
    helpers = editor.open(root / "helpers.py")
    main = editor.open(root / "main.py")
    editor.choose = lambda params: params.actions[1].title if params.actions else None
    applied_before = len(editor.applied)
    here = editor.position(helpers, "doubled = x * 2")
    result = await editor.command(
        "tierwise.run", {"action": "rename", "uri": helpers, "position": position_json(here)}
    )
    assert result["old_name"] == "calc"
    assert [c["name"] for c in result["candidates"]] == ["calc_total", "compute_calc"]
    assert result["position"] == {"line": 0, "character": 4}
    request = await wait_for(lambda: editor.message_requests, what="showMessageRequest")
    assert [a.title for a in request[-1].actions] == ["calc_total", "compute_calc"]
    if not supports(editor, "workspace.apply_edit"):
        await wait_for(
            lambda: any("applyEdit" in m.message for m in editor.messages), what="a message"
        )
        return
    await wait_for(lambda: len(editor.applied) > applied_before, what="the rename edit")
    assert editor.texts[helpers].startswith("def compute_calc(x: int) -> int:")
    assert editor.texts[main] == (root / "main.py").read_text().replace("calc", "compute_calc")
    edits = edits_by_uri(editor.applied[-1].edit)
    assert set(edits) == {helpers, main}
    if supports(editor, "workspace.workspace_edit.document_changes"):
        assert edits[helpers][0] == 1 and edits[main][0] == 1


async def test_escalate_reruns_the_last_action_one_tier_up(editor: EditorClient) -> None:
    uri = editor.open(editor.root / "shop.py")  # type: ignore[operator]
    here = editor.position(uri, "qty = int(parts[1])")
    first = await editor.command(
        "tierwise.run",
        {"action": "docstring", "uri": uri, "position": position_json(here), "tier": "budget"},
    )
    assert first["tier"] == "budget"
    second = await editor.command("tierwise.escalate", {"uri": uri})
    assert second["tier"] == "mid" and second["model"].startswith("anthropic:claude-sonnet")
    if supports(editor, "workspace.apply_edit"):
        # The improved docstring replaces the first one instead of being refused as stale.
        assert second["applied"] is True
        assert editor.texts[uri].count('"""Summarise parse_order for the reader."""') == 1


async def test_cache_hit_then_clear_cache(editor: EditorClient) -> None:
    uri = editor.open(editor.root / "shop.py")  # type: ignore[operator]
    args = {
        "action": "explain",
        "uri": uri,
        "tier": "budget",
        "position": position_json(editor.position(uri, "light = [i")),
    }
    first = await editor.command("tierwise.run", args)
    assert first["cache_hit"] is False

    async def hit() -> Any:
        return (await editor.command("tierwise.run", args))["cache_hit"]

    # The cache write happens off the request path; it lands within moments.
    for _ in range(50):
        if await hit():
            break
    else:
        raise AssertionError("the repeated request was never answered from the cache")
    cleared = await editor.command("tierwise.clearCache")
    assert cleared["removed"] >= 1
    assert (await editor.command("tierwise.run", args))["cache_hit"] is False
    stats = await editor.command("tierwise.stats")
    assert stats["this_session"]["cache_hits"] >= 1
    assert stats["this_session"]["by_action"]["explain"]["requests"] >= 3


async def test_set_tier_is_sticky_until_auto(editor: EditorClient) -> None:
    uri = editor.open(editor.root / "shop.py")  # type: ignore[operator]
    args = {
        "action": "explain",
        "uri": uri,
        "position": position_json(editor.position(uri, "total < 0")),
    }
    routed = (await editor.command("tierwise.route", args))["tier"]
    assert (await editor.command("tierwise.setTier", {"tier": "frontier"})) == {"tier": "frontier"}
    pinned = await editor.command("tierwise.route", args)
    assert pinned["tier"] == "frontier" and "session tier frontier" in pinned["reasons"]
    await editor.command("tierwise.setTier", {"tier": "auto"})
    assert (await editor.command("tierwise.route", args))["tier"] == routed
    with pytest.raises(JsonRpcInvalidParams, match="unknown tier 'ultra'"):
        await editor.command("tierwise.setTier", {"tier": "ultra"})


async def test_a_client_with_its_own_name_picker_applies_the_choice(
    fake: FakeProvider, tmp_path: Path
) -> None:
    capabilities = attrs.evolve(CLIENTS["vscode"], experimental={"tierwise": {"pickName": True}})
    home, root = make_workspace(tmp_path, fake)
    client = await start(home, root, capabilities)
    try:
        helpers = client.open(root / "helpers.py")
        main = client.open(root / "main.py")
        here = position_json(client.position(helpers, "return doubled"))
        result = await client.command(
            "tierwise.run", {"action": "rename", "uri": helpers, "position": here}
        )
        await client.command("tierwise.stats")  # one more round trip: a prompt would be here
        assert client.message_requests == []
        applied = await client.command(
            "tierwise.applyRename",
            {"uri": helpers, "position": result["position"], "name": "calc_total"},
        )
        assert applied["applied"] is True and applied["files"] == 2
        assert client.texts[helpers].startswith("def calc_total(x: int) -> int:")
        assert client.texts[main] == MAIN.replace("calc", "calc_total")
    finally:
        await stop(client)
