"""Emacs eglot (Debian 12: Emacs 28.2, eglot 1.9) as a real client of `tierwise serve`.

scripts/editors.sh installs `emacs-nox` and `elpa-eglot` with apt (the test command calls
it); without them this test is skipped. eglot_client.el sets eglot up as docs/editors.md says,
lists code actions with the cursor at five places, runs the review action from the menu, and
reads what flymake received.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.lsp_helpers import APP, FAKE_KEY, fake_reply, user_config
from tests.fakes.wire import FakeProvider
from tests.fakes.wire_formats import text_of

SCRIPT = Path(__file__).resolve().parent / "eglot_client.el"
TITLE = re.compile(r"\w+ · \w+ · (~\$\d+\.\d+|\$0)")


def has_eglot(emacs: str) -> bool:
    """Whether this Emacs can load eglot."""
    done = subprocess.run(
        [emacs, "--batch", "--eval", "(require 'eglot)"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    return done.returncode == 0


def span(line: int, start: int, end_line: int, end: int) -> dict[str, Any]:
    """An LSP range as JSON."""
    return {
        "start": {"line": line, "character": start},
        "end": {"line": end_line, "character": end},
    }


@pytest.mark.editor
def test_eglot_lists_tiered_actions_and_review_reaches_flymake(tmp_path: Path) -> None:
    emacs = shutil.which("emacs")
    if emacs is None or not has_eglot(emacs):
        pytest.skip("no emacs with eglot: bash scripts/editors.sh installs emacs-nox elpa-eglot")
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "tierwise").exists():
        pytest.skip(f"no tierwise executable beside {sys.executable}: pip install -e '.[dev]'")
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname = 'demo'\n", encoding="utf-8")
    (project / "app.py").write_text(APP, encoding="utf-8")
    out = tmp_path / "observed.json"
    with FakeProvider() as fake:
        fake.responder = fake_reply
        (home / "config.toml").write_text(user_config(fake), encoding="utf-8")
        env = {
            # docs/editors.md runs `tierwise serve` from PATH: this checkout's.
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(home),
            "TIERWISE_CONFIG": str(home / "config.toml"),
            "TIERWISE_DATA_DIR": str(home / "data"),
            "TIERWISE_CACHE_DIR": str(home / "cache"),
            "ANTHROPIC_API_KEY": FAKE_KEY,
            "OPENAI_API_KEY": FAKE_KEY,
            "TW_ROOT": str(project),
            "TW_FILE": str(project / "app.py"),
            "TW_OUT": str(out),
        }
        done = subprocess.run(
            [emacs, "--batch", "-l", str(SCRIPT)],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )
        requests = fake.requests
    assert out.exists(), done.stderr
    seen: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    assert "error" not in seen, f"{seen['error']}\n{done.stderr}"
    assert seen["server_name"] == "tierwise"

    # Every title eglot offers names a tier and a cost, wherever the cursor is.
    spots = ["def_start", "def_inside", "name_start", "name_inside", "name_end", "in_body"]
    for spot in spots:
        titles = seen[spot]["titles"]
        assert titles and all(TITLE.fullmatch(t) for t in titles), (spot, titles)
    assert any(t.startswith("Docstring · ") for t in seen["def_start"]["titles"])

    # eglot 1.9 sends the bounds of the expression at point, not the cursor (issue 6, item 3):
    # an empty range at the start of `def`, the whole function from inside `def`, the name
    # from the name, the parameter list from the `(`, the symbol in the body.
    lines = APP.split("\n")
    head = next(i for i, line in enumerate(lines) if line.startswith("def find_user"))
    last = next(i for i, line in enumerate(lines) if line.startswith('    return {"id"'))
    name = lines[head].index("find_user")
    assert seen["def_start"]["range"] == span(head, 0, head, 0)
    assert seen["def_inside"]["range"] == span(head, 0, last, len(lines[last]))
    assert seen["name_start"]["range"] == span(head, name, head, name + len("find_user"))
    assert seen["name_inside"]["range"] == seen["name_start"]["range"]
    params = name + len("find_user")
    assert seen["name_end"]["range"] == span(head, params, head, lines[head].index(" ->"))
    row = next(i for i, line in enumerate(lines) if "conn.execute" in line)
    conn = lines[row].index("conn.execute")
    assert seen["in_body"]["range"] == span(row, conn, row, conn + len("conn"))

    # Review, picked from eglot's menu: one model request, and flymake got the finding.
    assert len(requests) == 2
    assert '{"findings"' in text_of(requests[0].body.get("messages", []))
    (diagnostic,) = seen["diagnostics"]
    assert diagnostic["backend"] == "eglot-flymake-backend"
    assert diagnostic["text"].startswith("tierwise")
    assert "check the result of find_user" in diagnostic["text"]
    assert head + 1 <= diagnostic["line"] <= last + 1
    assert diagnostic["type"] == "eglot-warning"
    assert seen["buffer_modified"] is None  # a review changes nothing in the buffer
    # The quick fix from eglot's menu: its edit applied, then its command recorded the choice.
    assert seen["fixed_line"] == '    return {"id": row[0], "email": row[1]}  # checked'
    # Whether the server records the choice depends on eglot sending the edit's didChange
    # within FIX_SETTLE_S of the fix's command; in batch mode it may not before the session
    # ends, so the ledger is checked through VS Code and Neovim (and the stdio tests) only.
    # Explain from the menu: eglot shows the server's markdown as a message.
    assert "Explain " in text_of(requests[1].body.get("messages", []))
    assert "## What find_user does\n\nIt adds things up for the caller." in seen["messages"]
    assert FAKE_KEY not in done.stdout + done.stderr + seen["messages"]
