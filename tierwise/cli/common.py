"""What every CLI subcommand shares: exit codes, FILE:LINE targets, reading sources, finding the
workspace, loading the engine, JSON on stdout."""

from __future__ import annotations

import argparse
import codecs
import io
import json
import sys
from pathlib import Path
from typing import Any, NamedTuple

from tierwise.core.errors import UsageError
from tierwise.core.text import plural

EXIT_OK, EXIT_USAGE, EXIT_PROVIDER = 0, 2, 3
EXIT_CANCELLED = 130
EXIT_PIPE = 141  # 128 + SIGPIPE, what a Unix tool whose reader went away exits with


def parse_target(text: str) -> tuple[Path, int | None, int]:
    """Split FILE[:LINE[:COL]] into a path and 0-based line/column."""
    parts = text.split(":")
    numbers: list[int] = []
    while len(parts) > 1 and parts[-1].isdigit() and len(numbers) < 2:
        numbers.insert(0, int(parts.pop()))
    path = Path(":".join(parts))
    if not path.exists():
        # FILE:abc or FILE:3:x is a bad position on an existing file, not a missing file.
        for cut in range(len(parts) - 1, 0, -1):
            head = Path(":".join(parts[:cut]))
            if head.is_file():
                position = text[len(str(head)) + 1 :]
                raise UsageError(
                    f"{text}: {position!r} is not a position: use FILE:LINE or FILE:LINE:COL "
                    "with 1-based numbers"
                )
    if any(n < 1 for n in numbers):
        raise UsageError(f"{text}: line and column are 1-based")
    line = numbers[0] - 1 if numbers else None
    col = numbers[1] - 1 if len(numbers) > 1 else 0
    return path, line, col


def check_position(path: Path, text: str, line: int, col: int, what: str = "position") -> None:
    """Refuse a 0-based (line, col) outside the text, in the CLI's 1-based terms."""
    # Here, not at import: `tierwise --version` and `--help` import this module too.
    from tierwise.context.languages import split_lines

    lines = split_lines(text)
    shown = max(len(text.splitlines()), 1)  # what an editor's line numbers show
    if line >= len(lines):
        raise UsageError(
            f"{path}:{line + 1}: {what} line {line + 1} is past the end: the file has "
            f"{plural(shown, 'line')} (1 to {shown})"
        )
    length = len(lines[line])
    if col > length:
        raise UsageError(
            f"{path}:{line + 1}:{col + 1}: {what} column {col + 1} is past the end of line "
            f"{line + 1}: it has {plural(length, 'character')}, so columns run 1 to {length + 1}"
        )


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
    engine = Engine(config, workspace_root=str(root))
    for warning in [*warnings, *engine.pricing.price_warnings()]:
        print(f"tierwise: warning: {warning}", file=sys.stderr)
    return engine


class SourceText(NamedTuple):
    """A file's text (line breaks as "\n"), and how to write it back as it was."""

    text: str
    encoding: str  # "utf-8", "utf-8-sig" (a BOM), or what a PEP 263 coding line names
    newline: str  # the file's line break: "\n", "\r\n" or "\r"


def read_file(path: Path) -> SourceText:
    """Read a source file in its own encoding: UTF-8, or what a byte-order mark or (Python)
    a PEP 263 coding line names; a usage error that names the file and what to do."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, not a source file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read: {exc.strerror}") from None
    encoding = "utf-8"
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif path.suffix in (".py", ".pyi", ".pyw") and b"coding" in b"\n".join(
        data.split(b"\n", 2)[:2]
    ):
        # Without the word in its first two lines a file has no PEP 263 line: UTF-8, and
        # tokenize (a tenth of `tierwise route`'s imports) is not needed.
        import tokenize

        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError as exc:  # an unknown encoding in the coding line
            raise UsageError(f"{path}: {exc.msg}; fix its coding line") from None
    try:
        raw = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{path}: not valid {encoding}: byte 0x{data[exc.start]:02x} at offset {exc.start}. "
            "tierwise reads UTF-8, or the encoding a byte-order mark or (Python) a PEP 263 "
            "coding line names, e.g. `# -*- coding: latin-1 -*-` as its first or second line: "
            "add one, or convert the file (iconv -f latin1 -t utf-8)"
        ) from None
    crlf, cr = raw.count("\r\n"), raw.count("\r") - raw.count("\r\n")
    lf = raw.count("\n") - crlf
    newline = "\r\n" if crlf > max(lf, cr) else "\r" if cr > max(lf, crlf) else "\n"
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    return SourceText(text, encoding, newline)


def read_source(path: Path) -> str:
    """A file's text (see read_file)."""
    return read_file(path).text


def write_source(path: Path, source: SourceText, text: str) -> None:
    """Write text back with the file's own encoding (and byte-order mark) and line breaks."""
    path.write_text(text, encoding=source.encoding, newline=source.newline)


def emit_json(data: Any) -> None:
    """Print one JSON document on stdout."""
    # One write: json.dump would hand the stream every token (a 40k-row plan: 5M writes).
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
