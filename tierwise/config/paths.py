"""Where tierwise reads and writes files: the user config, the data and cache directories."""

from __future__ import annotations

import os
from pathlib import Path

from tierwise.config.tree import Config


def env_path(var: str) -> Path | None:
    """A path from an environment variable, or None when unset or empty."""
    value = os.environ.get(var, "").strip()
    return Path(value).expanduser() if value else None


def data_dir() -> Path:
    """The per-user data directory (ledger, explain documents); TIERWISE_DATA_DIR overrides."""
    import platformdirs

    return env_path("TIERWISE_DATA_DIR") or Path(platformdirs.user_data_dir("tierwise"))


def cache_dir(config: Config) -> Path:
    """The response cache directory: config, then TIERWISE_CACHE_DIR, then the platform default."""
    import platformdirs

    if config.cache.dir:
        return Path(config.cache.dir).expanduser()
    return env_path("TIERWISE_CACHE_DIR") or Path(platformdirs.user_cache_dir("tierwise"))


def user_config_path() -> Path:
    """The user config file: TIERWISE_CONFIG, else config.toml in the platform config dir."""
    import platformdirs

    return (
        env_path("TIERWISE_CONFIG")
        or Path(platformdirs.user_config_dir("tierwise")) / "config.toml"
    )
