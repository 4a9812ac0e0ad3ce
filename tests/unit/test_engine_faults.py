"""The engine's ledger row for requests that go wrong: a cancelled run, a stream that dies part
way, a model that fails over, a reply cut at its token limit, an empty answer; and answers with
secrets in them. Through the engine and the official SDKs against the wire fake."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.wire import FakeProvider
from tierwise.config import Config, LedgerConfig, ProviderConfig, TierConfig
from tierwise.core.code import estimate_tokens
from tierwise.core.errors import BadResponse, Truncated, Unavailable
from tierwise.core.models import Usage
from tierwise.engine import Engine, Event, Outcome

SOURCE = '''\
def settle(invoice, ledger):
    """Post an invoice to the ledger."""
    if invoice.paid:
        return ledger.balance
    ledger.post(invoice.amount)
    return ledger.balance
'''
CHAIN = ["anthropic:claude-haiku-4-5", "openai:gpt-5-mini"]


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        server.responder = lambda _body: "## Settle\n\nPosts the invoice unless it is paid."
        yield server


@pytest.fixture
def engine(tmp_path: Path, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-engine")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-engine")
    monkeypatch.setenv("TIERWISE_CACHE_DIR", str(tmp_path / "cache"))
    config = Config(
        providers={
            "anthropic": ProviderConfig(
                kind="anthropic",
                base_url=fake.anthropic_base_url,
                api_key_env="ANTHROPIC_API_KEY",
                max_retries=0,
            ),
            "openai": ProviderConfig(
                kind="openai",
                base_url=fake.openai_base_url,
                api_key_env="OPENAI_API_KEY",
                max_retries=0,
            ),
        },
        tiers={"budget": TierConfig(models=CHAIN, timeout=20, max_output_tokens=4096)},
        ledger=LedgerConfig(path=str(tmp_path / "ledger.sqlite3")),
    )
    made = Engine(config)
    yield made
    asyncio.run(made.aclose())


def rows(engine: Engine) -> list[dict[str, Any]]:
    assert engine.ledger is not None
    with sqlite3.connect(engine.ledger.path) as con:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute("SELECT * FROM requests ORDER BY id")]


def explain(engine: Engine, on_event: Any = None) -> Outcome:
    task = engine.build_task("explain", "billing.py", SOURCE, 0, 4, tier="budget", refresh=True)
    return asyncio.run(engine.run(task, on_event=on_event))


def test_a_cancelled_run_is_billed_for_what_it_used(engine: Engine, fake: FakeProvider) -> None:
    fake.script(("slow", 400, 0.01))
    seen: list[Event] = []

    async def go() -> None:
        task = engine.build_task("explain", "billing.py", SOURCE, 0, 4, tier="budget")
        run = asyncio.create_task(engine.run(task, on_event=seen.append))
        while not any(e.kind == "delta" for e in seen):
            await asyncio.sleep(0.01)
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run

    asyncio.run(go())

    (row,) = rows(engine)
    assert row["outcome"] == "cancelled" and row["model"] == CHAIN[0]
    assert row["input_tokens"] > 100 and row["output_tokens"] >= 1
    used = Usage(row["input_tokens"], row["output_tokens"])
    assert row["cost_usd"] == pytest.approx(engine.model_cost(CHAIN[0], used)) and used
    assert row["cost_usd"] > 0


def test_a_stream_that_dies_part_way_records_the_tokens_it_used(
    engine: Engine, fake: FakeProvider
) -> None:
    fake.script(("stream_error", 3, "overloaded_error"))

    with pytest.raises(Unavailable, match="mid-answer"):
        explain(engine)

    (row,) = rows(engine)
    assert row["outcome"] == "error" and row["model"] == CHAIN[0]
    sent = fake.requests[-1].body
    assert row["cache_write_tokens"] > 0  # the system prefix, as the server reported it
    assert row["input_tokens"] + row["cache_write_tokens"] + row["cache_read_tokens"] > 100
    assert row["output_tokens"] >= 3 and row["cost_usd"] > 0
    assert sent["model"] == "claude-haiku-4-5"


def test_a_model_that_failed_over_after_being_billed_is_in_the_row(
    engine: Engine, fake: FakeProvider
) -> None:
    fake.script(("stream_error", 0, "overloaded_error"))  # accepted, billed its input, no text

    outcome = explain(engine)

    (row,) = rows(engine)
    assert outcome.model == CHAIN[1] and row["outcome"] == "ok"
    first, second = fake.requests
    assert first.path == "/v1/messages" and second.path == "/v1/chat/completions"
    # Both calls are in the one row: the failed one's input and the answer's tokens.
    answer_only = engine.model_cost(CHAIN[1], Usage(row["input_tokens"], row["output_tokens"]))
    assert row["cost_usd"] > answer_only
    assert row["cache_write_tokens"] > 0  # from the Anthropic attempt


def test_a_reply_cut_at_its_limit_is_asked_again_with_twice_the_cap(
    engine: Engine, fake: FakeProvider
) -> None:
    fake.script(("length", 2))
    warnings: list[str] = []

    outcome = explain(engine, on_event=lambda e: warnings.append(e.message))

    first, second = fake.requests
    assert second.body["max_tokens"] == 2 * first.body["max_tokens"]
    assert outcome.result.markdown.startswith("## Settle")  # type: ignore[union-attr]
    assert any("stopped at its" in w and "asking again" in w for w in warnings)
    (row,) = rows(engine)
    assert row["outcome"] == "ok"
    assert row["output_tokens"] == outcome.usage.output_tokens > estimate_tokens("## Settle")


def test_a_reply_cut_twice_fails_saying_which_limit_to_raise(
    engine: Engine, fake: FakeProvider
) -> None:
    fake.script(("length", 2), ("length", 2))

    with pytest.raises(Truncated) as caught:
        explain(engine)

    message = str(caught.value)
    assert "tiers.budget.max_output_tokens" in message and "never applied" in message
    assert fake.request_count == 2
    (row,) = rows(engine)
    assert row["outcome"] == "error" and row["output_tokens"] >= 2 and row["cost_usd"] > 0


def test_an_empty_answer_is_refused_and_billed(engine: Engine, fake: FakeProvider) -> None:
    fake.script("empty")

    with pytest.raises(BadResponse, match="sent an empty answer"):
        explain(engine)

    (row,) = rows(engine)
    assert row["outcome"] == "error" and row["input_tokens"] > 0 and row["cost_usd"] > 0


def test_a_secret_in_an_answer_is_redacted_before_it_is_delivered_or_cached(
    engine: Engine, fake: FakeProvider
) -> None:
    key = "AKIAQ3EGT5KZ7WXD4MRN"
    fake.responder = lambda _body: f"## Settle\n\nIt logs in with `{key}` first."

    outcome = explain(engine)
    asyncio.run(engine.stores.drain())

    assert key not in outcome.result.markdown  # type: ignore[union-attr]
    assert "<redacted:aws-access-key>" in outcome.result.markdown  # type: ignore[union-attr]
    assert any("redacted 1 secret(s) in the answer" in w for w in outcome.warnings)
    cache = Path(engine.cache.directory)  # type: ignore[union-attr]
    stored = b"".join(p.read_bytes() for p in cache.rglob("*") if p.is_file())
    assert b"redacted:aws-access-key" in stored and key.encode() not in stored
