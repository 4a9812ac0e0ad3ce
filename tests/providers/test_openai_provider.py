"""The OpenAI adapter driving the official SDK over real HTTP against the fake server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx2
import pytest

from tests.fakes.wire import FakeProvider
from tests.providers.conftest import (
    CONTEXT,
    KEY,
    PROMPT,
    REPLY,
    SYSTEM,
    closed_port_url,
    collect,
    collect_until_error,
    make_request,
    openai_config,
)
from tierwise.config import ProviderConfig
from tierwise.core.errors import (
    BadResponse,
    MissingKey,
    ProviderError,
    RateLimited,
    Timeout,
    Unavailable,
)
from tierwise.core.models import Usage
from tierwise.providers.base import Completion, Delta
from tierwise.providers.openai import OpenAIProvider, is_reasoning_model

MODEL = "gpt-4.1"


class ToFake(httpx2.AsyncHTTPTransport):
    """Sends what the SDK addresses to api.openai.com to the fake on 127.0.0.1 instead."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.port)
        return await super().handle_async_request(request)


@pytest.fixture
async def provider(fake: FakeProvider) -> AsyncIterator[OpenAIProvider]:
    """An OpenAI-compatible provider on the fake, without SDK retries."""
    made = OpenAIProvider("openai", openai_config(fake.openai_base_url))
    yield made
    await made.aclose()


@pytest.fixture
async def official(fake: FakeProvider) -> AsyncIterator[OpenAIProvider]:
    """The official-API provider (no base_url), its traffic rerouted to the fake."""
    client = httpx2.AsyncClient(transport=ToFake(fake.port))
    made = OpenAIProvider("openai", openai_config(None), http_client=client)
    yield made
    await made.aclose()


async def test_streams_deltas_then_one_completion_with_cached_tokens(
    provider: OpenAIProvider, fake: FakeProvider
) -> None:
    first = await collect(provider.stream(make_request(MODEL)))
    second = await collect(provider.stream(make_request(MODEL)))

    for items in (first, second):
        deltas = [item for item in items[:-1] if isinstance(item, Delta)]
        assert len(deltas) == len(items) - 1 >= 2
        assert isinstance(items[-1], Completion)
        assert "".join(d.text for d in deltas) == items[-1].text == REPLY
        assert items[-1].model == MODEL
    # The system message (1202 characters: 300 tokens) is cached after the first call;
    # prompt_tokens includes cached tokens, our input_tokens does not.
    done_first, done_second = first[-1], second[-1]
    assert isinstance(done_first, Completion) and isinstance(done_second, Completion)
    assert done_first.usage == Usage(input_tokens=310, output_tokens=11)
    assert done_second.usage == Usage(input_tokens=10, output_tokens=11, cache_read_tokens=300)


async def test_request_asks_for_usage_and_puts_the_prompt_last(
    provider: OpenAIProvider, fake: FakeProvider
) -> None:
    await collect(provider.stream(make_request(MODEL)))

    (sent,) = fake.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.body["stream"] is True
    assert sent.body["stream_options"] == {"include_usage": True}
    assert sent.body["messages"] == [
        {"role": "system", "content": f"{SYSTEM}\n\n{CONTEXT}"},
        {"role": "user", "content": PROMPT},
    ]
    assert sent.body["max_tokens"] == 256
    # A compatible server may reject parameters it does not know.
    assert "prompt_cache_key" not in sent.body


async def test_official_api_gets_the_prompt_cache_key(
    official: OpenAIProvider, fake: FakeProvider
) -> None:
    items = await collect(official.stream(make_request(MODEL)))

    assert isinstance(items[-1], Completion)
    assert fake.requests[0].body["prompt_cache_key"] == "tierwise-docstring"


async def test_reasoning_models_get_max_completion_tokens_and_no_temperature(
    provider: OpenAIProvider, fake: FakeProvider
) -> None:
    await collect(provider.stream(make_request("gpt-5-mini")))
    await collect(provider.stream(make_request(MODEL)))

    reasoning, classic = (r.body for r in fake.requests)
    assert reasoning["max_completion_tokens"] == 256
    assert "max_tokens" not in reasoning and "temperature" not in reasoning
    assert classic["max_tokens"] == 256 and classic["temperature"] == 0.0
    assert "max_completion_tokens" not in classic


@pytest.mark.parametrize(
    ("model", "reasoning"),
    [
        ("gpt-5", True),
        ("gpt-5-nano", True),
        ("o3-mini", True),
        ("openai/o4-mini", True),
        ("gpt-4.1", False),
        ("gpt-4o", False),
        ("qwen2.5-coder:1.5b", False),
        ("omni-lite", False),
    ],
)
def test_reasoning_family_detection(model: str, reasoning: bool) -> None:
    assert is_reasoning_model(model) is reasoning


async def test_compatible_server_without_usage_gets_an_estimate(
    provider: OpenAIProvider, fake: FakeProvider
) -> None:
    fake.ignore_include_usage = True

    items = await collect(provider.stream(make_request(MODEL)))

    completion = items[-1]
    assert isinstance(completion, Completion) and completion.text == REPLY
    # estimate_tokens rounds up: ceil(1242 / 4) and ceil(44 / 4); labelled as an estimate, so
    # the ledger and the CLI never show it as the server's count.
    assert completion.usage == Usage(input_tokens=311, output_tokens=11, estimated=True)


async def test_official_api_without_usage_is_bad_response(
    official: OpenAIProvider, fake: FakeProvider
) -> None:
    fake.ignore_include_usage = True

    with pytest.raises(BadResponse, match="include_usage"):
        await collect(official.stream(make_request(MODEL)))


async def test_rate_limit_is_rate_limited_with_the_wait_the_server_asked_for(
    fake: FakeProvider,
) -> None:
    fake.script(("status", 429, 2))
    # The SDK makes no retry of its own, whatever max_retries says: the pool retries once.
    provider = OpenAIProvider("openai", openai_config(fake.openai_base_url, retries=1))

    with pytest.raises(RateLimited, match="429") as caught:
        await collect(provider.stream(make_request(MODEL)))
    await provider.aclose()

    assert fake.request_count == 1
    assert caught.value.retry_after == 2
    assert "--tier" not in str(caught.value)  # a CLI flag: wrong in an editor
    assert caught.value.usage is None  # refused before anything was billed


async def test_server_error_is_unavailable(provider: OpenAIProvider, fake: FakeProvider) -> None:
    fake.script(("status", 503))

    with pytest.raises(Unavailable, match="503"):
        await collect(provider.stream(make_request(MODEL)))


async def test_slow_server_times_out_with_the_tier_timeout(
    provider: OpenAIProvider, fake: FakeProvider
) -> None:
    fake.script(("hang", 5))

    with pytest.raises(Timeout, match=r"0\.3s"):
        await collect(provider.stream(make_request(MODEL, timeout=0.3)))


@pytest.mark.parametrize("behaviour", ["truncate", "end_early"])
async def test_cut_stream_is_an_error_not_a_partial_answer(
    provider: OpenAIProvider, fake: FakeProvider, behaviour: str
) -> None:
    fake.script(behaviour)

    items, error = await collect_until_error(provider.stream(make_request(MODEL)))

    assert isinstance(error, BadResponse | Unavailable)
    assert any(isinstance(item, Delta) for item in items)
    assert not any(isinstance(item, Completion) for item in items)


async def test_malformed_chunk_is_bad_response(
    provider: OpenAIProvider, fake: FakeProvider
) -> None:
    fake.script("malformed")

    items, error = await collect_until_error(provider.stream(make_request(MODEL)))

    assert isinstance(error, BadResponse)
    assert not any(isinstance(item, Completion) for item in items)


async def test_missing_key_names_the_variable_and_sends_nothing(
    fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    provider = OpenAIProvider("openai", openai_config(fake.openai_base_url))

    with pytest.raises(MissingKey, match="OPENAI_API_KEY"):
        await collect(provider.stream(make_request(MODEL)))
    assert fake.request_count == 0


async def test_rejected_key_never_shows_the_key(
    provider: OpenAIProvider, fake: FakeProvider
) -> None:
    fake.script(("status", 401, None, f"Incorrect API key provided: {KEY}"))

    with pytest.raises(ProviderError) as caught:
        await collect(provider.stream(make_request(MODEL)))

    assert not isinstance(caught.value, MissingKey)
    assert "OPENAI_API_KEY" in str(caught.value) and "401" in str(caught.value)
    assert KEY not in str(caught.value)


async def test_local_server_gets_a_placeholder_never_the_users_openai_key(
    fake: FakeProvider,
) -> None:
    config = ProviderConfig(kind="openai", base_url=fake.openai_base_url, local=True, max_retries=0)
    provider = OpenAIProvider("local", config)

    items = await collect(provider.stream(make_request("qwen2.5-coder:1.5b")))
    await provider.aclose()

    assert isinstance(items[-1], Completion)
    headers = fake.requests[0].headers
    assert headers["authorization"] == "Bearer not-needed"
    assert not any(KEY in value for value in headers.values())


async def test_local_provider_without_base_url_never_calls_openai() -> None:
    config = ProviderConfig(kind="openai", base_url=None, local=True)
    provider = OpenAIProvider("local", config)

    with pytest.raises(Unavailable, match=r"providers\.local\.base_url"):
        await collect(provider.stream(make_request("qwen2.5-coder:1.5b")))


async def test_unreachable_server_says_where() -> None:
    url = closed_port_url()
    provider = OpenAIProvider("local", ProviderConfig(base_url=url, local=True, max_retries=0))

    with pytest.raises(Unavailable, match="is the server running") as caught:
        await collect(provider.stream(make_request("qwen2.5-coder:1.5b")))
    await provider.aclose()

    assert url in str(caught.value)


async def test_cancelling_the_consumer_closes_the_connection(
    provider: OpenAIProvider, fake: FakeProvider
) -> None:
    fake.script(("slow", 400, 0.02))
    seen: list[str] = []
    two_deltas = asyncio.Event()

    async def consume() -> None:
        async for item in provider.stream(make_request(MODEL)):
            if isinstance(item, Delta):
                seen.append(item.text)
                if len(seen) == 2:
                    two_deltas.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(two_deltas.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await asyncio.to_thread(fake.disconnected.wait, 10)
    assert fake.closed_early == 1
    assert len(seen) < 400
