"""Token counts a server never reported are labelled as estimates, end to end: a local tier on an
OpenAI-compatible server that ignores `stream_options.include_usage` (as `python -m
llama_cpp.server` does) gets its tokens estimated, and the ledger row, the CLI's text, its JSON
and the stats all say so; a server that reports usage is never labelled an estimate."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.lsp_helpers import fake_reply
from tests.fakes.wire import FakeProvider
from tierwise.config import load_config
from tierwise.core.errors import BadResponse
from tierwise.engine import Engine, Outcome
from tierwise.report import outcome_json, outcome_text, stats_text

SOURCE = "def add(a, b):\n    return a + b\n"


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        server.responder = fake_reply
        yield server


def local_engine(tmp_path: Path, fake: FakeProvider) -> Engine:
    config = tmp_path / "config.toml"
    config.write_text(
        "[providers.local]\n"
        'kind = "openai"\n'
        f'base_url = "{fake.openai_base_url}"\n'
        "local = true\n\n"
        "[tiers.local]\n"
        'models = ["local:tiny.gguf"]\n',
        encoding="utf-8",
    )
    loaded, _ = load_config(config_path=config, workspace_root=tmp_path)
    loaded.ledger.path = str(tmp_path / "ledger.sqlite3")
    loaded.cache.dir = str(tmp_path / "cache")
    return Engine(loaded)


def run(engine: Engine) -> Outcome:
    async def go() -> Outcome:
        try:
            task = engine.build_task("docstring", "calc.py", SOURCE, 0, 4, tier="local")
            return await engine.run(task)
        finally:
            await engine.stores.drain()

    return asyncio.run(go())


def ledger_row(engine: Engine) -> tuple[int, int, int, float, float]:
    con = sqlite3.connect(engine.ledger_path)
    try:
        (row,) = con.execute(
            "SELECT input_tokens, output_tokens, usage_estimated, cost_usd, baseline_usd"
            " FROM requests"
        ).fetchall()
        return row
    finally:
        con.close()


def test_a_server_that_leaves_usage_out_gets_estimated_tokens_labelled_so(
    tmp_path: Path, fake: FakeProvider
) -> None:
    fake.ignore_include_usage = True
    engine = local_engine(tmp_path, fake)
    outcome = run(engine)
    assert outcome.usage.estimated
    input_tokens, output_tokens, estimated, cost, baseline = ledger_row(engine)
    # Counted (estimated), not 0 tokens as if the server had said so; local is $0, and the
    # all-frontier figure is priced from the estimate.
    assert input_tokens > 0 and output_tokens > 0 and estimated == 1
    assert cost == 0.0 and baseline > 0
    text = outcome_text(outcome)
    assert "tokens (estimated: the server reported no usage): in ~" in text
    assert f"out ~{output_tokens}" in text and "all-frontier ~$" in text
    assert outcome_json(outcome)["usage"]["estimated"] is True
    stats = engine.stats(session=False)
    assert stats["all_time"]["usage_estimated"] == 1
    assert "tokens of 1 request are estimates (the server reported no usage)" in stats_text(stats)
    engine.close()


def test_a_server_that_reports_usage_is_not_labelled_an_estimate(
    tmp_path: Path, fake: FakeProvider
) -> None:
    engine = local_engine(tmp_path, fake)
    outcome = run(engine)
    assert not outcome.usage.estimated
    input_tokens, output_tokens, estimated, _, _ = ledger_row(engine)
    assert input_tokens > 0 and output_tokens > 0 and estimated == 0
    text = outcome_text(outcome)
    assert "estimated" not in text and "~" not in text.split("\n")[2]
    assert engine.stats(session=False)["all_time"]["usage_estimated"] == 0
    assert "are estimates" not in stats_text(engine.stats(session=False))
    engine.close()


def test_a_reply_that_cannot_be_used_keeps_its_estimated_tokens_labelled(
    tmp_path: Path, fake: FakeProvider
) -> None:
    fake.ignore_include_usage = True
    fake.responder = lambda _body: "I would call it something nicer."  # no JSON, no list
    engine = local_engine(tmp_path, fake)

    async def go() -> None:
        try:
            task = engine.build_task("rename", "calc.py", SOURCE, 0, 4, tier="local")
            with pytest.raises(BadResponse, match="rename reply had no JSON"):
                await engine.run(task)
        finally:
            await engine.stores.drain()

    asyncio.run(go())
    con = sqlite3.connect(engine.ledger_path)
    try:
        (row,) = con.execute(
            "SELECT outcome, input_tokens, output_tokens, usage_estimated FROM requests"
        ).fetchall()
    finally:
        con.close()
    # Output tokens counted (estimated), so asking again counts as a repeat and escalates.
    assert row[0] == "error" and row[1] > 0 and row[2] > 0 and row[3] == 1
    engine.close()
