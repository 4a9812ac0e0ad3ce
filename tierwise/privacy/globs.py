"""Which files are never sent (privacy.exclude) or stay on the machine (privacy.local_only):
gitignore-style globs matched against the path relative to the workspace root."""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Sequence

# Windows file systems ignore case; POSIX ones (and therefore the patterns) do not.
_CASE_FLAGS = re.IGNORECASE if os.name == "nt" else 0


def is_excluded(path: str, patterns: Sequence[str], *, root: str | None = None) -> str | None:
    """The first pattern, as written, that matches `path`, or None.

    Gitignore-like: a pattern without "/" matches a file name (or a directory name inside `root`);
    one with "/" matches the path relative to `root` when it is under it, else the whole path. A
    leading "/" anchors at `root` (and is also tried as an absolute path); "*" and "?" never cross
    "/"; a "**" segment spans directories; a trailing "/" matches directories only. A relative
    `path` is taken as relative to `root`. "!" is literal: a privacy list can only add exclusions.
    """
    located = _locate(path, root)
    if located is None:
        return None
    return next((pattern for pattern in patterns if _matches(pattern, *located)), None)


def matches_any(path: str, patterns: Sequence[str], root: str | None = None) -> bool:
    """Whether any pattern matches `path` (used for privacy.local_only)."""
    return is_excluded(path, patterns, root=root) is not None


def _normalise(path: str) -> str:
    if os.sep != "/":
        path = path.replace(os.sep, "/")
    return posixpath.normpath(path)


def _is_absolute(path: str) -> bool:
    return path.startswith("/") or path[1:3] == ":/"  # a Windows drive path, once normalised


def _locate(path: str, root: str | None) -> tuple[str, str | None] | None:
    """The normalised full path and the path relative to the root (None when outside it)."""
    if not path:
        return None
    full = _normalise(path)
    if not _is_absolute(full):
        return full, None if full == ".." or full.startswith("../") else full
    base = _normalise(root) if root else ""
    prefix = base if base.endswith("/") else base + "/"
    if _is_absolute(base) and full.startswith(prefix):
        return full, full[len(prefix) :]
    return full, None


def _matches(pattern: str, full: str, rel: str | None) -> bool:
    glob = pattern.strip()
    dir_only = glob.endswith("/")
    glob = glob.rstrip("/")
    if not glob:
        return False
    if "/" not in glob:
        regex = re.compile(_translate(glob), _CASE_FLAGS)
        # Directory names count only inside the root: an ancestor such as /home/id_bob must not
        # make every file "id_*".
        names = rel.split("/") if rel is not None else [posixpath.basename(full)]
        return any(regex.fullmatch(name) for name in names[: -1 if dir_only else None])
    tries: list[tuple[str, str]] = []
    if rel is not None:
        tries.append((rel, glob.lstrip("/")))
    if rel is None or glob.startswith("/"):
        tries.append((full, glob))
    for subject, anchored in tries:
        regex = re.compile(_translate(anchored), _CASE_FLAGS)
        # A matching directory takes everything inside it along, as in gitignore.
        ends = [i for i, char in enumerate(subject) if char == "/" and i > 0]
        if not dir_only:
            ends.append(len(subject))
        if any(regex.fullmatch(subject, 0, end) for end in ends):
            return True
    return False


def _translate(glob: str) -> str:
    """A regex source for one gitignore-style glob, where "*" and "?" stop at "/"."""
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        char = glob[i]
        if char == "*":
            j = i
            while j < n and glob[j] == "*":
                j += 1
            whole_segment = (i == 0 or glob[i - 1] == "/") and (j == n or glob[j] == "/")
            if j - i >= 2 and whole_segment:
                out.append(".*" if j == n else "(?:.*/)?")
                j += j < n  # "**/" consumes its slash
            else:
                out.append("[^/]*")
            i = j
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            i = _translate_class(glob, i, out)
        elif char == "\\" and i + 1 < n:
            out.append(re.escape(glob[i + 1]))
            i += 2
        else:
            out.append(re.escape(char))
            i += 1
    return "".join(out)


def _translate_class(glob: str, i: int, out: list[str]) -> int:
    """Translate the bracket expression at glob[i]; an unclosed "[" is a literal, as in fnmatch."""
    j = i + 1
    negate = j < len(glob) and glob[j] in "!^"
    if negate:
        j += 1
    if j < len(glob) and glob[j] == "]":
        j += 1
    close = glob.find("]", j)
    if close < 0:
        out.append(re.escape("["))
        return i + 1
    body = glob[i + 2 if negate else i + 1 : close]
    members = "".join("-" if char == "-" else re.escape(char) for char in body)
    out.append(f"[^/{members}]" if negate else f"(?!/)[{members}]")
    return close + 1
