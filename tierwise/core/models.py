"""A model reference ("provider:model") and the tokens a call to it used."""

from __future__ import annotations

from tierwise.core.records import FrozenRecord, setfield


class ModelRef(FrozenRecord):
    """A concrete model: a configured provider name plus the model id it serves."""

    __slots__ = ("provider", "model")
    provider: str
    model: str

    def __init__(self, provider: str, model: str) -> None:
        setfield(self, "provider", provider)
        setfield(self, "model", model)

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        """Parse "provider:model" (the model id may itself contain colons, as Ollama's do)."""
        provider, sep, model = text.partition(":")
        if not sep or not provider or not model:
            raise ValueError(f"model reference {text!r} must look like 'provider:model'")
        return cls(provider, model)

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}"


class Usage(FrozenRecord):
    """Token usage as the provider reports it; input_tokens excludes cache reads and writes.

    `estimated` is True when (part of) it is tierwise's estimate, about 4 characters a token,
    because the server reported none (a compatible server that ignores
    `stream_options.include_usage`, a call that failed part-way): such counts are labelled as
    estimates wherever they are shown, and so is the all-frontier figure priced from them.
    """

    __slots__ = (
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "estimated",
    )
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    estimated: bool

    def __init__(
        self,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        estimated: bool = False,
    ) -> None:
        setfield(self, "input_tokens", input_tokens)
        setfield(self, "output_tokens", output_tokens)
        setfield(self, "cache_read_tokens", cache_read_tokens)
        setfield(self, "cache_write_tokens", cache_write_tokens)
        setfield(self, "estimated", estimated)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.estimated or other.estimated,
        )
