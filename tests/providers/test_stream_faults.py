"""Faults inside an answer that has started, for both adapters through their official SDKs:
in-stream errors, a stop at the output limit, a stall after the first tokens, a reply that runs
past its cap. Each is one precise error that carries the usage the call spent."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.wire import FakeProvider
from tests.providers.conftest import (
    anthropic_config,
    collect,
    collect_until_error,
    make_request,
    openai_config,
)
from tierwise.core.errors import (
    BadResponse,
    ProviderError,
    RateLimited,
    Timeout,
    Truncated,
    Unavailable,
)
from tierwise.core.models import Usage
from tierwise.providers.anthropic import AnthropicProvider
from tierwise.providers.base import Completion, Delta, Provider
from tierwise.providers.openai import OpenAIProvider

MODELS = {"anthropic": "claude-haiku-4-5", "openai": "gpt-4.1"}
# What the fake bills for make_request(): Anthropic reports it (10 fresh input tokens and the
# 300-token system prefix written to its cache); for OpenAI-style servers, which report usage
# only at the end, it is estimated from what was sent: system and context joined by a blank line
# (1,202 characters) and the 40-character prompt, 1,242 characters at 4 a token, rounded up.
OPENAI_INPUT_TOKENS = 311


@pytest.fixture(params=["anthropic", "openai"])
async def adapter(request: pytest.FixtureRequest, fake: FakeProvider) -> AsyncIterator[Provider]:
    """Each adapter, pointed at the fake, with no retries."""
    made: Provider
    if request.param == "anthropic":
        made = AnthropicProvider("anthropic", anthropic_config(fake.anthropic_base_url))
    else:
        made = OpenAIProvider("openai", openai_config(fake.openai_base_url))
    yield made
    await made.aclose()


def model_of(adapter: Provider) -> str:
    """The model id each test asks for on this adapter."""
    return MODELS[adapter.name]


def assert_input_billed(adapter: Provider, usage: Usage | None) -> None:
    """The input side of a call the server accepted: reported, or estimated from what was sent."""
    assert usage is not None
    if adapter.name == "anthropic":
        assert (usage.input_tokens, usage.cache_write_tokens) == (10, 300)
    else:
        assert usage.input_tokens == OPENAI_INPUT_TOKENS


@pytest.mark.parametrize("kind", ["overloaded_error", "api_error"])
async def test_an_in_stream_busy_error_is_unavailable_mid_answer_with_its_usage(
    adapter: Provider, fake: FakeProvider, kind: str
) -> None:
    fake.script(("stream_error", 3, kind, "Overloaded"))

    items, error = await collect_until_error(adapter.stream(make_request(model_of(adapter))))

    assert isinstance(error, Unavailable)
    message = str(error)
    assert "mid-answer" in message and kind in message and "Overloaded" in message
    assert "200" not in message  # not "answered 200": the stream had started fine
    assert len([i for i in items if isinstance(i, Delta)]) == 3
    assert not any(isinstance(i, Completion) for i in items)
    assert_input_billed(adapter, error.usage)
    assert error.usage is not None and error.usage.output_tokens >= 1


async def test_an_in_stream_error_before_any_text_is_unavailable_so_the_chain_moves_on(
    adapter: Provider, fake: FakeProvider
) -> None:
    fake.script(("stream_error", 0, "overloaded_error", "Overloaded"))

    items, error = await collect_until_error(adapter.stream(make_request(model_of(adapter))))

    assert isinstance(error, Unavailable) and items == []


async def test_an_in_stream_request_error_is_not_taken_for_a_busy_server(
    adapter: Provider, fake: FakeProvider
) -> None:
    fake.script(("stream_error", 1, "invalid_request_error", "prompt is too long"))

    _items, error = await collect_until_error(adapter.stream(make_request(model_of(adapter))))

    assert type(error) is ProviderError
    assert "invalid_request_error" in str(error) and "prompt is too long" in str(error)


async def test_an_in_stream_rate_limit_is_rate_limited(
    adapter: Provider, fake: FakeProvider
) -> None:
    fake.script(("stream_error", 0, "rate_limit_error", "slow down"))

    _items, error = await collect_until_error(adapter.stream(make_request(model_of(adapter))))

    assert isinstance(error, RateLimited) and "slow down" in str(error)


async def test_a_reply_cut_at_the_token_limit_is_truncated_never_a_completion(
    adapter: Provider, fake: FakeProvider
) -> None:
    fake.script(("length", 4))

    items, error = await collect_until_error(adapter.stream(make_request(model_of(adapter))))

    assert isinstance(error, Truncated)
    assert "256-token output limit" in str(error) and "never applied" in str(error)
    assert not any(isinstance(i, Completion) for i in items)
    # A length stop is a complete exchange: the usage is the one the server reported.
    sent = "".join(i.text for i in items if isinstance(i, Delta))
    assert error.usage is not None and error.usage.output_tokens == len(sent) // 4
    if adapter.name == "anthropic":
        assert_input_billed(adapter, error.usage)


async def test_a_stall_after_the_first_tokens_is_bounded_by_the_tier_timeout(
    adapter: Provider, fake: FakeProvider
) -> None:
    # Keep-alives every 0.1 s: no single read ever waits long, so only a deadline for the whole
    # answer ends this; without one the call would wait out the 30 s stall and then succeed.
    fake.script(("stall", 2, 30, 0.1))

    items, error = await collect_until_error(
        adapter.stream(make_request(model_of(adapter), timeout=1.0))
    )

    assert isinstance(error, Timeout)
    assert "stalled mid-answer" in str(error) and "1s" in str(error)
    assert "whole answer" in str(error)
    assert len([i for i in items if isinstance(i, Delta)]) == 2
    assert_input_billed(adapter, error.usage)


async def test_a_slow_first_token_after_the_headers_is_a_timeout_with_the_input_billed(
    adapter: Provider, fake: FakeProvider
) -> None:
    fake.script(("stall", 0, 30, 0.1))

    items, error = await collect_until_error(
        adapter.stream(make_request(model_of(adapter), timeout=1.0))
    )

    assert isinstance(error, Timeout) and "sent no text" in str(error)
    assert items == []
    assert_input_billed(adapter, error.usage)


async def test_no_response_at_all_is_a_timeout_that_billed_nothing(
    adapter: Provider, fake: FakeProvider
) -> None:
    fake.script(("hang", 30))

    _items, error = await collect_until_error(
        adapter.stream(make_request(model_of(adapter), timeout=0.5))
    )

    assert isinstance(error, Timeout) and "did not answer" in str(error)
    assert error.usage is None


async def test_a_server_ignoring_max_tokens_is_cut_off_not_read_forever(
    adapter: Provider, fake: FakeProvider
) -> None:
    fake.script(("long", 200_000))

    items, error = await collect_until_error(adapter.stream(make_request(model_of(adapter))))

    assert isinstance(error, BadResponse) and not isinstance(error, Truncated)
    assert "ran past its 256-token cap" in str(error)
    received = sum(len(i.text) for i in items if isinstance(i, Delta))
    assert received < 20_000  # it stopped reading at the cap, not at the end of 200,000
    assert error.usage is not None and error.usage.output_tokens >= 256


async def test_a_mid_stream_reset_carries_the_usage_spent(
    adapter: Provider, fake: FakeProvider
) -> None:
    fake.script("truncate")

    items, error = await collect_until_error(adapter.stream(make_request(model_of(adapter))))

    assert isinstance(error, BadResponse | Unavailable)
    assert any(isinstance(i, Delta) for i in items)
    assert_input_billed(adapter, error.usage)


async def test_an_empty_answer_is_a_completion_with_no_text(
    adapter: Provider, fake: FakeProvider
) -> None:
    fake.script("empty")

    items = await collect(adapter.stream(make_request(model_of(adapter))))

    (done,) = items
    assert isinstance(done, Completion) and done.text == ""
