"""Fixtures for driving the official SDKs through tierwise's adapters against the fake server."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.fakes.wire import FakeProvider
from tierwise.config import ProviderConfig
from tierwise.core.errors import ProviderError
from tierwise.providers.base import Completion, Delta, ProviderRequest

KEY = "sk-test-123"  # a fake key: it must never show up in an error message

# 400 characters of instructions and 800 of context: 100 + 200 tokens at the fake's 4 chars a
# token, so the expected usage below follows from what the test sends.
SYSTEM = ("You write concise Python docstrings. " * 11)[:400]
CONTEXT = ("def helper(value: int) -> int:\n    return value * 2\n" * 16)[:800]
PROMPT = "Document the function parse_order(line: str) -> Order now."[:40]
REPLY = "Parses one order line into an Order record.\n"  # 44 characters: 11 tokens


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    """A fresh fake server per test, answering with REPLY."""
    with FakeProvider() as server:
        server.responder = lambda _body: REPLY
        yield server


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test keys only; no inherited endpoint or key variables from the machine."""
    for var in (
        "ANTHROPIC_BASE_URL",
        "OPENAI_BASE_URL",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_PROFILE",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)


def anthropic_config(base_url: str | None, *, retries: int = 0) -> ProviderConfig:
    """An anthropic provider pointed at the fake."""
    return ProviderConfig(
        kind="anthropic", base_url=base_url, api_key_env="ANTHROPIC_API_KEY", max_retries=retries
    )


def openai_config(base_url: str | None, *, retries: int = 0) -> ProviderConfig:
    """An openai provider pointed at the fake."""
    return ProviderConfig(
        kind="openai", base_url=base_url, api_key_env="OPENAI_API_KEY", max_retries=retries
    )


def make_request(model: str, *, timeout: float = 10.0, context: str = CONTEXT) -> ProviderRequest:
    """A request whose sizes are known: system 100, context 200, prompt 10 tokens."""
    return ProviderRequest(
        model=model,
        system=SYSTEM,
        context=context,
        prompt=PROMPT,
        max_tokens=256,
        timeout=timeout,
        cache_key="tierwise-docstring",
    )


async def collect(stream: AsyncIterator[Delta | Completion]) -> list[Delta | Completion]:
    """Every item of a stream."""
    return [item async for item in stream]


async def collect_until_error(
    stream: AsyncIterator[Delta | Completion],
) -> tuple[list[Delta | Completion], ProviderError]:
    """The items a stream yielded before it raised; fails the test if it did not raise."""
    items: list[Delta | Completion] = []
    try:
        async for item in stream:
            items.append(item)
    except ProviderError as exc:
        return items, exc
    raise AssertionError(f"the stream finished without an error after {items!r}")


def closed_port_url() -> str:
    """A 127.0.0.1 URL on which nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
