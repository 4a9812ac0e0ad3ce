"""`tierwise` as a user runs it: a real subprocess against the local wire-protocol fake.

Keys are fake and the environment is built from scratch, so no real key can leak into a run.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.lsp_helpers import APP, FAKE_KEY, fake_reply, user_config
from tests.fakes.wire import FakeProvider

ROOT = Path(__file__).resolve().parents[2]
# The installed console script, as a user runs it. `python -m` would put the project directory
# first on sys.path, where a file such as copy.py shadows the standard library.
SCRIPT = Path(sys.executable).parent / "tierwise"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-P", "-m", "tierwise"]
EXAMPLES = ROOT / "examples"


# The same find_user, reformatted and commented, further down in another file.
APP_REFORMATTED = '''\
"""Copied lookups."""
import sqlite3

VERSION = 2


def find_user(conn: sqlite3.Connection,   email: str) -> dict | None:
    # build the query
    query = "SELECT id, email FROM users WHERE email = '" + email   +   "'"
    row = conn.execute(query).fetchone()   # one row at most

    if row is None:
        return None
    return {"id": row[0],
            "email": row[1]}
'''


class Cli:
    """Runs `python -m tierwise` with an isolated home, config, data and cache."""

    def __init__(self, home: Path, project: Path, *, keys: bool = True) -> None:
        self.home = home
        self.project = project
        self.keys = keys

    def env(self) -> dict[str, str]:
        """The whole environment of the subprocess (nothing inherited but PATH)."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "TIERWISE_CONFIG": str(self.home / "config.toml"),
            "TIERWISE_DATA_DIR": str(self.home / "data"),
            "TIERWISE_CACHE_DIR": str(self.home / "cache"),
            "PYTHONUNBUFFERED": "1",
        }
        if self.keys:
            env["ANTHROPIC_API_KEY"] = env["OPENAI_API_KEY"] = FAKE_KEY
        return env

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run one command from the project directory."""
        done = subprocess.run(
            [*COMMAND, *args],
            cwd=self.project,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert FAKE_KEY not in done.stdout + done.stderr, "the API key was printed"
        return done

    def json(self, *args: str) -> Any:
        """Run a command with --json; it must succeed and print one JSON document."""
        done = self(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def line_of(text: str, needle: str) -> int:
    """The 1-based line holding `needle`."""
    return next(i for i, line in enumerate(text.split("\n"), 1) if needle in line)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProvider]:
    """One fake Anthropic/OpenAI server for the module."""
    with FakeProvider() as server:
        server.responder = fake_reply
        yield server


def make_cli(base: Path, fake: FakeProvider, *, keys: bool = True) -> Cli:
    """A home with a user config pointing at the fake, and a project holding app.py."""
    home, project = base / "home", base / "project"
    home.mkdir(parents=True)
    project.mkdir(parents=True)
    (home / "config.toml").write_text(user_config(fake), encoding="utf-8")
    (project / "pyproject.toml").write_text("[project]\nname = 'demo'\n", encoding="utf-8")
    (project / "app.py").write_text(APP, encoding="utf-8")
    return Cli(home, project, keys=keys)


def test_repeats_and_reformatted_copies_are_answered_from_the_cache(
    tmp_path: Path, fake: FakeProvider
) -> None:
    cli = make_cli(tmp_path, fake)
    target = f"app.py:{line_of(APP, 'row = conn.execute')}"
    before = len(fake.requests)

    first = cli.json("run", "review", target)
    assert len(fake.requests) == before + 1
    assert first["cache_hit"] is False
    assert first["tier"] == "frontier" and first["model"] == "anthropic:claude-opus-5"
    assert any("conn.execute" in reason for reason in first["reasons"])
    assert first["usage"]["input_tokens"] > 0 and first["usage"]["output_tokens"] > 0
    assert first["cost_usd"] > 0
    (finding,) = first["result"]["findings"]
    last_line = line_of(APP, 'return {"id": row[0]')
    assert finding["span"]["start_line"] + 1 == last_line  # the model's line, in file terms

    again = cli.json("run", "review", target)
    assert again["cache_hit"] is True and again["cost_usd"] == 0
    assert again["result"] == first["result"]

    (cli.project / "copy.py").write_text(APP_REFORMATTED, encoding="utf-8")
    copy_target = f"copy.py:{line_of(APP_REFORMATTED, 'row = conn.execute')}"
    copied = cli.json("run", "review", copy_target)
    assert copied["cache_hit"] is True
    (moved,) = copied["result"]["findings"]
    # Anchored in the copy: the finding stays inside the copy's find_user.
    start = line_of(APP_REFORMATTED, "def find_user")
    end = line_of(APP_REFORMATTED, '"email": row[1]}')
    assert start <= moved["span"]["start_line"] + 1 <= end
    assert len(fake.requests) == before + 1, "a cache hit reached the provider"

    refreshed = cli.json("run", "review", target, "--refresh")
    assert refreshed["cache_hit"] is False
    assert len(fake.requests) == before + 2

    stats = cli.json("stats")
    summary = stats["all_time"]
    assert summary["requests"] == 4
    assert stats["cache"]["hits"] == 2
    assert summary["baseline_usd"] >= summary["cost_usd"] > 0

    for path in (cli.home / "data").rglob("*"):
        if path.is_file():
            assert FAKE_KEY.encode() not in path.read_bytes(), f"the key is stored in {path}"
    for path in (cli.home / "cache").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert FAKE_KEY.encode() not in data, f"the key is stored in {path}"
            assert b"SELECT id, email FROM users" not in data, f"source code is cached in {path}"

    assert cli("cache", "clear").returncode == 0
    after_clear = cli.json("run", "review", target)
    assert after_clear["cache_hit"] is False
    assert len(fake.requests) == before + 3


def test_docstring_apply_writes_the_model_answer_into_the_file(
    tmp_path: Path, fake: FakeProvider
) -> None:
    cli = make_cli(tmp_path, fake)
    done = cli("run", "docstring", f"app.py:{line_of(APP, 'def shout')}", "--apply")

    assert done.returncode == 0, done.stderr
    source = (cli.project / "app.py").read_text(encoding="utf-8")
    functions = {n.name: n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}
    assert ast.get_docstring(functions["shout"]) is not None
    assert "Summarise shout" in (ast.get_docstring(functions["shout"]) or "")
    assert ast.get_docstring(functions["find_user"]) is None  # only the target changed


def test_static_tier_needs_no_key_and_no_server(tmp_path: Path, fake: FakeProvider) -> None:
    cli = make_cli(tmp_path, fake, keys=False)
    before = len(fake.requests)

    review = cli.json(
        "run", "review", f"app.py:{line_of(APP, 'def find_user')}", "--tier", "static"
    )
    docstring = cli.json(
        "run", "docstring", f"app.py:{line_of(APP, 'def shout')}", "--tier", "static"
    )

    assert review["tier"] == docstring["tier"] == "static"
    assert review["cost_usd"] == docstring["cost_usd"] == 0
    codes = {f["code"] for f in review["result"]["findings"]}
    assert "S608" in codes  # ruff's SQL-injection rule on the string-built query
    assert "text" in docstring["result"]["docstring"].lower()  # the parameter is documented
    assert len(fake.requests) == before


def test_route_and_plan_need_no_key(tmp_path: Path, fake: FakeProvider) -> None:
    cli = make_cli(tmp_path, fake, keys=False)
    auth = EXAMPLES / "shop" / "auth.py"
    line = line_of(auth.read_text(encoding="utf-8"), "jwt.decode")

    review = cli.json("route", "review", f"{auth}:{line}")
    docstring = cli.json("route", "docstring", f"{auth}:{line}")

    for decision in (review, docstring):
        assert {"action", "tier", "model", "reasons", "estimates"} <= decision.keys()
        assert set(decision["estimates"]) == {"static", "local", "budget", "mid", "frontier"}
        assert all(isinstance(v, int | float) for v in decision["estimates"].values())
    assert review["tier"] == "frontier" and review["assumed_available"] is True
    assert any("jwt.decode" in reason for reason in review["reasons"])
    assert docstring["tier"] != "frontier"
    assert review["estimates"]["frontier"] > review["estimates"]["budget"] > 0

    plan = cli.json("plan", str(EXAMPLES))
    rows, summary = plan["rows"], plan["summary"]
    assert {row["file"].split("/")[-1] for row in rows} >= {"auth.py", "cart.ts", "sync.go"}
    assert summary["routed_usd"] == pytest.approx(sum(r["estimate_usd"] for r in rows))
    assert summary["all_frontier_usd"] == pytest.approx(sum(r["frontier_usd"] for r in rows))
    assert summary["all_budget_usd"] < summary["routed_usd"] < summary["all_frontier_usd"]

    # Nothing is configured, so plan assumes every tier, local too, and its local rows cost
    # $0: the total says that it assumes a model the user does not run.
    local = sum(1 for r in rows if r["tier"] == "local")
    assert local > 0 and summary["local_assumed"] == local
    text = cli("plan", str(EXAMPLES))
    assert text.returncode == 0
    assert "all-frontier" in text.stdout and "all-budget" in text.stdout
    total = next(line for line in text.stdout.split("\n") if line.startswith("routed total"))
    assert total.endswith(
        f"({local} requests on local at $0: a local model is assumed, none is configured)"
    )

    # Plan prices every tier whatever is configured: with keys but no local server the local
    # rows are still assumed, and said to be; with a local tier configured they are not.
    keyed = make_cli(tmp_path / "keyed", fake).json("plan", str(EXAMPLES))
    assert keyed["summary"]["configured_tiers"] == ["budget", "mid", "frontier"]
    assert keyed["summary"]["local_assumed"] == local
    served = make_cli(tmp_path / "local", fake)
    local_server = f'\n[providers.local]\nkind = "openai"\nbase_url = "{fake.openai_base_url}"\n'
    config = served.home / "config.toml"
    config.write_text(config.read_text(encoding="utf-8") + local_server, encoding="utf-8")
    with_local = served.json("plan", str(EXAMPLES))["summary"]
    assert "local" in with_local["configured_tiers"] and with_local["by_tier"]["local"] == local
    assert "local_assumed" not in with_local and "without_local_usd" not in with_local


def test_plan_and_route_say_what_the_local_requests_cost_without_a_local_model(
    tmp_path: Path, fake: FakeProvider
) -> None:
    cli = make_cli(tmp_path, fake, keys=False)
    plan = cli.json("plan", str(EXAMPLES))
    rows, summary = plan["rows"], plan["summary"]
    bare = [r for r in rows if "without_local" in r]
    assert bare and all(r["tier"] == "local" for r in bare)
    assert len(bare) == summary["local_assumed"] == sum(r["tier"] == "local" for r in rows)
    figure = sum(r["without_local"]["estimate_usd"] if "without_local" in r else r["estimate_usd"]
                 for r in rows)  # fmt: skip
    assert summary["without_local_usd"] == pytest.approx(figure)
    assert figure > summary["routed_usd"]
    # The text (this run reads the rows from memory) prints that same total.
    text = cli("plan", str(EXAMPLES))
    assert text.returncode == 0
    line = next(ln for ln in text.stdout.split("\n") if ln.startswith("without a local model"))
    shown = float(line.split("$")[1].split()[0])
    assert shown == pytest.approx(figure, abs=0.00005)
    saving = round(100 * (1 - figure / sum(r["frontier_usd"] for r in rows)))
    assert f"(routing saves {saving}%; the {len(bare)} local requests on " in line

    # Each of those rows is where a user with cloud keys and no local server is routed.
    keyed = make_cli(tmp_path / "keyed", fake)
    for row in bare[:: max(1, len(bare) // 4)]:
        target = f"{row['file']}:{row['line']}"
        real = keyed.json("route", row["action"], target)
        assert real["tier"] == row["without_local"]["tier"], (target, real["reasons"])
        assert real["estimate_usd"] == pytest.approx(row["without_local"]["estimate_usd"])
        # `route` with nothing configured says it too, under its assumed local.
        assumed = cli.json("route", row["action"], target)
        assert assumed["tier"] == "local"
        assert assumed["without_local"]["tier"] == real["tier"]
        said = cli("route", row["action"], target).stdout
        assert (
            f"note: with an API key but no local model it would route to {real['tier']} at $"
        ) in said
    # Off local, route adds nothing.
    auth = EXAMPLES / "shop" / "auth.py"
    line_no = line_of(auth.read_text(encoding="utf-8"), "jwt.decode")
    assert "without_local" not in cli.json("route", "review", f"{auth}:{line_no}")


def test_a_refusal_offers_another_tier_only_when_one_could_answer(
    tmp_path: Path, fake: FakeProvider
) -> None:
    cli = make_cli(tmp_path, fake, keys=False)
    target = f"app.py:{line_of(APP, 'def shout')}"
    hint = "--tier TIER runs the request on another tier"
    # Nothing configured: static can write a docstring, so picking it helps...
    docstring = cli("run", "docstring", target, "--tier", "budget")
    assert docstring.returncode == 3 and "pick the static tier" in docstring.stderr
    assert hint in docstring.stderr
    # ...but no tier can explain: the hint would send the user round in circles.
    explain = cli("run", "explain", target)
    assert explain.returncode == 3 and "needs a provider" in explain.stderr
    assert hint not in explain.stderr
    static = cli("run", "explain", target, "--tier", "static")
    assert static.returncode == 3 and hint not in static.stderr
    assert "the static tier has no explain" in static.stderr


def test_usage_errors_exit_2_with_a_precise_message(tmp_path: Path, fake: FakeProvider) -> None:
    cli = make_cli(tmp_path, fake)
    cases = [
        (("run", "summarise", "app.py:5"), "invalid choice: 'summarise'"),
        (("run", "review", "app.py:5", "--tier", "huge"), "invalid choice: 'huge'"),
        (("run", "review", "app.py:400"), "line 400 is past the end"),
        (("run", "review", "missing.py:3"), "missing.py: no such file"),
        (("route", "review", "app.py:0"), "1-based"),
    ]
    for args, message in cases:
        done = cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)


def test_provider_and_config_errors_exit_3(tmp_path: Path, fake: FakeProvider) -> None:
    cli = make_cli(tmp_path, fake)
    target = f"app.py:{line_of(APP, 'def shout')}"

    fake.script(("status", 500), ("status", 500))  # both models of the chain fail
    failed = cli("run", "explain", target, "--refresh")
    assert failed.returncode == 3
    assert "500" in failed.stderr and "every model in the chain failed" in failed.stderr

    fake.script(*[("status", 429, 0.01)] * 2)  # a rate limit: the CLI says how to switch tier
    limited = cli("run", "explain", target, "--refresh", "--tier", "mid")
    assert limited.returncode == 3
    assert (
        "429" in limited.stderr and "--tier TIER runs the request on another tier" in limited.stderr
    )

    keyless = make_cli(tmp_path / "keyless", fake, keys=False)
    missing = keyless("run", "review", target, "--tier", "frontier")
    assert missing.returncode == 3
    assert "ANTHROPIC_API_KEY" in missing.stderr

    (cli.home / "config.toml").write_text("[routing]\nmax_tier = 'galaxy'\n", encoding="utf-8")
    broken = cli("route", "review", target)
    assert broken.returncode == 3
    assert "config.toml" in broken.stderr and "max_tier" in broken.stderr


def test_doctor_reports_keys_without_printing_them(tmp_path: Path, fake: FakeProvider) -> None:
    cli = make_cli(tmp_path, fake)
    done = cli("doctor")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "ANTHROPIC_API_KEY" in done.stdout
    assert fake.anthropic_base_url.split("//")[1].split("/")[0] in done.stdout  # probed there


def test_doctor_json_gives_tiers_paths_and_a_fix_for_each_problem(
    tmp_path: Path, fake: FakeProvider
) -> None:
    """What editors' health checks read: usable tiers, where files live, what to do."""
    keyless = make_cli(tmp_path / "keyless", fake, keys=False)
    done = keyless("doctor", "--json")
    checks = {c["name"]: c for c in json.loads(done.stdout)}

    tiers = checks["tiers"]
    assert tiers["usable"] == ["static"]
    assert list(tiers["unusable"]) == ["local", "budget", "mid", "frontier"]  # ladder order
    assert "ANTHROPIC_API_KEY" in tiers["unusable"]["frontier"]
    key = checks["key anthropic"]
    assert key["ok"] is False and "export ANTHROPIC_API_KEY" in key["fix"]
    assert checks["cache"]["path"] == str(keyless.home / "cache")
    assert checks["ledger"]["path"] == str(keyless.home / "data" / "ledger.sqlite3")
    assert checks["config"]["files"] == [str(keyless.home / "config.toml")]
    assert "fix: export ANTHROPIC_API_KEY" in keyless("doctor").stdout

    keyed = make_cli(tmp_path / "keyed", fake)
    keyed_checks = {c["name"]: c for c in keyed.json("doctor")}
    assert keyed_checks["tiers"]["usable"] == ["static", "budget", "mid", "frontier"]
    assert "fix" not in keyed_checks["key anthropic"]

    (keyed.home / "config.toml").write_text("[routing]\nmax_tier = 'galaxy'\n", encoding="utf-8")
    broken = keyed("doctor", "--json")
    assert broken.returncode == 3
    (config,) = [c for c in json.loads(broken.stdout) if c["name"] == "config"]
    assert config["ok"] is False and "max_tier" in config["detail"] and config["fix"]


def test_a_corrupt_cache_and_ledger_are_rebuilt_with_a_note(
    tmp_path: Path, fake: FakeProvider
) -> None:
    cli = make_cli(tmp_path, fake)
    target = f"app.py:{line_of(APP, 'def shout')}"
    assert cli("run", "explain", target).returncode == 0
    databases = [p for p in cli.home.rglob("*") if p.suffix in (".db", ".sqlite3")]
    assert {p.parent.name for p in databases} == {"cache", "data"}
    for db in databases:
        db.write_bytes(b"this is not a database" * 100)

    done = cli("run", "explain", target, "--json")

    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["cache_hit"] is False  # the answer went with the old cache
    assert "response cache was rebuilt" in done.stderr
    assert "ledger was rebuilt" in done.stderr
    # The new cache works (at the same tier: a plain re-run would escalate, the ledger remembers).
    assert cli.json("run", "explain", target, "--tier", answer["tier"])["cache_hit"] is True
