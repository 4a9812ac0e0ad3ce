"""The docstring action on Django's own code through the CLI: an existing docstring is the user's.

The reproducer from issue 6: with no key the default is the static tier, and
`tierwise run docstring django/contrib/auth/hashers.py:37 --apply` used to replace Django's
hand-written docstring of `verify_password` with a skeleton saying "Returns: The password."
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from tests import realcode
from tests.e2e.test_cli import line_of, make_cli
from tests.fakes.wire import FakeProvider
from tests.fakes.wire_formats import text_of

DJANGO_HASHERS = "django/contrib/auth/hashers.py"
VERIFY_DOC = (
    "Return two booleans. The first is whether the raw password matches the\n"
    "three part encoded digest, and the second whether to regenerate the\n"
    "password."
)


def hashers_in(project: Path) -> Path:
    path = project / "hashers.py"
    shutil.copyfile(realcode.sdist("django") / DJANGO_HASHERS, path)
    return path


def docstring_of(path: Path, name: str) -> str | None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return next(
        ast.get_docstring(n) for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name
    )


def test_static_apply_keeps_djangos_docstring_and_says_it_is_an_update(
    tmp_path: Path, fake: FakeProvider
) -> None:
    cli = make_cli(tmp_path, fake, keys=False)
    path = hashers_in(cli.project)
    before = path.read_text(encoding="utf-8")
    line = line_of(before, "def verify_password")

    done = cli("run", "docstring", f"hashers.py:{line}", "--apply")

    assert done.returncode == 0, done.stderr
    doc = docstring_of(path, "verify_password") or ""
    assert doc.startswith(VERIFY_DOC + "\n\nArgs:\n    password")  # the whole section
    assert "Returns" not in doc
    assert done.stdout.startswith("update docstring · static · static")
    assert "update the existing docstring: insert at line" in done.stdout
    assert "added a parameter section (password, encoded, preferred)" in done.stdout
    assert "updated the docstring in" in done.stderr
    # Only lines were added: every line of the file is still there, in order.
    after = path.read_text(encoding="utf-8").split("\n")
    assert len(after) == len(before.split("\n")) + 5  # a blank, Args:, three entries
    rest = iter(after)
    assert all(any(line == other for other in rest) for line in before.split("\n"))

    # Asking again: every parameter is now documented, so nothing is written.
    again = cli("run", "docstring", f"hashers.py:{line}", "--apply")
    assert again.returncode == 0, again.stderr
    assert "nothing to change" in again.stdout and "nothing written" in again.stderr
    assert docstring_of(path, "verify_password") == doc


def test_a_model_update_gets_the_existing_text_in_its_prompt(
    tmp_path: Path, fake: FakeProvider
) -> None:
    cli = make_cli(tmp_path, fake)
    path = hashers_in(cli.project)
    line = line_of(path.read_text(encoding="utf-8"), "def verify_password")
    before = len(fake.requests)

    answer = cli.json("run", "docstring", f"hashers.py:{line}", "--tier", "budget")

    assert len(fake.requests) == before + 1
    prompt = text_of(fake.requests[-1].body.get("messages", []))
    assert "Update the documentation" in prompt
    assert "<existing>\n" + VERIFY_DOC + "\n</existing>" in prompt
    assert answer["result"]["existing"] is True
    text = cli("run", "docstring", f"hashers.py:{line}", "--tier", "budget")
    assert text.stdout.startswith("update docstring · budget · from cache")
    assert "update the existing docstring: replace lines" in text.stdout


def test_cli_runs_remember_asks_and_an_applied_answer_starts_over(
    tmp_path: Path, fake: FakeProvider
) -> None:
    from tests.e2e.lsp_helpers import APP

    cli = make_cli(tmp_path, fake)
    shout = f"app.py:{line_of(APP, 'cleaned = text.strip()')}"
    assert cli.json("run", "explain", shout)["cache_hit"] is False
    again = cli.json("route", "explain", shout)  # another process: the ledger remembers
    assert any("asked again within the window" in r for r in again["reasons"])

    find_user = f"app.py:{line_of(APP, 'row = conn.execute')}"
    applied = cli("run", "docstring", find_user, "--apply")
    assert applied.returncode == 0, applied.stderr
    after = cli.json("route", "docstring", find_user)
    assert not any("asked again" in r for r in after["reasons"]), after["reasons"]


def test_a_new_docstring_in_flask_follows_flasks_reST_fields(
    tmp_path: Path, fake: FakeProvider
) -> None:
    """Flask writes `:param x:` fields: a Google `Args:` block there is an edit its
    maintainers would reject (docstring_style "auto", the default)."""
    cli = make_cli(tmp_path, fake, keys=False)
    path = cli.project / "helpers.py"
    shutil.copyfile(realcode.sdist("flask") / "src" / "flask" / "helpers.py", path)
    before = path.read_text(encoding="utf-8")
    line = line_of(before, "def _split_blueprint_path")

    done = cli("run", "docstring", f"helpers.py:{line}", "--apply")

    assert done.returncode == 0, done.stderr
    tree = ast.parse(path.read_text(encoding="utf-8"))
    doc = next(
        ast.get_docstring(n)
        for n in tree.body
        if isinstance(n, ast.FunctionDef) and n.name == "_split_blueprint_path"
    )
    assert doc is not None and ":param name:" in doc and "Args:" not in doc
    google = cli("run", "docstring", f"helpers.py:{line}", "--style", "google")
    assert "nothing to change" in google.stdout  # documented now, in the file's style
