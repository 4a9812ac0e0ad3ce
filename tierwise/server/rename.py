"""A cross-file rename of a Python symbol with jedi, as minimal per-file line edits."""

from __future__ import annotations

import difflib
import itertools
from pathlib import Path

from lsprotocol import types

from tierwise.core.errors import UsageError
from tierwise.server.convert import LineIndex


def _lines(index: LineIndex) -> list[str]:
    """The text's lines with their breaks, split the way an editor splits them."""
    bounds = [*index.starts, len(index.text)]
    lines = [index.text[a:b] for a, b in itertools.pairwise(bounds)]
    return lines if lines and lines[-1] else lines[:-1]


def line_edits(old: str, new: str, encoding: str) -> list[types.TextEdit]:
    """Minimal whole-line edits that turn `old` into `new`."""
    index = LineIndex(old, encoding)
    old_lines = _lines(index)
    new_lines = _lines(LineIndex(new, encoding))

    def start_of(line: int) -> types.Position:
        # One past an unterminated last line is the end of the text, which needs a column.
        if line < len(index.starts):
            return types.Position(line, 0)
        return index.to_client(len(index.lines), 0)

    edits: list[types.TextEdit] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            edits.append(
                types.TextEdit(
                    range=types.Range(start_of(i1), start_of(i2)),
                    new_text="".join(new_lines[j1:j2]),
                )
            )
    return edits


def jedi_rename(
    *,
    source: str,
    path: str,
    root: str | None,
    line: int,
    col: int,
    new_name: str,
    open_texts: dict[Path, str],
) -> dict[Path, tuple[str, str]]:
    """Rename the symbol at a 0-based (line, str column); returns path -> (old, new) text.

    jedi reads other files from disk, so a file open with unsaved changes cannot be edited
    safely: that is a UsageError asking to save it first.
    """
    import jedi
    from jedi.api.exceptions import RefactoringError

    project = jedi.Project(root) if root else None
    script = jedi.Script(source, path=path, project=project)
    try:
        refactoring = script.rename(line + 1, col, new_name=new_name)
    except RefactoringError as exc:
        raise UsageError(f"jedi cannot rename here: {exc}") from None
    out: dict[Path, tuple[str, str]] = {}
    for file_path, changed in refactoring.get_changed_files().items():
        file_path = Path(file_path)
        new = changed.get_new_code()
        if file_path == Path(path):
            out[file_path] = (source, new)
            continue
        try:
            disk = file_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read {file_path} for the rename: {exc.strerror}") from None
        buffer = open_texts.get(file_path)
        if buffer is not None and buffer != disk:
            raise UsageError(f"{file_path} has unsaved changes: save it, then rename again")
        out[file_path] = (disk, new)
    return out
