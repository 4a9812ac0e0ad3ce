"""API keys: whether a provider is usable from the environment, the key to send, and scrubbing
a key out of text a server sent back. Keys come only from the environment, never from files."""

from __future__ import annotations

import os
import re

from tierwise.config import ProviderConfig
from tierwise.core.errors import MissingKey, ProviderError, Unavailable

# The SDKs refuse to run without a key; a keyless endpoint (a local server, a proxy that holds
# the real key) gets this placeholder. Passing it explicitly also stops the SDKs from reading
# OPENAI_API_KEY / ANTHROPIC_API_KEY themselves and sending the user's real key to that server.
NO_KEY = "not-needed"


def unusable_reason(name: str, config: ProviderConfig) -> ProviderError | None:
    """Why a provider cannot be used right now (env and config only, no network), or None."""
    if config.local and not config.base_url:
        return Unavailable(
            f"the {name} provider is local but has no base_url: set providers.{name}.base_url in "
            "your user config (llama-server: http://127.0.0.1:8080/v1, Ollama: "
            "http://127.0.0.1:11434/v1)"
        )
    if config.api_key_env:
        if not os.environ.get(config.api_key_env, "").strip():
            return MissingKey(
                f"the {name} provider needs {config.api_key_env}; set it, or pick another tier"
            )
        return None
    if not config.base_url:
        return MissingKey(
            f"the {name} provider has neither api_key_env nor base_url: set "
            f"providers.{name}.api_key_env in your user config"
        )
    return None


def api_key(name: str, config: ProviderConfig) -> str:
    """The key to send, read from the environment now; raises MissingKey/Unavailable if unusable."""
    reason = unusable_reason(name, config)
    if reason is not None:
        raise reason
    if not config.api_key_env:
        return NO_KEY
    return os.environ[config.api_key_env].strip()


def scrub(text: str, config: ProviderConfig) -> str:
    """Remove the provider's key, and every key of the environment, from text that came back
    from a server, should it echo one: a local server has no key of its own, yet its errors
    reach the ledger and the editor like any other (routing sends plain code to it)."""
    key = os.environ.get(config.api_key_env, "").strip() if config.api_key_env else ""
    text = text.replace(key, "[key]") if len(key) >= 4 else text
    return scrub_environment_keys(text)


# Environment variables whose values are keys by their name (ANTHROPIC_API_KEY, GITHUB_TOKEN,
# AWS_SECRET_ACCESS_KEY, TIERWISE_TEAM_SECRET, DB_PASSWORD, ...).
_KEY_NAME = re.compile(r"(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$", re.IGNORECASE)
MIN_KEY_LENGTH = 8  # shorter values ("1", "true") would scrub ordinary words


def environment_keys(extra_names: tuple[str, ...] = ()) -> list[str]:
    """Values of the environment's key variables (and of `extra_names`), longest first."""
    values = {
        value.strip()
        for name, value in os.environ.items()
        if (_KEY_NAME.search(name) or name in extra_names) and len(value.strip()) >= MIN_KEY_LENGTH
    }
    return sorted(values, key=len, reverse=True)


def scrub_environment_keys(text: str, extra_names: tuple[str, ...] = ()) -> str:
    """Replace every key found in the environment with "[key]" (logs, answers, messages)."""
    for key in environment_keys(extra_names):
        if key in text:
            text = text.replace(key, "[key]")
    return text
