"""The price catalogue: packaged list prices (models.toml) merged with the user's overrides."""

from __future__ import annotations

import math
import re
from functools import cached_property
from typing import Any

from tierwise.config import ModelPrice
from tierwise.core.errors import ConfigError
from tierwise.core.models import Usage
from tierwise.core.records import FrozenRecord, setfield

DATA_FILE = "models.toml"
# Providers report dated snapshot ids ("claude-haiku-4-5-20251001", "gpt-4o-2024-08-06") that
# bill exactly like the undated id they resolve to.
_DATED_SUFFIX = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})$")


def _check(model_id: str, row: ModelPrice, origin: str) -> ModelPrice:
    """Reject a missing, negative or non-numeric price (an explicit 0 is the user's call)."""
    for field in ("input", "output", "cache_read", "cache_write"):
        value = getattr(row, field)
        if value is None and field.startswith("cache"):
            continue
        if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise ConfigError(
                f"{origin}: models.{model_id!r}.{field}: {value!r} must be a non-negative "
                "price in USD per million tokens"
            )
    return row


def _row_from_toml(model_id: str, data: Any, default_as_of: str) -> ModelPrice:
    if not isinstance(data, dict) or "input" not in data or "output" not in data:
        raise ConfigError(f"packaged {DATA_FILE}: models.{model_id!r} needs input and output")
    row = ModelPrice(
        input=float(data["input"]),
        output=float(data["output"]),
        cache_read=None if data.get("cache_read") is None else float(data["cache_read"]),
        cache_write=None if data.get("cache_write") is None else float(data["cache_write"]),
        source=str(data.get("source", "")),
        as_of=str(data.get("as_of", default_as_of)),
    )
    return _check(model_id, row, f"packaged {DATA_FILE}")


class _Packaged(FrozenRecord):
    __slots__ = ("as_of", "rows", "aliases")
    as_of: str
    rows: dict[str, ModelPrice]
    aliases: dict[str, str]

    def __init__(self, as_of: str, rows: dict[str, ModelPrice], aliases: dict[str, str]) -> None:
        setfield(self, "as_of", as_of)
        setfield(self, "rows", rows)
        setfield(self, "aliases", aliases)


class Catalogue:
    """Model prices by id; the packaged file is parsed on first use, once per instance."""

    def __init__(self, overrides: dict[str, ModelPrice] | None = None) -> None:
        self._overrides = {
            model_id: _check(model_id, row, "your config")
            for model_id, row in (overrides or {}).items()
        }

    @classmethod
    def load(cls, overrides: dict[str, ModelPrice] | None = None) -> Catalogue:
        """A catalogue whose rows are the packaged ones, replaced or extended by `overrides`."""
        return cls(overrides)

    @cached_property
    def _packaged(self) -> _Packaged:
        import tomllib
        from pathlib import Path

        # A file next to this module, read as a file: importlib.resources would import zipfile
        # and its readers on every start for a package that is never installed zipped.
        text = Path(__file__).with_name(DATA_FILE).read_text("utf-8")
        data = tomllib.loads(text)
        as_of = str(data.get("as_of", ""))
        rows = {
            model_id: _row_from_toml(model_id, row, as_of)
            for model_id, row in data.get("models", {}).items()
        }
        aliases = {str(k): str(v) for k, v in data.get("aliases", {}).items()}
        return _Packaged(as_of, rows, aliases)

    @property
    def as_of(self) -> str:
        """The date the packaged prices were read (YYYY-MM-DD)."""
        return self._packaged.as_of

    def rows(self) -> dict[str, ModelPrice]:
        """Every known row by model id, overrides included."""
        return {**self._packaged.rows, **self._overrides}

    def aliases(self) -> dict[str, str]:
        """Alias id -> the model id whose price it uses."""
        return dict(self._packaged.aliases)

    def _find(self, model_id: str) -> ModelPrice | None:
        # A user's row wins over both the packaged row and any alias of the same name.
        for candidate in (model_id, _DATED_SUFFIX.sub("", model_id)):
            if candidate in self._overrides:
                return self._overrides[candidate]
            target = self._packaged.aliases.get(candidate, candidate)
            if target in self._overrides:
                return self._overrides[target]
            if target in self._packaged.rows:
                return self._packaged.rows[target]
        return None

    def knows(self, model_id: str) -> bool:
        """Whether a price row exists for this model id (directly, by alias or dated snapshot)."""
        return self._find(model_id) is not None

    def price(self, model_id: str) -> ModelPrice:
        """The price row for a model; an unknown model is a ConfigError, never $0."""
        row = self._find(model_id)
        if row is None:
            raise ConfigError(
                f'unknown model {model_id!r}: add a [models."{model_id}"] row with input/output '
                "prices to your config"
            )
        return row

    def cost(self, model_id: str, usage: Usage, *, local: bool = False) -> float:
        """USD for a call's usage; local providers cost 0.0 whatever the model id."""
        if local:
            return 0.0
        row = self.price(model_id)
        # No published cache rate means the tokens bill as ordinary input (see models.toml).
        cache_read = row.input if row.cache_read is None else row.cache_read
        cache_write = row.input if row.cache_write is None else row.cache_write
        micro_usd = (
            usage.input_tokens * row.input
            + usage.output_tokens * row.output
            + usage.cache_read_tokens * cache_read
            + usage.cache_write_tokens * cache_write
        )
        return micro_usd / 1_000_000

    def estimate(
        self, model_id: str, input_tokens: int, output_tokens: int, *, local: bool = False
    ) -> float:
        """USD for a call of this size with no provider caching."""
        return self.cost(model_id, Usage(input_tokens, output_tokens), local=local)
