"""The server's configuration sources, merged in order, each keeping its last good version.

Order (later wins, tables merge key by key): built-in defaults, the user file (trusted), the
workspace file, `initializationOptions`, then `workspace/configuration` (the last three are
untrusted: config.build_config refuses endpoint and key settings from them). A source whose new
data is invalid keeps its last good data, so one broken file never resets the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs

from tierwise.config import (
    Config,
    Layer,
    build_config,
    read_toml,
    user_config_path,
    workspace_config_file,
)
from tierwise.core.errors import ConfigError

logger = logging.getLogger(__name__)

INIT_OPTIONS = "initializationOptions"
CLIENT_SETTINGS = "workspace/configuration (tierwise)"
SECTION = "tierwise"


@attrs.define
class Source:
    """One configuration source: its latest data, its last good data, and its last problem."""

    name: str
    trusted: bool
    data: dict[str, Any] | None = None
    good: dict[str, Any] | None = None
    error: str | None = None
    reported: str | None = None  # the error last shown to the user, so it is shown once


def editor_settings(raw: Any) -> dict[str, Any] | None:
    """Settings from an editor: unwrap a "tierwise" key, drop nulls (unset editor settings).

    Editors name settings in camelCase (VS Code's `tierwise.server.showTierVariants`); the
    files use snake_case. Both are accepted: camelCase keys are converted.
    """
    if raw is None:
        return None
    if isinstance(raw, dict) and isinstance(raw.get(SECTION), dict):
        raw = raw[SECTION]
    return _without_nulls(raw) if isinstance(raw, dict) else raw


def _without_nulls(data: dict[str, Any]) -> dict[str, Any]:
    return {
        _snake(k): _without_nulls(v) if isinstance(v, dict) else v
        for k, v in data.items()
        if v is not None
    }


_CAMEL = re.compile(r"[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+")


def _snake(key: str) -> str:
    """showTierVariants -> show_tier_variants; other keys (model ids, globs) unchanged."""
    if not _CAMEL.fullmatch(key):
        return key
    return re.sub(r"(?<!^)([A-Z])", lambda m: "_" + m.group(1).lower(), key)


class Settings:
    """The layered configuration of one server."""

    def __init__(self, *, config_path: Path | None, workspace_root: Path | None) -> None:
        self.config_path = config_path
        self.workspace_root = workspace_root
        self.user = Source(str(config_path or user_config_path()), trusted=True)
        self.workspace = Source(
            str(workspace_root / ".tierwise.toml") if workspace_root else "", False
        )
        self.init = Source(INIT_OPTIONS, trusted=False)
        self.client = Source(CLIENT_SETTINGS, trusted=False)
        self.reported_warnings: set[str] = set()

    @property
    def sources(self) -> list[Source]:
        """The sources in merge order."""
        return [self.user, self.workspace, self.init, self.client]

    def read_files(self) -> None:
        """(Re-)read the user and workspace files; a file that cannot be read keeps its data."""
        self._read(self.user, self._user_file)
        if self.workspace_root is not None:
            self._read(self.workspace, self._workspace_file)

    def _read(
        self, source: Source, reader: Callable[[], tuple[str, dict[str, Any] | None]]
    ) -> None:
        try:
            source.name, source.data = reader()
            source.error = None
        except ConfigError as exc:
            source.error = str(exc)

    def _user_file(self) -> tuple[str, dict[str, Any] | None]:
        path = self.config_path or user_config_path()
        if not path.is_file():
            if self.config_path is not None:
                raise ConfigError(f"{path}: config file not found")
            return str(path), None
        return str(path), read_toml(path)

    def _workspace_file(self) -> tuple[str, dict[str, Any] | None]:
        assert self.workspace_root is not None
        path = workspace_config_file(self.workspace_root)
        if path is None:
            return str(self.workspace_root / ".tierwise.toml"), None
        data = read_toml(path)
        if path.name == "pyproject.toml":
            return f"{path} [tool.tierwise]", data.get("tool", {}).get("tierwise", {})
        return str(path), data

    def set_editor(self, source: Source, raw: Any) -> None:
        """Adopt settings sent by the editor (initializationOptions or pulled configuration)."""
        data = editor_settings(raw)
        if data is not None and not isinstance(data, dict):
            source.error = (
                f"{source.name}: expected an object of settings, got {type(data).__name__}"
            )
            return
        source.data, source.error = data, None

    def build(self) -> tuple[Config, list[str]]:
        """Merge the sources; returns the config and refused-key warnings.

        A source whose data does not validate falls back to its last good data (or is left
        out) and keeps the error in `source.error`.
        """
        chosen: list[Layer] = []
        for source in self.sources:
            for data in _candidates(source):
                layer = Layer(source.name, data, source.trusted)
                try:
                    build_config([*chosen, layer])
                except ConfigError as exc:
                    if data is source.data:
                        source.error = str(exc)
                    continue
                chosen.append(layer)
                if data is source.data:
                    source.good = data
                break
        return build_config(chosen)

    def new_problems(self) -> list[str]:
        """Errors not yet shown to the user (each distinct error is shown once)."""
        out: list[str] = []
        for source in self.sources:
            if source.error is None:
                source.reported = None
            elif source.error != source.reported:
                source.reported = source.error
                kept = (
                    "keeping its last good settings" if source.good is not None else "ignoring it"
                )
                out.append(f"{source.error} ({kept})")
        return out

    def new_warnings(self, warnings: list[str]) -> list[str]:
        """Refused-key warnings not yet shown."""
        fresh = [w for w in warnings if w not in self.reported_warnings]
        self.reported_warnings.update(fresh)
        return fresh

    def watched_files(self) -> list[Path]:
        """The files whose changes reload the configuration."""
        files = [self.config_path or user_config_path()]
        if self.workspace_root is not None:
            files += [
                self.workspace_root / ".tierwise.toml",
                self.workspace_root / "pyproject.toml",
            ]
        return [f.expanduser().absolute() for f in files]


def _candidates(source: Source) -> list[dict[str, Any]]:
    """The data to try for a source: its latest, then its last good one."""
    out: list[dict[str, Any]] = []
    if source.data is not None and source.error is None:
        out.append(source.data)
    if source.good is not None and all(source.good is not d for d in out):
        out.append(source.good)
    return out


def _load_watchfiles() -> Callable[..., Any]:
    """`watchfiles.awatch`, with the modules its first run would import lazily (anyio's
    asyncio backend, with its task groups and threads; platform) imported here as well."""
    from watchfiles import awatch

    with contextlib.suppress(Exception):  # best effort: another anyio may lay them out otherwise
        import platform  # noqa: F401

        import anyio._backends._asyncio  # noqa: F401  (it loads anyio's tasks, streams, threads)
    return awatch


class ConfigWatcher:
    """Watches the configuration files with watchfiles and calls back on a change."""

    def __init__(self, files: list[Path], on_change: Callable[[], Awaitable[None]]) -> None:
        self.files = {str(f) for f in files}
        self.on_change = on_change
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start watching in a background task."""
        self._task = asyncio.create_task(self._run(), name="tierwise-config-watcher")

    async def _run(self) -> None:
        # Imported in a thread, not on the event loop: the provider SDK warm-up imports anyio
        # (watchfiles uses it too) in a thread when the first document opens, and an import
        # of a module another thread is importing waits for that whole import (pings stalled
        # 1 s behind it in `python -m bench.hostile`).
        awatch = await asyncio.to_thread(_load_watchfiles)

        # Directories, not files: editors save by replacing the file, and a workspace file may
        # not exist yet. Not recursive: a repository can be huge.
        dirs = sorted({str(Path(f).parent) for f in self.files if Path(f).parent.is_dir()})
        logger.info("watching %s", ", ".join(dirs) or "nothing (no config directory exists)")
        if not dirs:
            return
        live = False
        try:
            async for changes in awatch(
                *dirs,
                watch_filter=lambda _change, path: path in self.files,
                stop_event=self._stop,
                recursive=False,
                debounce=400,
                rust_timeout=1000,
                yield_on_timeout=True,
            ):
                if not changes:
                    if live:
                        continue
                    # The first quiet tick: the watch is live. A file saved while it was
                    # starting raised no event, so read the files once more now.
                    live = True
                else:
                    logger.info(
                        "configuration changed: %s", ", ".join(sorted(p for _, p in changes))
                    )
                try:
                    await self.on_change()
                except Exception:  # a reload bug must not stop the watching
                    logger.exception("configuration reload failed")
        except Exception:
            logger.exception("the configuration watcher stopped; restart the server to reload")

    async def stop(self) -> None:
        """Stop watching and wait for the watcher to finish."""
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=2.0)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()
                with contextlib.suppress(BaseException):
                    await self._task
