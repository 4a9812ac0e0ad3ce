"""Writing `routing.overrides` into the user's config file without losing a character of it.

The file is edited as text, never regenerated: a new override is a `[[routing.overrides]]`
table appended at the end with a comment giving the date and the evidence; an override of the
same cell that exists already has only its `to = ...` line changed (and a comment added above
its table). The result must parse, validate and hold exactly the overrides asked for, or
nothing is written; the write is atomic (a temporary file renamed over the old one, its mode
kept).
"""

from __future__ import annotations

import difflib
import os
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import attrs

from tierwise.config.layers import MAX_CONFIG_BYTES, Layer, build_config
from tierwise.core.errors import ConfigError

HEADER = re.compile(r"^[ \t]*\[\[[ \t]*routing[ \t]*\.[ \t]*overrides[ \t]*\]\][ \t]*(#.*)?$")
TABLE = re.compile(r"^[ \t]*\[")
TO_LINE = re.compile(r"^(?P<lead>[ \t]*to[ \t]*=[ \t]*)(?P<value>\"[^\"\n]*\"|'[^'\n]*')")


@attrs.frozen
class Override:
    """One override to write: the cell (action, risk, tier), its new tier and why."""

    action: str
    risk: str
    tier: str
    to: str
    why: str  # one line: the evidence (n, rates, window)

    @property
    def key(self) -> tuple[str, str, str]:
        """The cell it applies to."""
        return (self.action, self.risk, self.tier)


@attrs.frozen
class Edit:
    """The file's text before and after, and what the edit did per override."""

    path: Path
    before: str
    after: str
    done: tuple[str, ...]  # one line per override: added, changed, or already there

    @property
    def changed(self) -> bool:
        """Whether writing would change the file."""
        return self.before != self.after

    def diff(self) -> str:
        """A unified diff of what writing would change."""
        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                fromfile=str(self.path),
                tofile=f"{self.path} (after --apply)",
            )
        )


def _read(path: Path) -> str:
    if not path.exists():
        return ""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}; nothing written") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than a configuration file may be; nothing written")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); nothing written") from None


def _load(text: str, path: Path, when: str) -> dict[str, Any]:
    """Parse and validate the text as the user config; ConfigError says where it is broken."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML {when}: {exc}; nothing written") from None
    try:
        build_config([Layer(str(path), data, trusted=True)])
    except ConfigError as exc:
        raise ConfigError(f"{exc} ({when}); nothing written") from None
    return data


def _existing(data: dict[str, Any]) -> list[dict[str, Any]]:
    routing = data.get("routing", {})
    overrides = routing.get("overrides", []) if isinstance(routing, dict) else []
    return [o for o in overrides if isinstance(o, dict)]


def _blocks(lines: list[str]) -> list[tuple[int, int, dict[str, Any]]]:
    """(header line, end line, parsed keys) of every `[[routing.overrides]]` table."""
    out = []
    for i, line in enumerate(lines):
        if not HEADER.match(line.rstrip("\r\n")):
            continue
        end = next((j for j in range(i + 1, len(lines)) if TABLE.match(lines[j])), len(lines))
        try:
            keys = tomllib.loads("".join(lines[i + 1 : end]))
        except tomllib.TOMLDecodeError:
            keys = {}
        out.append((i, end, keys))
    return out


def _key(o: dict[str, Any]) -> tuple[str, str, str]:
    return (str(o.get("action")), str(o.get("risk", "none")), str(o.get("tier")))


def plan_overrides(path: Path, wanted: list[Override], *, today: str) -> Edit:
    """The file's new text with every override of `wanted` in it (nothing is written)."""
    before = _read(path)
    data = _load(before, path, "as it is") if before.strip() else {}
    newline = "\r\n" if "\r\n" in before else "\n"
    lines = before.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    present = {_key(o): str(o.get("to")) for o in _existing(data)}
    before_run = dict(present)
    expected = dict(present)
    done: list[str] = []
    for o in wanted:
        where = f" on {o.risk} code" if o.risk != "none" else ""
        comment = f"# tierwise tune {today}: {o.action}{where} at {o.tier} → {o.to}: {o.why}"
        comment = comment.replace("\r", " ").replace("\n", " ") + newline
        if present.get(o.key) == o.to:
            done.append(f"already there: {o.action} on {o.risk} at {o.tier} → {o.to}")
            continue
        if o.key in present:
            _change(lines, path, o.key, o.to, comment)
            done.append(f"changed: {o.action} on {o.risk} at {o.tier} → {o.to}")
        else:
            lines += [
                newline,
                comment,
                "[[routing.overrides]]" + newline,
                f'action = "{o.action}"{newline}',
                f'risk = "{o.risk}"{newline}',
                f'tier = "{o.tier}"{newline}',
                f'to = "{o.to}"{newline}',
            ]
            done.append(f"added: {o.action} on {o.risk} at {o.tier} → {o.to}")
        present[o.key] = expected[o.key] = o.to
        # An earlier override that sends requests into this cell (mid → budget, and now budget
        # → mid) is changed too: the router applies one override per request.
        for key, to in before_run.items():
            if key[:2] == o.key[:2] and to == o.tier and key != o.key:
                _change(lines, path, key, o.to, comment)
                present[key] = expected[key] = o.to
                done.append(f"changed: {key[0]} on {key[1]} at {key[2]} → {o.to} (it fed {o.tier})")
    after = "".join(lines)
    if after != before:
        check = _load(after, path, "after the edit")
        if {_key(o): str(o.get("to")) for o in _existing(check)} != expected:
            raise ConfigError(
                f"{path}: the edited file would not hold the overrides asked for (a routing"
                " table written in another form?); edit it by hand; nothing written"
            )
    return Edit(path, before, after, tuple(done))


def _change(lines: list[str], path: Path, key: tuple[str, str, str], to: str, comment: str) -> None:
    """Change the `to` line of the override table for `key`, with a comment above it."""
    block = next((b for b in _blocks(lines) if _key(b[2]) == key), None)
    if block is None:
        raise ConfigError(
            f"{path}: routing.overrides is not written as [[routing.overrides]] tables, so"
            " tierwise cannot change it without rewriting your text; edit it by hand (or"
            " move it into [[routing.overrides]] tables); nothing written"
        )
    header, end, _keys = block
    for j in range(header + 1, end):
        match = TO_LINE.match(lines[j])
        if match:
            lines[j] = f'{match["lead"]}"{to}"{lines[j][match.end() :]}'
            break
    else:
        raise ConfigError(f"{path}: an override for {key} has no `to` line; nothing written")
    lines.insert(header, comment)


def write(edit: Edit) -> None:
    """Write the edit atomically, keeping the file's mode (a new file is 0600)."""
    if not edit.changed:
        return
    path = edit.path.resolve()  # a symlinked config stays a symlink: its target is written
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(edit.after)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
