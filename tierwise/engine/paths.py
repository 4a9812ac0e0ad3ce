"""What the configuration says about a file by its path and size: excluded, local only, too big."""

from __future__ import annotations

from tierwise import privacy
from tierwise.config import Config
from tierwise.core.errors import UsageError
from tierwise.engine.memo import Memo


class PathRules:
    """privacy.exclude, privacy.local_only and server.max_file_bytes, remembered per path."""

    def __init__(self, config: Config, workspace_root: str | None) -> None:
        self.config = config
        self.workspace_root = workspace_root
        self._local_only: Memo[bool] = Memo()
        self._excluded: Memo[str | None] = Memo()

    def reconfigure(self, config: Config) -> None:
        """Adopt a new configuration: the remembered answers came from the old globs."""
        self.config = config
        self._local_only.clear()
        self._excluded.clear()

    def is_excluded(self, path: str) -> str | None:
        """The privacy.exclude pattern that matches the path, or None."""
        return self._excluded.get(
            path,
            lambda: privacy.is_excluded(
                path, self.config.privacy.exclude, root=self.workspace_root
            ),
        )

    def is_local_only(self, path: str) -> bool:
        """Whether privacy.local_only matches the path (its requests never leave the machine)."""
        return self._local_only.get(
            path,
            lambda: privacy.matches_any(
                path, self.config.privacy.local_only, root=self.workspace_root
            ),
        )

    def never_shared(self, path: str) -> str | None:
        """Why answers for this path must stay on this machine (never the shared cache)."""
        if self.is_excluded(path) is not None:
            return "privacy.exclude"
        return "privacy.local_only" if self.is_local_only(path) else None

    def check_size(self, path: str, source: str) -> None:
        """UsageError for a text over server.max_file_bytes (its size in UTF-8 bytes)."""
        limit = self.config.server.max_file_bytes
        if len(source) <= limit // 4:
            return  # at most 4 bytes a character: certainly within the limit
        size = len(source.encode("utf-8", "surrogatepass"))
        if size > limit:
            raise UsageError(
                f"{path} is {size:,} bytes, over server.max_file_bytes ({limit:,}): tierwise "
                "does not read files this large (parsing them would stall every request); "
                "raise server.max_file_bytes in your user config to allow it"
            )
