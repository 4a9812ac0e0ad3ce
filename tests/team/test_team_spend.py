"""Team spend in the shared cache: per-day counters by user, action and tier (numbers only),
`tierwise stats --team`, tierwise.stats's team section, the team budget (enforced like the
personal one, against the last known total when the server is down), and doctor."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis
from lsprotocol import types
from pytest_lsp import ClientServerConfig

from tests.e2e.lsp_helpers import CLIENTS, EditorClient, make_client, server_env, stop
from tests.fakes.wire import FakeProvider
from tests.team.developers import (
    SECRET,
    SECRET_ENV,
    SOURCE,
    ask,
    ask_async,
    developer,
    line_of,
    run,
)
from tests.team.redis_server import RedisServer, text
from tierwise.core.errors import BudgetExceeded
from tierwise.engine import Engine

FIELD = re.compile(
    r"(requests|cost_usd|served_cost_usd|baseline_usd|cache_hits|shared_hits|cache_saved_usd)"
    r"|(user:(alice|bob)|action:(docstring|review|explain)|tier:(budget|mid|frontier))"
    r":(requests|cost_usd|served_cost_usd|baseline_usd)"
)


def _ledger_cost(engine: Engine) -> float:
    with sqlite3.connect(engine.ledger_path) as con:
        return float(con.execute("SELECT COALESCE(SUM(cost_usd), 0) FROM requests").fetchone()[0])


def _cli(
    *args: str, config: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tierwise", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env or os.environ.copy(),
        timeout=60,
    )


def test_counters_by_user_action_and_tier_hold_numbers_only(
    tmp_path: Path, fake: FakeProvider, l2: redis.Redis, redis_server: RedisServer
) -> None:
    alice = developer(tmp_path / "alice", fake, redis_server.url)
    bob = developer(tmp_path / "bob", fake, redis_server.url)
    ask(alice)
    ask(alice, "review", tier="mid")
    ask(bob)  # Alice's answer: a shared hit, $0
    (day_key,) = [k for k in l2.scan_iter(match="tierwise:v3:team-a:spend:*")]
    counters = {text(k): text(v) for k, v in l2.hgetall(day_key).items()}
    for field, value in counters.items():
        assert FIELD.fullmatch(field), field  # no code, no file name, no target
        float(value)
    team = run(bob.team_stats(), bob)
    assert team is not None and team["reachable"]
    today = team["today"]
    assert today["requests"] == 3 and today["cache_hits"] == 1 and today["shared_hits"] == 1
    assert today["cost_usd"] == pytest.approx(_ledger_cost(alice) + _ledger_cost(bob))
    assert today["by_user"]["alice"]["requests"] == 2
    assert today["by_user"]["bob"] == {
        "requests": 1,
        "cost_usd": 0.0,
        "baseline_usd": pytest.approx(today["by_user"]["bob"]["baseline_usd"]),
        "savings_usd": pytest.approx(today["by_user"]["bob"]["baseline_usd"]),
    }
    assert set(today["by_action"]) == {"docstring", "review"}
    assert set(today["by_tier"]) == {"budget", "mid"}
    assert today["savings_usd"] == pytest.approx(today["baseline_usd"] - today["cost_usd"])


def test_stats_team_on_the_command_line(
    tmp_path: Path, fake: FakeProvider, l2: redis.Redis, redis_server: RedisServer
) -> None:
    alice = developer(tmp_path / "alice", fake, redis_server.url)
    ask(alice)
    config = tmp_path / "alice" / "config.toml"
    out = _cli("stats", "--team", "--json", config=config)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert "today" in data and "budget" in data and "cache" in data  # existing fields stay
    assert data["team"]["today"]["by_user"]["alice"]["requests"] == 1
    text = _cli("stats", "--team", config=config)
    assert re.search(r"team team-a today \(UTC\): 1 request served", text.stdout), text.stdout
    assert re.search(r"user\s+alice\s+1 request", text.stdout)
    cache = _cli("cache", "stats", config=config)
    assert "hits (L1 0, L2 0)" in cache.stdout or "0 hits (L1 0, L2 0)" in cache.stdout
    assert "shared cache: redis://127.0.0.1" in cache.stdout and "1 answer" in cache.stdout
    solo = tmp_path / "solo.toml"
    solo.write_text("", encoding="utf-8")
    refused = _cli("stats", "--team", config=solo)
    assert refused.returncode == 2 and "no shared cache is configured" in refused.stderr


BUDGET = '[budget]\non_hard = "refuse"\n\n[budget.team]\ndaily_usd = 0.0015\nmode = "hard"\n'


def test_the_team_budget_counts_everyones_spend_and_holds_when_redis_is_down(
    tmp_path: Path, fake: FakeProvider, l2: redis.Redis, redis_server: RedisServer
) -> None:
    alice = developer(tmp_path / "alice", fake, redis_server.url, extra=BUDGET)
    first = ask(alice)  # within the cap, and most of it spent
    assert 0 < first.cost_usd < 0.0015
    bob = developer(tmp_path / "bob", fake, redis_server.url, extra=BUDGET)
    other = {"action": "review", "tier": "mid"}  # ~$0.005: over what the team has left
    spent = re.escape(f"team daily budget $0.0015: ${first.cost_usd:.4f} spent")
    with pytest.raises(BudgetExceeded, match=spent):
        ask(bob, **other)  # Bob has spent nothing: it is the team's total
    redis_server.stop()
    try:
        later = developer(tmp_path / "bob", fake, redis_server.url, extra=BUDGET)  # a new CLI run
        with pytest.raises(BudgetExceeded, match=r"last known team total at .* unreachable"):
            ask(later, **other)
    finally:
        redis_server.start()
    solo = developer(tmp_path / "carol", fake, None)  # no team: no team budget
    assert ask(solo, **other).result is not None


def test_a_soft_team_budget_warns_and_answers(
    tmp_path: Path, fake: FakeProvider, l2: redis.Redis, redis_server: RedisServer
) -> None:
    soft = BUDGET.replace('mode = "hard"', 'mode = "soft"')
    alice = developer(tmp_path / "alice", fake, redis_server.url, extra=soft)
    ask(alice)
    bob = developer(tmp_path / "bob", fake, redis_server.url, extra=soft)
    outcome = ask(bob, "review", tier="mid")
    assert any("over the team daily budget $0.0015" in w for w in outcome.decision.warnings)


def test_doctor_checks_the_server_and_that_the_secret_is_set_without_printing_it(
    tmp_path: Path, fake: FakeProvider, l2: redis.Redis, redis_server: RedisServer
) -> None:
    developer(tmp_path / "alice", fake, redis_server.url)
    config = tmp_path / "alice" / "config.toml"
    out = _cli("doctor", "--json", config=config)
    checks = {c["name"]: c for c in json.loads(out.stdout)}
    assert checks["shared cache secret"]["ok"] and checks["shared cache"]["ok"]
    assert "answered PING" in checks["shared cache"]["detail"]
    assert SECRET not in out.stdout + out.stderr
    unset = {k: v for k, v in os.environ.items() if k != SECRET_ENV}
    out = _cli("doctor", "--json", config=config, env=unset)
    checks = {c["name"]: c for c in json.loads(out.stdout)}
    assert out.returncode == 3 and not checks["shared cache secret"]["ok"]
    assert f"{SECRET_ENV} is not set" in checks["shared cache secret"]["detail"]
    assert SECRET_ENV in checks["shared cache secret"]["fix"]
    redis_server.stop()
    try:
        out = _cli("doctor", "--json", config=config)
    finally:
        redis_server.start()
    checks = {c["name"]: c for c in json.loads(out.stdout)}
    assert out.returncode == 3 and not checks["shared cache"]["ok"]
    assert "cannot reach redis://127.0.0.1" in checks["shared cache"]["detail"]
    assert SECRET not in out.stdout + out.stderr


async def test_the_servers_stats_have_a_team_section(
    tmp_path: Path, fake: FakeProvider, l2: redis.Redis, redis_server: RedisServer
) -> None:
    alice = developer(tmp_path / "alice", fake, redis_server.url)
    await ask_async(alice)  # a teammate's request today
    await alice.aclose()
    home = tmp_path / "bob"
    developer(home, fake, redis_server.url)
    root = home / "repo"
    (root / "weights.py").write_text(SOURCE, encoding="utf-8")
    env = {**server_env(home, home / "config.toml"), SECRET_ENV: SECRET}
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "tierwise", "serve"],
        server_env=env,
        client_factory=make_client,
    )
    client = await config.start()
    assert isinstance(client, EditorClient)
    client.root = root
    await client.initialize_session(
        types.InitializeParams(
            capabilities=CLIENTS["vscode"],
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(root.as_uri(), root.name)],
        )
    )
    try:
        uri = client.open(root / "weights.py")
        line = line_of(SOURCE, "def total_weight")
        ran: dict[str, Any] = await client.command(
            "tierwise.run",
            {"action": "docstring", "uri": uri, "position": {"line": line, "character": 4}},
        )
        assert ran["cache_hit"] is True  # Alice's answer
        stats = await client.command("tierwise.stats")
    finally:
        await stop(client)
    for kept in ("session", "this_session", "today", "all_time", "cache", "budget", "sticky"):
        assert kept in stats, kept  # the VS Code and Neovim clients read these
    team = stats["team"]
    assert team["namespace"] == "team-a" and team["reachable"]
    assert set(team["today"]["by_user"]) == {"alice", "bob"}
    assert team["today"]["shared_hits"] == 1
    assert team["budget"]["daily_usd"] == 0.0
