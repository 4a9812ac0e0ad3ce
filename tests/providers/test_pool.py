"""The provider pool: availability from env and config, and the fallback chain over real HTTP."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fakes.wire import FakeProvider
from tests.providers.conftest import REPLY, anthropic_config, collect, make_request, openai_config
from tierwise.config import Config, ProviderConfig, TierConfig
from tierwise.core.errors import (
    ConfigError,
    MissingKey,
    ProviderError,
    RateLimited,
    Timeout,
    Unavailable,
)
from tierwise.core.models import Usage
from tierwise.providers.base import Completion, Delta, ProviderRequest
from tierwise.providers.pool import ProviderPool

ROOT = Path(__file__).resolve().parents[2]


def chain_config(fake: FakeProvider) -> Config:
    """Two cloud providers on the same fake: anthropic first, openai as the fallback."""
    return Config(
        providers={
            "anthropic": anthropic_config(fake.anthropic_base_url),
            "openai": openai_config(fake.openai_base_url),
        },
        tiers={"mid": TierConfig(models=["anthropic:claude-sonnet-4-6", "openai:gpt-4.1"])},
    )


def factory(asked: list[str]) -> Callable[[str], ProviderRequest]:
    """A request factory that records which refs it was asked for."""

    def make(ref: str) -> ProviderRequest:
        asked.append(ref)
        return make_request(ref.partition(":")[2])

    return make


CHAIN = ["anthropic:claude-sonnet-4-6", "openai:gpt-4.1"]


# -- availability ---------------------------------------------------------------------------


def test_cloud_providers_are_available_only_with_a_non_empty_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.setenv("OPENAI_API_KEY", "   ")
    pool = ProviderPool(Config())

    assert not pool.available("anthropic")
    assert not pool.available("openai")
    assert pool.available_models("budget") == []

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-123")
    assert pool.available("anthropic")
    assert pool.available_models("budget") == ["anthropic:claude-haiku-4-5"]


def test_local_provider_needs_a_base_url() -> None:
    config = Config()
    assert not ProviderPool(config).available("local")
    assert ProviderPool(config).available_models("local") == []

    config.providers["local"].base_url = "http://127.0.0.1:8080/v1"
    pool = ProviderPool(config)
    assert pool.available("local")
    assert pool.available_models("local") == ["local:default"]
    assert pool.is_local("local") and not pool.is_local("openai")


def test_keyless_proxy_is_available_and_unknown_names_are_not() -> None:
    config = Config()
    config.providers["proxy"] = ProviderConfig(kind="openai", base_url="http://127.0.0.1:4000/v1")
    pool = ProviderPool(config)

    assert pool.available("proxy")
    assert not pool.available("nope")
    assert pool.available_models("no-such-tier") == []
    with pytest.raises(ConfigError, match="nope"):
        pool.is_local("nope")


def test_availability_builds_no_provider_and_imports_no_sdk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    code = (
        "import sys\n"
        "from tierwise.config import Config\n"
        "from tierwise.providers.pool import ProviderPool\n"
        "import tierwise.providers.anthropic, tierwise.providers.openai\n"
        "from tierwise.providers.catalogue import Catalogue\n"
        "pool = ProviderPool(Config())\n"
        "assert pool.available_models('budget') == ['anthropic:claude-haiku-4-5']\n"
        "Catalogue.load().price('gpt-5')\n"
        "print(sorted(m for m in ('anthropic', 'openai', 'httpx2') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("keys", "imported"),
    [
        (("ANTHROPIC_API_KEY", "OPENAI_API_KEY"), "['anthropic']"),  # each tier's first model
        (("OPENAI_API_KEY",), "['openai']"),  # the first usable one
        ((), "[]"),
    ],
)
def test_warm_imports_the_sdk_each_tier_tries_first(
    monkeypatch: pytest.MonkeyPatch, keys: tuple[str, ...], imported: str
) -> None:
    # The server warms the pool when the first document opens: only what a call would use.
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY"):
        if name in keys:
            monkeypatch.setenv(name, "sk-test-not-a-real-key-0000")
        else:
            monkeypatch.delenv(name, raising=False)
    code = (
        "import asyncio, sys\n"
        "from tierwise.config import Config\n"
        "from tierwise.providers.pool import ProviderPool\n"
        "print(asyncio.run(ProviderPool(Config()).warm()))\n"
        "print(sorted(m for m in ('anthropic', 'openai') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == [imported, imported]


# -- the fallback chain ---------------------------------------------------------------------


async def test_first_model_failing_falls_back_to_the_second(fake: FakeProvider) -> None:
    fake.script(("status", 500))
    pool = ProviderPool(chain_config(fake))
    asked: list[str] = []

    items = await collect(pool.stream_chain(CHAIN, factory(asked)))
    await pool.aclose()

    assert asked == CHAIN
    assert [r.path for r in fake.requests] == ["/v1/messages", "/v1/chat/completions"]
    completion = items[-1]
    assert isinstance(completion, Completion)
    assert completion.model == "gpt-4.1" and completion.text == REPLY


async def test_missing_key_falls_back_without_a_request(
    fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    pool = ProviderPool(chain_config(fake))

    items = await collect(pool.stream_chain(CHAIN, factory([])))
    await pool.aclose()

    assert isinstance(items[-1], Completion) and items[-1].model == "gpt-4.1"
    assert [r.path for r in fake.requests] == ["/v1/chat/completions"]


async def test_an_error_after_text_has_streamed_is_not_retried_elsewhere(
    fake: FakeProvider,
) -> None:
    fake.script("truncate")
    pool = ProviderPool(chain_config(fake))
    items: list[Delta | Completion] = []

    with pytest.raises(Unavailable):
        async for item in pool.stream_chain(CHAIN, factory([])):
            items.append(item)
    await pool.aclose()

    assert items and all(isinstance(item, Delta) for item in items)
    assert fake.request_count == 1


async def test_every_model_failing_summarises_each_attempt(fake: FakeProvider) -> None:
    fake.script(("status", 500), ("status", 502))
    pool = ProviderPool(chain_config(fake))

    with pytest.raises(Unavailable) as caught:
        await collect(pool.stream_chain(CHAIN, factory([])))
    await pool.aclose()

    message = str(caught.value)
    assert "anthropic:claude-sonnet-4-6" in message and "500" in message
    assert "openai:gpt-4.1" in message and "502" in message


async def test_a_rejected_key_stops_the_chain(fake: FakeProvider) -> None:
    fake.script(("status", 401))
    pool = ProviderPool(chain_config(fake))

    with pytest.raises(ProviderError) as caught:
        await collect(pool.stream_chain(CHAIN, factory([])))
    await pool.aclose()

    assert not isinstance(caught.value, MissingKey | Unavailable)
    assert fake.request_count == 1


async def test_unknown_provider_in_a_ref_is_a_config_error_naming_it(fake: FakeProvider) -> None:
    pool = ProviderPool(chain_config(fake))

    with pytest.raises(ConfigError, match="'mystery:model-x'"):
        await collect(pool.stream_chain(["mystery:model-x"], factory([])))
    assert fake.request_count == 0


async def test_a_consumer_that_stops_early_closes_the_stream(fake: FakeProvider) -> None:
    fake.script(("slow", 400, 0.02))
    pool = ProviderPool(chain_config(fake))
    stream = pool.stream_chain(CHAIN, factory([]))

    first = await anext(stream)
    await stream.aclose()

    assert isinstance(first, Delta)
    assert await asyncio.to_thread(fake.disconnected.wait, 10)
    await pool.aclose()


async def test_providers_are_built_once_and_closed(fake: FakeProvider) -> None:
    pool = ProviderPool(chain_config(fake))

    first = pool.get("openai")
    assert pool.get("openai") is first
    await collect(pool.stream_chain(["openai:gpt-4.1"], factory([])))
    await pool.aclose()

    assert pool.get("openai") is not first  # a closed pool builds afresh


async def test_close_when_idle_waits_for_the_stream_in_flight(fake: FakeProvider) -> None:
    fake.script(("slow", 20, 0.01))
    pool = ProviderPool(chain_config(fake))
    stream = pool.stream_chain(CHAIN, factory([]))
    first = await anext(stream)
    closing = asyncio.create_task(pool.aclose_when_idle())
    await asyncio.sleep(0.05)
    assert not closing.done()  # a hot reload must not cut the answer short

    rest = [item async for item in stream]

    assert isinstance(first, Delta) and isinstance(rest[-1], Completion)
    await asyncio.wait_for(closing, 10)
    assert pool._providers == {}  # every provider of the pool was closed


# -- the retry rule: at most one retry of a model, within its tier timeout ----------------------


def retrying(fake: FakeProvider) -> Config:
    """The chain of chain_config, each provider allowed its one retry."""
    config = chain_config(fake)
    for provider in config.providers.values():
        provider.max_retries = 1
    return config


def timed_factory(timeout: float) -> Callable[[str], ProviderRequest]:
    """Requests with the given tier timeout."""
    return lambda ref: make_request(ref.partition(":")[2], timeout=timeout)


async def test_a_rate_limited_model_is_retried_once_after_the_wait_it_asked_for(
    fake: FakeProvider,
) -> None:
    fake.script(("status", 429, 0.05))
    pool = ProviderPool(retrying(fake))

    items = await collect(pool.stream_chain(CHAIN, factory([])))
    await pool.aclose()

    assert [r.path for r in fake.requests] == ["/v1/messages", "/v1/messages"]
    assert isinstance(items[-1], Completion) and items[-1].model == "claude-sonnet-4-6"


async def test_after_one_retry_the_next_model_of_the_chain_answers(fake: FakeProvider) -> None:
    fake.script(("status", 429, 0.01), ("status", 529, 0.01))
    pool = ProviderPool(retrying(fake))

    items = await collect(pool.stream_chain(CHAIN, factory([])))
    await pool.aclose()

    paths = [r.path for r in fake.requests]
    assert paths == ["/v1/messages", "/v1/messages", "/v1/chat/completions"]
    assert isinstance(items[-1], Completion) and items[-1].model == "gpt-4.1"


async def test_the_last_failure_says_it_was_retried_and_names_no_cli_flag(
    fake: FakeProvider,
) -> None:
    fake.script(("status", 429, 0.01), ("status", 429, 0.01))
    pool = ProviderPool(retrying(fake))

    with pytest.raises(RateLimited) as caught:
        await collect(pool.stream_chain(["anthropic:claude-sonnet-4-6"], factory([])))
    await pool.aclose()

    assert fake.request_count == 2
    assert "(after one retry)" in str(caught.value) and "--tier" not in str(caught.value)
    assert caught.value.ref == "anthropic:claude-sonnet-4-6"


async def test_a_retry_that_would_not_fit_in_the_tier_timeout_is_skipped(
    fake: FakeProvider,
) -> None:
    import anthropic  # noqa: F401  (imported up front: its first import takes over a second)

    # The server asks for 6 s; the tier has 4 s for the whole attempt: go straight to the next
    # model instead of sleeping past the bound (and then timing out).
    fake.script(("status", 503, 6))
    pool = ProviderPool(retrying(fake))
    loop = asyncio.get_running_loop()

    started = loop.time()
    items = await collect(pool.stream_chain(CHAIN, timed_factory(4.0)))
    elapsed = loop.time() - started
    await pool.aclose()

    assert [r.path for r in fake.requests] == ["/v1/messages", "/v1/chat/completions"]
    assert isinstance(items[-1], Completion) and items[-1].model == "gpt-4.1"
    # At once, not after the 6 s the server asked for: sleeping first takes at least 6 s, so the
    # bound sits just under that, far from the fraction of a second the right path takes.
    assert elapsed < 5.5


async def test_a_provider_configured_in_code_with_more_retries_still_gets_one(
    fake: FakeProvider,
) -> None:
    config = chain_config(fake)
    config.providers["anthropic"].max_retries = 5  # not from a file: no validation on the way
    fake.script(*[("status", 429, 0.01)] * 2)  # a third try of the same model would succeed
    pool = ProviderPool(config)

    items = await collect(pool.stream_chain(CHAIN, factory([])))
    await pool.aclose()

    paths = [r.path for r in fake.requests]
    assert paths == ["/v1/messages", "/v1/messages", "/v1/chat/completions"]
    assert isinstance(items[-1], Completion) and items[-1].model == "gpt-4.1"


async def test_a_model_that_times_out_falls_over_to_the_next_one(fake: FakeProvider) -> None:
    fake.script(("hang", 30))
    pool = ProviderPool(retrying(fake))

    items = await collect(pool.stream_chain(CHAIN, timed_factory(0.5)))
    await pool.aclose()

    # A Timeout has used the model's whole time: it is not retried, the next model answers.
    assert [r.path for r in fake.requests] == ["/v1/messages", "/v1/chat/completions"]
    assert isinstance(items[-1], Completion) and items[-1].model == "gpt-4.1"


async def test_the_retry_shares_the_first_attempts_deadline(fake: FakeProvider) -> None:
    import anthropic  # noqa: F401  (imported up front: its first import takes over a second)

    # A 503 asking for 4 s, then a server that never answers: the retry has only what is left
    # of the 6 s, so the model's attempt ends within its tier timeout, not 4 + 6 s later. The
    # wide margins keep a loaded machine from failing it: the retry fits while the first answer
    # takes under 2 s, and a fresh deadline for the retry cannot end before 10 s.
    fake.script(("status", 503, 4), ("hang", 30))
    pool = ProviderPool(retrying(fake))
    loop = asyncio.get_running_loop()

    started = loop.time()
    with pytest.raises(Timeout) as caught:
        await collect(pool.stream_chain(["anthropic:claude-sonnet-4-6"], timed_factory(6.0)))
    elapsed = loop.time() - started
    await pool.aclose()

    assert fake.request_count == 2
    assert "retry included" in str(caught.value)
    assert elapsed < 9.5  # the bound is 6 s; a fresh timeout for the retry would take 10 s


async def test_tokens_spent_by_a_model_that_failed_over_are_reported(fake: FakeProvider) -> None:
    fake.script(("stream_error", 0, "overloaded_error", "Overloaded"))
    pool = ProviderPool(chain_config(fake))
    spent: list[tuple[str, Usage]] = []

    items = await collect(pool.stream_chain(CHAIN, factory([]), spent))
    await pool.aclose()

    assert isinstance(items[-1], Completion) and items[-1].model == "gpt-4.1"
    # The overloaded model had accepted the request: its input was billed.
    assert spent == [
        ("anthropic:claude-sonnet-4-6", Usage(10, 1, cache_read_tokens=0, cache_write_tokens=300))
    ]


async def test_the_error_that_reaches_the_caller_carries_its_usage_and_ref(
    fake: FakeProvider,
) -> None:
    fake.script(("stream_error", 2, "overloaded_error", "Overloaded"))
    pool = ProviderPool(chain_config(fake))
    spent: list[tuple[str, Usage]] = []

    with pytest.raises(Unavailable) as caught:
        await collect(pool.stream_chain(CHAIN, factory([]), spent))
    await pool.aclose()

    assert fake.request_count == 1  # text had streamed: no fallback
    assert caught.value.ref == "anthropic:claude-sonnet-4-6"
    assert caught.value.usage is not None and caught.value.usage.input_tokens == 10
    assert spent == []  # nothing counted twice
