"""What the CLI says must be true and readable: route agrees with run, stats credits only what
was served, positions are 1-based, files keep their encoding, pipes close quietly."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests import realcode
from tests.e2e.lsp_helpers import APP
from tests.e2e.test_cli import COMMAND, line_of, make_cli
from tests.fakes.wire import FakeProvider

ACTIONS = ("docstring", "rename", "explain", "review", "design")


# -- route says what run does (issue 6, item 5) -------------------------------------------------


@pytest.mark.parametrize("tier", [None, "frontier", "budget"])
def test_route_says_what_run_does_with_no_key(
    tmp_path: Path, fake: FakeProvider, tier: str | None
) -> None:
    cli = make_cli(tmp_path, fake, keys=False)
    target = f"app.py:{line_of(APP, 'cleaned = text.strip()')}"
    extra = ("--tier", tier) if tier else ()
    for action in ACTIONS:
        route = cli.json("route", action, target, *extra)
        text = cli("route", action, target, *extra)
        ran = cli("run", action, target, *extra, "--json")
        note = route["run"]["note"]
        assert note in text.stdout  # the text prints the very note the JSON carries
        if ran.returncode == 0:
            answered = json.loads(ran.stdout)
            assert route["run"]["refused"] is None, (action, tier, note)
            assert note.startswith(f"`tierwise run` would answer on {answered['tier']}")
        else:
            assert route["run"]["refused"] is not None, (action, tier, note)
            assert route["run"]["refused"] in ran.stderr, (action, tier)
            assert "would fall back" not in text.stdout


def test_route_json_and_text_list_one_availability_in_ladder_order(
    tmp_path: Path, fake: FakeProvider
) -> None:
    cli = make_cli(tmp_path, fake, keys=False)
    target = f"app.py:{line_of(APP, 'cleaned = text.strip()')}"
    for action in ("review", "explain"):
        route = cli.json("route", action, target)
        text = cli("route", action, target).stdout
        rows = [
            line
            for line in text.split("\n")
            if re.match(r"^(static|local|budget|mid|frontier) ", line)
        ]
        assert [r.split()[0] for r in rows] == ["static", "local", "budget", "mid", "frontier"]
        said_yes = [r.split()[0] for r in rows if r.split()[2] == "yes"]
        assert (
            said_yes == route["available"] == [t["tier"] for t in route["tiers"] if t["available"]]
        )
        assert said_yes == (["static"] if action == "review" else [])


# -- stats credit only what was served ------------------------------------------------------------


def test_stats_without_a_model_call_claim_no_savings(tmp_path: Path, fake: FakeProvider) -> None:
    cli = make_cli(tmp_path, fake, keys=False)
    target = f"app.py:{line_of(APP, 'cleaned = text.strip()')}"
    ran = cli.json("run", "docstring", target)  # budget wanted, static answered
    assert ran["tier"] == "static" and ran["baseline_usd"] > 0  # what frontier would cost
    assert cli("run", "explain", target).returncode == 3  # refused: no key
    stats = cli.json("stats")
    assert "this_session" not in stats  # a CLI command is its own process: no session line
    for period in ("today", "all_time"):
        s = stats[period]
        assert (s["requests"], s["refused"], s["model_answers"]) == (1, 1, 0)
        assert s["static_answers"] == 1
        # No model answered: no all-frontier baseline is credited, so nothing is "saved".
        assert s["cost_usd"] == 0 and s["baseline_usd"] == 0
        assert s["savings_usd"] == s["downgrade_savings_usd"] == s["routing_savings_usd"] == 0
        assert set(s["by_tier"]) == {"static"}  # the refused explain has no tier spend
        assert s["by_action"]["explain"] == {
            **s["by_action"]["explain"],
            "requests": 0,
            "refused": 1,
        }
    text = cli("stats").stdout
    assert "this session" not in text
    assert text.startswith(
        "today: 1 request served, 1 refused · spent $0 · saved $0 against all-frontier\n"
        "  not counted as saved: 1 static answer (no model answered: a skeleton or a linter's"
        " findings)\n"
    )
    assert "by downgrades" not in text
    assert "1 refused" in text.split("action explain", 1)[1].split("\n", 1)[0]
    assert "answered from the cache" not in text  # no model-tier answer: no rate to speak of
    assert "%" not in text.split("cache:", 1)[1]  # one hit rate, the ledger's


def test_a_tier_priced_above_the_one_above_it_is_named_once_on_stderr(
    tmp_path: Path, fake: FakeProvider
) -> None:
    cli = make_cli(tmp_path, fake)
    config = cli.home / "config.toml"
    config.write_text(
        config.read_text() + '\n[tiers.mid]\nmodels = ["openai:gpt-4.1"]\n', encoding="utf-8"
    )
    done = cli("route", "explain", f"app.py:{line_of(APP, 'cleaned = text.strip()')}")
    assert done.returncode == 0
    warned = [line for line in done.stderr.split("\n") if "costs more" in line]
    assert len(warned) == 1 and "openai:gpt-4.1 ($2/M input" in warned[0]
    assert "openai:gpt-5 ($1.25/M input" in warned[0]
    assert "costs more" not in done.stdout


# -- CLI details (issue 6, item 7) ---------------------------------------------------------------


def test_positions_in_errors_are_the_clis_1_based_ones(tmp_path: Path, fake: FakeProvider) -> None:
    cli = make_cli(tmp_path, fake)
    count = len(APP.splitlines())
    past = cli("route", "review", "app.py:998")
    assert past.returncode == 2
    assert f"line 998 is past the end: the file has {count} lines (1 to {count})" in past.stderr
    assert "0-based" not in past.stderr and "0 to" not in past.stderr
    width = len(APP.split("\n")[4])
    column = cli("route", "review", "app.py:5:200")
    assert f"column 200 is past the end of line 5: it has {width} characters" in column.stderr
    assert f"columns run 1 to {width + 1}" in column.stderr
    for bad in ("app.py:abc", "app.py:3:x"):
        done = cli("route", "review", bad)
        assert done.returncode == 2 and "is not a position" in done.stderr, done.stderr
        assert "no such file" not in done.stderr
    assert "no such file" in cli("route", "review", "missing.py:3").stderr


def test_a_latin_1_file_with_a_coding_line_is_read_and_written_in_latin_1(
    tmp_path: Path, fake: FakeProvider
) -> None:
    cli = make_cli(tmp_path, fake, keys=False)
    source = (
        "# -*- coding: latin-1 -*-\r\ndef prix(montant):\r\n"
        "    return f'{montant} EUR'.replace('EUR', 'é')\r\n"
    )
    path = cli.project / "prix.py"
    path.write_bytes(source.encode("latin-1"))
    done = cli("run", "docstring", "prix.py:3", "--apply")
    assert done.returncode == 0, done.stderr
    written = path.read_bytes()
    assert b'\r\n    """' in written and b"\n" not in written.replace(b"\r\n", b"")
    assert "'é')" in written.decode("latin-1") and "Return the prix." in written.decode("latin-1")
    bare = cli.project / "bare.py"
    bare.write_bytes("def f():\n    return 'é'\n".encode("latin-1"))
    refused = cli("route", "review", "bare.py:2")
    assert refused.returncode == 2
    assert "not valid utf-8: byte 0xe9" in refused.stderr and "coding" in refused.stderr


def test_piping_into_head_closes_quietly(tmp_path: Path, fake: FakeProvider) -> None:
    cli = make_cli(tmp_path, fake, keys=False)
    # Far more output than a pipe holds, so the writer meets the closed pipe.
    tree = realcode.sdist("django") / "django" / "contrib" / "auth"
    done = subprocess.run(
        f"{' '.join(COMMAND)} plan {tree} --json | head -c 200",
        shell=True,
        cwd=cli.project,
        env=cli.env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and len(done.stdout) == 200
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr


def test_warnings_go_to_stderr_once(tmp_path: Path, fake: FakeProvider) -> None:
    cli = make_cli(tmp_path, fake)
    # Trivial code is demoted to local, which is not configured: a fallback warning.
    (cli.project / "tiny.py").write_text("def twice(x):\n    return 2 * x\n", encoding="utf-8")
    for args in (("route", "docstring", "tiny.py:2"), ("run", "docstring", "tiny.py:2")):
        done = cli(*args)
        assert done.returncode == 0, done.stderr
        assert "warning" not in done.stdout, done.stdout
        warned = [line for line in done.stderr.split("\n") if "warning:" in line]
        assert len(warned) == 1 and "local is not configured" in warned[0], done.stderr


def test_every_subcommand_has_a_one_line_description(tmp_path: Path, fake: FakeProvider) -> None:
    cli = make_cli(tmp_path, fake)
    top = cli("--help").stdout
    for name in ("run", "route", "plan", "stats", "cache", "doctor", "serve"):
        line = next(line for line in top.split("\n") if line.strip().startswith(name + " "))
        assert len(line.split(None, 1)[1].strip()) > 10, line
        own = cli(name, "--help").stdout
        assert line.split(None, 1)[1].strip() + "." in " ".join(own.split())
    assert "--json" not in cli("serve", "--help").stdout
    assert "--json" in cli("stats", "--help").stdout


def test_plural_forms_and_cut_columns(tmp_path: Path, fake: FakeProvider) -> None:
    cli = make_cli(tmp_path, fake, keys=False)
    (cli.project / "one.py").write_text(
        "def a_function_with_a_really_long_descriptive_name(x):\n    return x\n", encoding="utf-8"
    )
    plan = cli("plan", "one.py").stdout
    assert "2 requests routed" in plan
    assert "(a 1-line body)" in plan and "(1 lines)" not in plan
    row = next(line for line in plan.split("\n") if line.startswith("one.py:1"))
    assert "a_function_with_a_reall…" in row  # 24 columns, the last one saying it was cut
    (cli.project / "two.py").write_text("def f(x):\n    return x\n", encoding="utf-8")
    single = cli("plan", "two.py", "--actions", "review").stdout
    assert "1 request routed" in single


def test_a_static_review_with_nothing_to_say_says_so(tmp_path: Path, fake: FakeProvider) -> None:
    cli = make_cli(tmp_path, fake, keys=False)
    (cli.project / "clean.py").write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    done = cli("run", "review", "clean.py:2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("no findings (ruff, static)")


def test_route_and_stats_list_tiers_in_ladder_order(tmp_path: Path, fake: FakeProvider) -> None:
    cli = make_cli(tmp_path, fake)
    target = f"app.py:{line_of(APP, 'cleaned = text.strip()')}"
    for tier in ("frontier", "static", "budget", "mid"):
        args = (
            ("run", "docstring", target, "--tier", tier)
            if tier != "mid"
            else ("run", "explain", target)
        )
        assert cli(*args).returncode == 0
    text = cli("stats").stdout.split("all time:", 1)[1]
    listed = re.findall(r"^  tier   (\w+)", text, re.M)
    assert listed == sorted(listed, key=["static", "local", "budget", "mid", "frontier"].index)
    assert len(listed) == 4


def _frame(message: dict[str, object]) -> bytes:
    body = json.dumps(message).encode()
    return f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def test_serve_ends_without_a_traceback_after_shutdown_and_exit(
    tmp_path: Path, fake: FakeProvider
) -> None:
    # pygls closes stdout when the session ends; flushing it afterwards must not be a crash
    # the editor's log shows (it was: "ValueError: I/O operation on closed file").
    cli = make_cli(tmp_path, fake, keys=False)
    server = subprocess.Popen(
        [*COMMAND, "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cli.project,
        env=cli.env(),
    )
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write(
        _frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
    )
    server.stdin.flush()
    assert b"Content-Length" in server.stdout.readline()  # initialize answered
    messages: list[dict[str, object]] = [
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
    ]
    for message in messages:
        server.stdin.write(_frame(message))
    server.stdin.flush()
    stdout = b""
    while b'"id": 2' not in stdout and b'"id":2' not in stdout:
        chunk = os.read(server.stdout.fileno(), 65536)
        assert chunk, "the server closed stdout before answering shutdown"
        stdout += chunk
    server.stdin.write(_frame({"jsonrpc": "2.0", "method": "exit"}))
    server.stdin.close()
    server.wait(timeout=120)
    assert server.stderr is not None
    err = server.stderr.read()
    done = subprocess.CompletedProcess(server.args, server.returncode, stdout, err)
    stderr = done.stderr.decode(errors="replace")
    assert "Traceback" not in stderr and "closed file" not in stderr, stderr
    assert done.returncode == 0, stderr
