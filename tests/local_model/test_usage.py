"""The real server leaves usage out of the stream, and the figures tierwise prints stay true:
the official openai SDK shows what the server sends; the CLI, run as a user runs it with a
user config file, labels its token counts and the all-frontier figure as estimates, and so does
`tierwise stats`."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import openai

from tests.fakes.wire import FakeProvider
from tests.local_model.conftest import config_text
from tests.local_model.harness import Target, targets
from tests.local_model.llama import LlamaServer


def test_the_server_ignores_include_usage_so_the_stream_carries_no_usage(
    llama: LlamaServer,
) -> None:
    client = openai.OpenAI(base_url=llama.base_url, api_key="not-needed", max_retries=0)
    stream = client.chat.completions.create(
        model=llama.model_id,
        messages=[{"role": "user", "content": "Say hello."}],
        stream=True,
        stream_options={"include_usage": True},
        max_tokens=8,
        temperature=0,
    )
    chunks = list(stream)
    client.close()
    assert chunks and any(c.choices and c.choices[0].finish_reason for c in chunks)
    # llama-cpp-python 0.3.36: no usage on any chunk, although the request asked for it.
    assert all(getattr(c, "usage", None) is None for c in chunks)


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOME": str(home),
        "TIERWISE_CONFIG": str(home / "config.toml"),
        "TIERWISE_DATA_DIR": str(home / "data"),
        "TIERWISE_CACHE_DIR": str(home / "cache"),
    }
    return subprocess.run(
        [sys.executable, "-m", "tierwise", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _a_target() -> Target:
    return targets(actions=["docstring"])[0]


def test_the_cli_labels_tokens_the_server_did_not_report_as_estimates(
    llama: LlamaServer, cloud: FakeProvider, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(config_text(llama, cloud), encoding="utf-8")
    target = _a_target()
    where = f"{target.located.path}:{target.located.line + 1}"
    ran = _cli(home, "run", "explain", where, "--tier", "local", "--refresh")
    assert ran.returncode in (0, 3), ran.stderr  # an answer, or a clear provider error
    con = sqlite3.connect(home / "data" / "ledger.sqlite3")
    try:
        (row,) = con.execute(
            "SELECT tier, input_tokens, output_tokens, usage_estimated, cost_usd, outcome"
            " FROM requests"
        ).fetchall()
    finally:
        con.close()
    tier, input_tokens, output_tokens, estimated, cost, outcome = row
    assert tier == "local" and input_tokens > 0 and estimated == 1 and cost == 0.0
    if ran.returncode == 0:
        assert outcome == "ok" and output_tokens > 0
        header = ran.stdout.split("\n")[2]
        assert header.startswith("tokens (estimated: the server reported no usage): in ~")
        assert f"in ~{input_tokens} " in header and f"out ~{output_tokens} " in header
    else:
        assert outcome == "error" and "Traceback" not in ran.stderr
    stats = _cli(home, "stats")
    assert stats.returncode == 0, stats.stderr
    assert "tokens of 1 request are estimates (the server reported no usage)" in stats.stdout
    as_json = _cli(home, "stats", "--json")
    assert json.loads(as_json.stdout)["all_time"]["usage_estimated"] == 1
