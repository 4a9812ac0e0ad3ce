"""The VS Code extension in a real VS Code: code-server's workbench and extension host,
driven by headless Chromium, with the provider fake on 127.0.0.1.

The extension's self-test (vscode-client/src/selfTest.ts) runs real commands through the
real QuickPick, notifications, diagnostics, code actions and markdown preview, and writes what
it saw; this test checks that and what the provider fake received. Install what it needs with
`bash scripts/setup-vscode-e2e.sh` (scripts/test.sh does); set TIERWISE_SKIP_VSCODE_E2E=1 to
skip it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.lsp_helpers import APP, fake_reply, user_config
from tests.e2e.workbench import SKIP_ENV, drive, install_extension, tools, workbench
from tests.fakes.wire import FakeProvider

REPO = Path(__file__).resolve().parents[2]
CLIENT = REPO / "vscode-client"
# A key only this test uses, so that finding it anywhere it must not be is unambiguous.
KEY = "sk-ant-e2e-0123456789-secret"

pytestmark = pytest.mark.editor

SETTINGS: dict[str, Any] = {
    "security.workspace.trust.enabled": False,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "extensions.ignoreRecommendations": True,
    "chat.disableAIFeatures": True,
    "chat.commandCenter.enabled": False,
    "window.commandCenter": False,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "git.enabled": False,
    "editor.minimap.enabled": False,
}


def _vsix() -> Path:
    found = sorted(CLIENT.glob("*.vsix"))
    if not found:
        pytest.fail("no .vsix in vscode-client/: run bash scripts/vscode-client.sh")
    return found[-1]


def run_vscode(tmp_path: Path, fake: FakeProvider, screenshot: Path) -> dict[str, Any]:
    """Install the .vsix in a fresh code-server, open the project, run the self-test."""
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1")
    tool = tools()
    if tool is None:
        pytest.fail("code-server is not installed: run bash scripts/setup-vscode-e2e.sh")
    vsix = _vsix()
    home, project, out = tmp_path / "home", tmp_path / "project", tmp_path / "out"
    dirs = {
        name: tmp_path / name
        for name in ("user_data", "extensions", "chrome", "logs", "xdg_config", "xdg_data", "tmp")
    }
    for d in [home, project, out, *dirs.values()]:
        d.mkdir(parents=True)
    (dirs["user_data"] / "User").mkdir()
    # The server comes from tierwise.server.path: code-server resolves the extension host's
    # environment with a login shell, whose profile resets PATH.
    settings = {**SETTINGS, "tierwise.server.path": [str(Path(sys.executable).parent / "tierwise")]}
    (dirs["user_data"] / "User" / "settings.json").write_text(json.dumps(settings), "utf-8")
    # The user's own config: providers at the fake, and one routing change that editor
    # defaults must not override (the extension sends only settings the user set).
    (home / "config.toml").write_text(
        user_config(fake, '\n[routing.base]\ndocstring = "mid"\n'), encoding="utf-8"
    )
    (project / "app.py").write_text(APP, encoding="utf-8")
    (project / ".tierwise.toml").write_text("# activates the extension\n", encoding="utf-8")
    node_bin = str(Path(tool["node"]).parent)
    env = {
        "PATH": os.pathsep.join([node_bin, "/usr/bin", "/bin"]),  # Node 24 runs code-server
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(dirs["xdg_config"]),
        "XDG_DATA_HOME": str(dirs["xdg_data"]),
        "TMPDIR": str(dirs["tmp"]),
        "LANG": "C.UTF-8",
        "TIERWISE_CONFIG": str(home / "config.toml"),
        "TIERWISE_DATA_DIR": str(home / "data"),
        "TIERWISE_CACHE_DIR": str(home / "cache"),
        # No provider key in the environment: the self-test stores one with Set API Key.
        "TIERWISE_VSCODE_SELFTEST": str(out),
        "TIERWISE_SELFTEST_KEY": KEY,
    }
    install_extension(tool["code_server"], vsix, dirs, env)
    with workbench(tool, project, dirs, env) as (cdp, session):
        result = drive(cdp, session, out, screenshot)
    result["_dirs"] = {k: str(v) for k, v in dirs.items()} | {"home": str(home)}
    return result


@pytest.fixture(scope="module")
def vscode(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One workbench session for the module: the fake, the self-test's result, the screenshot."""
    tmp = tmp_path_factory.mktemp("vscode")
    with FakeProvider() as fake:
        fake.responder = fake_reply
        # The first model request is the one the self-test cancels: make it stream slowly.
        fake.script(("slow", 400, 0.05))
        shot = tmp / "tier-picker.png"
        result = run_vscode(tmp, fake, shot)
        wanted = os.environ.get("TIERWISE_E2E_SCREENSHOT")
        if wanted:
            shutil.copyfile(shot, wanted)
        yield result, fake.requests, fake.closed_early, shot


def _logs(result: dict[str, Any]) -> str:
    dirs = result["_dirs"]
    paths = [Path(dirs["logs"]), Path(dirs["user_data"]) / "logs"]
    return "\n".join(
        p.read_text(errors="replace") for base in paths for p in base.rglob("*") if p.is_file()
    )


def test_self_test_finished(vscode: Any) -> None:
    result = vscode[0]
    assert result.get("ok"), result.get("error")
    assert result["ready"]["detail"].endswith(
        "/tierwise serve --log-level warning (from tierwise.server.path)"
    )
    assert result["_driver"] == {"screenshot": True, "cancel_clicked": True}


def test_api_key_reaches_the_server_only_through_its_environment(vscode: Any) -> None:
    result, requests, _, _ = vscode
    before = {t["tier"]: t for t in result["before_key"]}
    assert before["budget"]["available"] is False
    assert "ANTHROPIC_API_KEY" in before["budget"]["why_not"]
    after = {t["tier"]: t for t in result["set_key"]["tiers"]}
    assert after["budget"]["available"] and after["frontier"]["available"]
    assert requests, "no request reached the provider"
    assert all(KEY in r.headers.get("authorization", "") for r in requests)
    # Nowhere in plain text: logs, ledger, cache, settings, the browser's profile, the self-test.
    tmp = Path(result["_dirs"]["home"]).parent
    for path in tmp.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert KEY.encode() not in path.read_bytes(), f"the key is in {path}"
    assert _logs(result)  # the scan saw the logs


def test_cancelling_the_progress_closes_the_provider_stream(vscode: Any) -> None:
    result, requests, closed_early, _ = vscode
    cancel = result["cancel"]
    assert cancel["result"] is None  # the command ended without a result: cancelled
    assert cancel["seconds"] < 15, "the slow stream (20 s) was not cut short"
    assert closed_early >= 1
    assert requests[0].body["model"] == "claude-sonnet-4-6"
    assert any(
        "tokens" in m and "mid · anthropic:claude-sonnet-4-6" in m for m in cancel["progress"]
    )
    assert cancel["textUnchanged"]


def test_tier_picker_lists_every_tier_and_sends_the_chosen_one(vscode: Any) -> None:
    result, requests, _, shot = vscode
    picker = result["picker"]
    labels = [i["label"] for i in picker["items"]]
    # auto first, routed by the user's config file (docstring = "mid"), not by editor defaults.
    assert labels[0] == "auto → mid"
    assert picker["firstActive"] == "auto → mid"
    assert picker["items"][0]["description"].startswith("claude-sonnet-4-6 (anthropic) · ~$")
    assert "docstring starts at mid" in picker["items"][0]["detail"]
    tiers = picker["items"][2:]
    names = [t["label"].removeprefix("$(circle-slash) ").split()[0] for t in tiers]
    assert names == ["static", "local", "budget", "mid", "frontier"]
    assert tiers[3]["label"] == "mid (routed)"
    for item in tiers:
        assert "$" in item["description"]
    local = tiers[1]
    assert "unavailable" in local["description"] and "base_url" in local["detail"]
    # Accepting the unavailable tier kept the picker open and said why.
    assert picker["stillOpen"] and "local is unavailable" in picker["titleAfterDisabled"]
    # budget was chosen: the request went to the budget model, not the routed mid one.
    assert picker["result"]["tier"] == "budget"
    assert picker["result"]["model"] == "anthropic:claude-haiku-4-5"
    assert requests[1].body["model"] == "claude-haiku-4-5"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_docstring_edit_is_applied_and_the_status_bar_changes(vscode: Any) -> None:
    picker = vscode[0]["picker"]
    assert picker["result"]["applied"] is True
    assert '    """Summarise shout for the reader.' in picker["text"]
    # The status bar is the session's spend: the docstring's cost was added to it.
    pattern = re.compile(r"^tierwise: auto · \$([0-9.]+) \(saved -?\$[0-9.]+\)$")
    before, after = pattern.match(picker["statusBefore"]), pattern.match(picker["statusAfter"])
    assert before and after, (picker["statusBefore"], picker["statusAfter"])
    spent = float(after.group(1)) - float(before.group(1))
    assert spent > 0
    assert abs(spent - picker["result"]["cost_usd"]) < 0.0002  # both are rounded for display
    assert "Spend by tier:" in picker["tooltip"] and "budget: $" in picker["tooltip"]


def test_review_diagnostics_and_their_quick_fix(vscode: Any) -> None:
    review = vscode[0]["review"]
    assert review["result"]["tier"] == "frontier"
    assert any(d["message"].startswith("check the result of") for d in review["diagnostics"])
    assert review["fix"] and review["fix"].startswith("Fix: check the result of")
    assert review["applied"] is True
    assert review["lineAfter"] != review["lineBefore"]
    assert review["lineAfter"].endswith("# checked")
    # VS Code ran the fix's command after its edit: the server recorded the fix chosen.
    ledger = next((Path(vscode[0]["_dirs"]["home"]) / "data").glob("*.sqlite3"))
    con = sqlite3.connect(ledger)
    try:
        events = con.execute(
            "SELECT r.action, e.kind, e.status FROM edits e JOIN requests r"
            " ON r.id = e.request_id WHERE e.kind = 'fix'"
        ).fetchall()
    finally:
        con.close()
    assert events == [("review", "fix", "applied")]


def test_explain_opens_a_markdown_preview(vscode: Any) -> None:
    explain = vscode[0]["explain"]
    assert explain["result"]["shown"] == "document"
    assert "markdown.preview" in explain["preview"]["viewType"]
    assert explain["preview"]["label"].startswith("Preview")
    assert explain["rawMarkdownEditors"] == []


def test_rename_candidates_in_a_picker_and_the_chosen_name_applied(vscode: Any) -> None:
    rename = vscode[0]["rename"]
    names = [i["label"] for i in rename["items"]]
    assert rename["chosen"] == names[0]
    assert all(i["detail"] for i in rename["items"])  # each candidate shows its reason
    assert f"def {rename['chosen']}(" in rename["text"]
    assert "def shout(" not in rename["text"]


def test_stats_after_the_session(vscode: Any) -> None:
    stats = vscode[0]["stats"]
    session = stats["stats"]["this_session"]
    assert session["requests"] >= 4
    assert stats["status"] == vscode[0]["stats"]["status"]
    assert stats["status"].startswith("tierwise: auto · $")


def test_server_code_actions_run_through_the_client_and_update_the_status(vscode: Any) -> None:
    step = vscode[0]["code_action"]
    review = [t for t in step["titles"] if t.startswith("Review · ")]
    assert review and re.fullmatch(r"Review · \w+ · (~\$[0-9.]+|\$0)", review[0])
    assert step["command"] == "tierwise.run"
    assert step["result"]["tier"] == review[0].split(" · ")[1]
    assert step["statusAfter"] != step["statusBefore"]
