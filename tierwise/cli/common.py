"""What every CLI subcommand shares: exit codes, FILE:LINE targets, reading sources, finding the
workspace, loading the engine, JSON on stdout."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tierwise.core.errors import UsageError

EXIT_OK, EXIT_USAGE, EXIT_PROVIDER = 0, 2, 3
EXIT_CANCELLED = 130


def parse_target(text: str) -> tuple[Path, int | None, int]:
    """Split FILE[:LINE[:COL]] into a path and 0-based line/column."""
    parts = text.split(":")
    numbers: list[int] = []
    while len(parts) > 1 and parts[-1].isdigit() and len(numbers) < 2:
        numbers.insert(0, int(parts.pop()))
    path = Path(":".join(parts))
    if any(n < 1 for n in numbers):
        raise UsageError(f"{text}: line and column are 1-based")
    line = numbers[0] - 1 if numbers else None
    col = numbers[1] - 1 if len(numbers) > 1 else 0
    return path, line, col


def find_workspace(start: Path) -> Path:
    """The nearest directory upwards holding .tierwise.toml, pyproject.toml or .git."""
    here = start.resolve()
    here = here if here.is_dir() else here.parent
    for candidate in (here, *here.parents):
        if any(
            (candidate / marker).exists() for marker in (".tierwise.toml", "pyproject.toml", ".git")
        ):
            return candidate
    return here


def load_engine(args: argparse.Namespace, anchor: Path | None) -> Any:
    """Load the configuration layers and build an engine; warnings go to stderr."""
    from tierwise.config import load_config
    from tierwise.engine import Engine

    root = args.workspace or find_workspace(anchor or Path.cwd())
    config, warnings = load_config(config_path=args.config, workspace_root=root)
    for warning in warnings:
        print(f"tierwise: warning: {warning}", file=sys.stderr)
    return Engine(config, workspace_root=str(root))


def read_source(path: Path) -> str:
    """Read a file as UTF-8 text, with a usage error that names it."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise UsageError(f"{path}: not a UTF-8 text file ({exc.__class__.__name__})") from None


def emit_json(data: Any) -> None:
    """Print one JSON document on stdout."""
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
