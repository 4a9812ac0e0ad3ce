"""The configured providers: availability by env/config inspection, lazy construction, and the
fallback chain that tries each model of a tier in order. Keys are read in providers/keys.py.

The retry rule (docs/routing.md): a model that is rate limited or unavailable before it has
streamed any text is retried at most once, after the wait the server asked for (or a short
pause), and only when that wait fits in the tier timeout; then the next model of the chain is
tried. The tier timeout bounds each model's whole attempt, its retry included; the SDKs make
no retries of their own.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Sequence
from typing import TYPE_CHECKING

from tierwise.config import Config, ProviderConfig
from tierwise.core.errors import (
    ConfigError,
    MissingKey,
    ProviderError,
    RateLimited,
    Timeout,
    Unavailable,
)
from tierwise.core.models import ModelRef, Usage
from tierwise.core.records import evolve
from tierwise.providers.base import Completion, Delta, Provider, ProviderRequest
from tierwise.providers.keys import unusable_reason

if TYPE_CHECKING:
    import asyncio

    import httpx2

    HttpClientFactory = Callable[[str], httpx2.AsyncClient | None]

# Worth trying the next model of the chain; any other error (a rejected key, a bad request)
# would fail the same way there, or must be fixed by the user.
FALLBACK_ERRORS = (RateLimited, Timeout, Unavailable, MissingKey)
# Worth one more try of the same model (a Timeout has used up the model's time already).
RETRY_ERRORS = (RateLimited, Unavailable)
MAX_RETRIES = 1
RETRY_PAUSE_S = 0.5  # when the server names no wait
MAX_RETRY_WAIT_S = 10.0  # a server asking for longer: go to the next model instead

# Failed attempts that used tokens, as (ref, usage): the engine bills them with the request.
Spent = list[tuple[str, Usage]]


class ProviderPool:
    """Providers by configured name, built on first use; owns their HTTP clients."""

    def __init__(
        self, config: Config, *, http_client_factory: HttpClientFactory | None = None
    ) -> None:
        self.config = config
        self._http_client_factory = http_client_factory
        self._providers: dict[str, Provider] = {}
        self._streams = 0
        # Made on first need: `tierwise route` builds a pool but never streams, and must not
        # pay for importing asyncio's event machinery.
        self._idle: asyncio.Event | None = None

    def _config_for(self, name: str, ref: str | None = None) -> ProviderConfig:
        provider = self.config.providers.get(name)
        if provider is None:
            known = ", ".join(sorted(self.config.providers)) or "none"
            where = f" in model reference {ref!r}" if ref else ""
            raise ConfigError(f"unknown provider {name!r}{where} (known: {known})")
        return provider

    def available(self, provider_name: str) -> bool:
        """Whether a provider is configured and has its key; pure env/config inspection."""
        provider = self.config.providers.get(provider_name)
        return provider is not None and unusable_reason(provider_name, provider) is None

    def needs(self, refs: Sequence[str]) -> list[str]:
        """What the user must set for these models to become usable, e.g. ["ANTHROPIC_API_KEY"]."""
        out: list[str] = []
        for ref in refs:
            name = self._parse(ref).provider
            provider = self.config.providers.get(name)
            if provider is None or unusable_reason(name, provider) is None:
                continue
            if provider.local and not provider.base_url:
                need = f"providers.{name}.base_url in your user config"
            else:
                need = provider.api_key_env or f"providers.{name}.api_key_env in your user config"
            if need not in out:
                out.append(need)
        return out

    def is_local(self, provider_name: str) -> bool:
        """Whether the provider is a server the user runs ($0 marginal cost)."""
        return self._config_for(provider_name).local

    def available_models(self, tier_label: str) -> list[str]:
        """The tier's fallback chain, keeping only the refs whose provider is available."""
        tier = self.config.tiers.get(tier_label)
        return [] if tier is None else self.available_models_of(tier.models)

    def available_models_of(self, refs: Sequence[str]) -> list[str]:
        """The refs whose provider is available, in order."""
        return [ref for ref in refs if self.available(self._parse(ref).provider)]

    @staticmethod
    def _parse(ref: str) -> ModelRef:
        try:
            return ModelRef.parse(ref)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def get(self, provider_name: str, *, ref: str | None = None) -> Provider:
        """The provider of this name, built on first use."""
        provider = self._providers.get(provider_name)
        if provider is not None:
            return provider
        config = self._config_for(provider_name, ref)
        http_client = (
            self._http_client_factory(provider_name) if self._http_client_factory else None
        )
        if config.kind == "anthropic":
            from tierwise.providers.anthropic import AnthropicProvider

            provider = AnthropicProvider(provider_name, config, http_client=http_client)
        elif config.kind == "openai":
            from tierwise.providers.openai import OpenAIProvider

            provider = OpenAIProvider(provider_name, config, http_client=http_client)
        else:
            raise ConfigError(
                f"providers.{provider_name}.kind: {config.kind!r} is not 'anthropic' or 'openai'"
            )
        self._providers[provider_name] = provider
        return provider

    async def warm(self) -> list[str]:
        """Import, in a thread, the SDK of each tier's first usable model, ahead of a call.

        Importing an SDK takes one to two seconds here; done while the user is reading a file,
        the first request does not wait for it. Only the model a tier tries first counts: a
        fallback's SDK (60 MB more) is imported if it is ever needed. Returns the modules.
        """
        import asyncio
        import importlib

        kinds: list[str] = []
        for tier in self.config.tiers.values():
            first = next(iter(self.available_models_of(tier.models)), None)
            kind = self.config.providers[self._parse(first).provider].kind if first else None
            if kind is not None and kind not in kinds:
                kinds.append(kind)
        for kind in kinds:  # the kind is the SDK's module name: anthropic, openai
            await asyncio.to_thread(importlib.import_module, kind)
        return kinds

    async def stream_chain(
        self,
        models: Sequence[str],
        request_factory: Callable[[str], ProviderRequest],
        spent: Spent | None = None,
    ) -> AsyncGenerator[Delta | Completion, None]:
        """Stream from the first model of the chain that answers; later ones are fallbacks.

        A model is skipped on RateLimited, Timeout, Unavailable or MissingKey, but only before it
        has streamed any text: once the user has seen part of an answer, its error propagates
        (carrying the usage spent and the ref that failed). Attempts that failed over but used
        tokens are appended to `spent`.
        """
        if not models:
            raise ConfigError("no model to try: the tier's models list is empty")
        self._streams += 1
        if self._idle is not None:
            self._idle.clear()
        try:
            async for item in self._stream_chain(models, request_factory, spent):
                yield item
        finally:
            self._streams -= 1
            if not self._streams and self._idle is not None:
                self._idle.set()

    async def _stream_chain(
        self,
        models: Sequence[str],
        request_factory: Callable[[str], ProviderRequest],
        spent: Spent | None,
    ) -> AsyncGenerator[Delta | Completion, None]:
        failures: list[tuple[str, ProviderError]] = []
        for ref in models:
            streamed = False
            try:
                async for item in self._stream_model(ref, request_factory, spent):
                    streamed = True
                    yield item
                return
            except FALLBACK_ERRORS as exc:
                if streamed:
                    raise
                failures.append((ref, exc))
                if exc.usage is not None and spent is not None:
                    spent.append((ref, exc.usage))
        last_ref, last = failures[-1]
        if last.usage is not None and spent:
            spent.pop()  # the error raised below carries it
        if len(failures) == 1:
            raise last
        summary = "; ".join(f"{ref}: {exc}" for ref, exc in failures)
        raise type(last)(
            f"every model in the chain failed. {summary}", usage=last.usage, ref=last_ref
        ) from last

    async def _stream_model(
        self, ref: str, request_factory: Callable[[str], ProviderRequest], spent: Spent | None
    ) -> AsyncGenerator[Delta | Completion, None]:
        """One model's attempt: at most one retry, all within one deadline of the tier timeout."""
        import asyncio  # here, like the pool's other uses: `tierwise route` never streams

        model = self._parse(ref)
        provider = self.get(model.provider, ref=ref)
        request = request_factory(ref)
        await provider.prepare()  # importing an SDK is not the provider's time: before the deadline
        loop = asyncio.get_running_loop()
        deadline = loop.time() + request.timeout
        request = evolve(request, deadline=deadline)
        retries = min(self._config_for(model.provider, ref).max_retries, MAX_RETRIES)
        attempt = 0
        while True:
            streamed = False
            items = provider.stream(request)
            try:
                async for item in items:
                    streamed = True
                    yield item
                return
            except ProviderError as exc:
                exc.ref = ref
                wait = exc.retry_after if exc.retry_after is not None else RETRY_PAUSE_S
                retry = (
                    not streamed
                    and isinstance(exc, RETRY_ERRORS)
                    and attempt < retries
                    and wait <= MAX_RETRY_WAIT_S
                    and loop.time() + wait < deadline
                )
                if not retry:
                    if attempt:
                        exc.args = (f"{exc} (after one retry)",)
                    raise
                attempt += 1
                if exc.usage is not None and spent is not None:
                    spent.append((ref, exc.usage))
            finally:
                # A consumer that stops early must still close the HTTP stream now, not at GC.
                aclose = getattr(items, "aclose", None)
                if aclose is not None:
                    await aclose()
            await asyncio.sleep(wait)

    async def aclose_when_idle(self) -> None:
        """Close once no stream is in flight (a hot reload must not cut an answer short)."""
        if self._idle is None:
            import asyncio

            self._idle = asyncio.Event()
            if not self._streams:
                self._idle.set()
        await self._idle.wait()
        await self.aclose()

    async def aclose(self) -> None:
        """Close every provider built so far."""
        providers, self._providers = list(self._providers.values()), {}
        for provider in providers:
            await provider.aclose()
