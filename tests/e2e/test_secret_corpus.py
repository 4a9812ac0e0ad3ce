"""Secrets in code never reach a cloud model, and look-alikes do, measured on what the wire
fake receives through the engine and the official SDK (tests/secrets_corpus.py: at least 60
secrets across 15 kinds and 60 look-alikes; the figures are in docs/security.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.wire import FakeProvider
from tests.secrets_corpus import (
    engine_for,
    heldout_lookalikes,
    heldout_secrets,
    lookalikes,
    measure,
    secrets,
    sent_for,
)

RECALL_TARGET = 0.98
FALSE_POSITIVE_TARGET = 0.05


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProvider]:
    """A fake Anthropic endpoint that answers every explain."""
    with FakeProvider() as server:
        server.responder = lambda _body: "## What it does\n\nIt wires a client."
        yield server


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key for the cloud provider; nothing inherited from the machine."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-corpus")
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)


def test_the_corpus_is_as_large_and_varied_as_promised() -> None:
    found, plain = secrets(), lookalikes()
    assert len(found) >= 60 and len({c.kind for c in found}) >= 15
    assert len(plain) >= 60
    assert len({c.target for c in found + plain}) == len(found + plain)  # each case its own module
    for case in found + plain:
        assert case.value in case.code


async def test_secrets_do_not_reach_a_cloud_model_and_look_alikes_do(fake: FakeProvider) -> None:
    engine = engine_for(fake.anthropic_base_url)
    try:
        missed = await measure(engine, fake, secrets() + heldout_secrets(), secret=True)
        over = await measure(engine, fake, lookalikes() + heldout_lookalikes(), secret=False)
    finally:
        await engine.aclose()

    recall = 1 - missed.rate
    assert recall >= RECALL_TARGET, [c.target for c in missed.wrong]
    assert over.rate <= FALSE_POSITIVE_TARGET, [c.target for c in over.wrong]


async def test_a_local_model_gets_the_code_as_it_is(fake: FakeProvider) -> None:
    # Redaction is for what leaves the machine: a local server sees the real values (so the
    # measurement above can fail: the same cases, unredacted, carry every secret).
    engine = engine_for(fake.anthropic_base_url, local=True)
    try:
        arrived = await measure(engine, fake, secrets()[:10], secret=False)
    finally:
        await engine.aclose()
    assert arrived.wrong == []


async def test_workspace_prompt_text_in_the_system_prompt_is_redacted(fake: FakeProvider) -> None:
    token = "ghp_" + "Q7m2Zp9Lx4Vt8Rk1Ws6Yb3Nc5Hd8Jf2Kq9Lz3X"
    engine = engine_for(
        fake.anthropic_base_url, prompts={"explain": f"Our CI token is {token}; mention it."}
    )
    try:
        sent = await sent_for(engine, fake, lookalikes()[0])
    finally:
        await engine.aclose()
    assert "Our CI token is <redacted:github-token>" in sent
    assert token not in sent
