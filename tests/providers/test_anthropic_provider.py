"""The Anthropic adapter driving the official SDK over real HTTP against the fake server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.fakes.wire import FakeProvider
from tests.providers.conftest import (
    CONTEXT,
    KEY,
    PROMPT,
    REPLY,
    SYSTEM,
    anthropic_config,
    closed_port_url,
    collect,
    collect_until_error,
    make_request,
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
from tierwise.providers.anthropic import AnthropicProvider, sdk_base_url
from tierwise.providers.base import Completion, Delta

MODEL = "claude-haiku-4-5"


@pytest.fixture
async def provider(fake: FakeProvider) -> AsyncIterator[AnthropicProvider]:
    """An anthropic provider on the fake, without SDK retries."""
    made = AnthropicProvider("anthropic", anthropic_config(fake.anthropic_base_url))
    yield made
    await made.aclose()


async def test_streams_deltas_then_one_completion_with_cache_usage(
    provider: AnthropicProvider, fake: FakeProvider
) -> None:
    first = await collect(provider.stream(make_request(MODEL)))
    second = await collect(provider.stream(make_request(MODEL)))

    for items in (first, second):
        deltas = [item for item in items[:-1] if isinstance(item, Delta)]
        assert len(deltas) == len(items) - 1 >= 2
        assert isinstance(items[-1], Completion)
        assert "".join(d.text for d in deltas) == items[-1].text == REPLY
        assert items[-1].model == MODEL
    # 1200 characters of stable prefix are 300 tokens: written to the cache once, then read.
    done_first, done_second = first[-1], second[-1]
    assert isinstance(done_first, Completion) and isinstance(done_second, Completion)
    assert done_first.usage == Usage(input_tokens=10, output_tokens=11, cache_write_tokens=300)
    assert done_second.usage == Usage(input_tokens=10, output_tokens=11, cache_read_tokens=300)


async def test_request_caches_the_stable_prefix_and_sends_the_prompt_last(
    provider: AnthropicProvider, fake: FakeProvider
) -> None:
    await collect(provider.stream(make_request(MODEL)))

    (sent,) = fake.requests
    assert sent.path == "/v1/messages"
    assert sent.body["stream"] is True
    assert sent.body["system"] == [
        {"type": "text", "text": SYSTEM},
        {"type": "text", "text": CONTEXT, "cache_control": {"type": "ephemeral"}},
    ]
    assert sent.body["messages"] == [{"role": "user", "content": PROMPT}]
    assert "temperature" not in sent.body
    assert KEY in sent.headers["authorization"]


async def test_without_context_the_system_block_carries_the_breakpoint(
    provider: AnthropicProvider, fake: FakeProvider
) -> None:
    await collect(provider.stream(make_request(MODEL, context="")))

    assert fake.requests[0].body["system"] == [
        {"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}
    ]


async def test_rate_limit_is_rate_limited_with_the_wait_the_server_asked_for(
    fake: FakeProvider,
) -> None:
    fake.script(("status", 429, 2))
    # The SDK makes no retry of its own, whatever max_retries says: the pool retries once.
    provider = AnthropicProvider("anthropic", anthropic_config(fake.anthropic_base_url, retries=1))

    with pytest.raises(RateLimited, match="429") as caught:
        await collect(provider.stream(make_request(MODEL)))
    await provider.aclose()

    assert fake.request_count == 1
    assert caught.value.retry_after == 2
    assert "--tier" not in str(caught.value)  # a CLI flag: wrong in an editor
    assert caught.value.usage is None  # refused before anything was billed


async def test_server_error_is_unavailable(provider: AnthropicProvider, fake: FakeProvider) -> None:
    fake.script(("status", 500))

    with pytest.raises(Unavailable, match="500"):
        await collect(provider.stream(make_request(MODEL)))


async def test_overloaded_529_is_unavailable(
    provider: AnthropicProvider, fake: FakeProvider
) -> None:
    fake.script(("status", 529))

    with pytest.raises(Unavailable, match="529"):
        await collect(provider.stream(make_request(MODEL)))


async def test_slow_server_times_out_with_the_tier_timeout(
    provider: AnthropicProvider, fake: FakeProvider
) -> None:
    fake.script(("hang", 5))

    with pytest.raises(Timeout, match=r"0\.3s"):
        await collect(provider.stream(make_request(MODEL, timeout=0.3)))


@pytest.mark.parametrize("behaviour", ["truncate", "end_early"])
async def test_cut_stream_is_an_error_not_a_partial_answer(
    provider: AnthropicProvider, fake: FakeProvider, behaviour: str
) -> None:
    fake.script(behaviour)

    items, error = await collect_until_error(provider.stream(make_request(MODEL)))

    assert isinstance(error, BadResponse | Unavailable)
    assert any(isinstance(item, Delta) for item in items)  # text had started to arrive
    assert not any(isinstance(item, Completion) for item in items)


async def test_malformed_event_is_bad_response(
    provider: AnthropicProvider, fake: FakeProvider
) -> None:
    fake.script("malformed")

    items, error = await collect_until_error(provider.stream(make_request(MODEL)))

    assert isinstance(error, BadResponse)
    assert not any(isinstance(item, Completion) for item in items)


async def test_missing_key_names_the_variable_and_sends_nothing(
    fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "  ")
    provider = AnthropicProvider("anthropic", anthropic_config(fake.anthropic_base_url))

    with pytest.raises(MissingKey) as caught:
        await collect(provider.stream(make_request(MODEL)))

    assert "ANTHROPIC_API_KEY" in str(caught.value)
    assert "another tier" in str(caught.value) and "--tier" not in str(caught.value)
    assert fake.request_count == 0


async def test_rejected_key_is_not_missing_key_and_never_shows_the_key(
    provider: AnthropicProvider, fake: FakeProvider
) -> None:
    fake.script(("status", 401))

    with pytest.raises(ProviderError) as caught:
        await collect(provider.stream(make_request(MODEL)))

    assert not isinstance(caught.value, MissingKey)
    assert "ANTHROPIC_API_KEY" in str(caught.value) and "401" in str(caught.value)
    assert KEY not in str(caught.value)


async def test_a_server_echoing_the_key_has_it_scrubbed(
    provider: AnthropicProvider, fake: FakeProvider
) -> None:
    fake.script(("status", 400, None, f"invalid header value Bearer {KEY}"))

    with pytest.raises(ProviderError) as caught:
        await collect(provider.stream(make_request(MODEL)))

    assert "invalid header value" in str(caught.value)
    assert KEY not in str(caught.value)


async def test_a_key_in_a_variable_not_named_like_one_is_scrubbed_when_echoed(
    fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The environment-wide scrub knows keys by their variable's name (…_KEY, …_TOKEN); a
    # gateway's key in `LLM_GATEWAY` is known only as this provider's api_key_env.
    secret = "gw-7f3a91c0d2e8"
    monkeypatch.setenv("LLM_GATEWAY", secret)
    config = ProviderConfig(
        kind="anthropic", base_url=fake.anthropic_base_url, api_key_env="LLM_GATEWAY"
    )
    provider = AnthropicProvider("gateway", config)
    fake.script(("status", 400, None, f"invalid header value Bearer {secret}"))

    with pytest.raises(ProviderError) as caught:
        await collect(provider.stream(make_request(MODEL)))
    await provider.aclose()

    assert "invalid header value Bearer [key]" in str(caught.value)
    assert secret not in str(caught.value)


async def test_unreachable_server_says_where() -> None:
    url = closed_port_url()
    provider = AnthropicProvider("anthropic", anthropic_config(url))

    with pytest.raises(Unavailable, match="is the server running") as caught:
        await collect(provider.stream(make_request(MODEL)))
    await provider.aclose()

    assert url in str(caught.value)


async def test_cancelling_the_consumer_closes_the_connection(
    provider: AnthropicProvider, fake: FakeProvider
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

    # The fake would write 400 chunks over 8 s; it only notices a peer that closed the socket.
    assert await asyncio.to_thread(fake.disconnected.wait, 10)
    assert fake.closed_early == 1
    assert len(seen) < 400


def test_sdk_base_url_accepts_both_spellings() -> None:
    assert sdk_base_url("http://127.0.0.1:9/v1") == "http://127.0.0.1:9"
    assert sdk_base_url("http://127.0.0.1:9/v1/") == "http://127.0.0.1:9"
    assert sdk_base_url("https://proxy.example/anthropic") == "https://proxy.example/anthropic"
    assert sdk_base_url(None) is None


async def test_base_url_without_v1_reaches_the_same_endpoint(fake: FakeProvider) -> None:
    provider = AnthropicProvider("anthropic", anthropic_config(fake.url))

    items = await collect(provider.stream(make_request(MODEL)))
    await provider.aclose()

    assert isinstance(items[-1], Completion)
    assert fake.requests[0].path == "/v1/messages"


async def test_keyless_proxy_gets_a_placeholder_never_the_real_key(fake: FakeProvider) -> None:
    config = ProviderConfig(kind="anthropic", base_url=fake.anthropic_base_url, max_retries=0)
    provider = AnthropicProvider("proxy", config)

    await collect(provider.stream(make_request(MODEL)))
    await provider.aclose()

    headers = fake.requests[0].headers
    assert not any(KEY in value for value in headers.values())
    assert "not-needed" in headers["authorization"]
