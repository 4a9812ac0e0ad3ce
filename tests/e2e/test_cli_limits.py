"""The CLI honours server.max_file_bytes for route, run and plan, and plan on many files
(worker processes, a progress bar on a terminal) gives the rows one process gives."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.lsp_helpers import fake_reply, user_config
from tests.e2e.test_cli import COMMAND, make_cli
from tests.fakes.wire import FakeProvider
from tests.realcode import sdist
from tierwise import report
from tierwise.cli import plan
from tierwise.config import Config
from tierwise.core.task import Action
from tierwise.engine import Engine


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as server:
        server.responder = fake_reply
        yield server


def test_a_file_over_max_file_bytes_is_refused_naming_the_setting(
    tmp_path: Path, fake: FakeProvider
) -> None:
    cli = make_cli(tmp_path, fake)
    (cli.project / "huge.py").write_text("def f():\n    return 1\n\n\n" * 2_000, encoding="utf-8")
    (cli.home / "config.toml").write_text(
        user_config(fake, "\n[server]\nmax_file_bytes = 10000\n"), encoding="utf-8"
    )
    for command in ("route", "run"):
        done = cli(command, "review", "huge.py:2")
        assert done.returncode == 2, done.stderr
        assert "huge.py is 48,000 bytes, over server.max_file_bytes (10,000)" in done.stderr
    assert not fake.requests, "a refused file reached the provider"
    planned = cli("plan", str(cli.project), "--json")
    assert planned.returncode == 0, planned.stderr
    assert "huge.py: skipped" in planned.stderr and "server.max_file_bytes" in planned.stderr
    rows = json.loads(planned.stdout)["rows"]
    assert {r["file"].split("/")[-1] for r in rows} == {"app.py"}  # the rest is planned


def test_plan_on_worker_processes_gives_the_rows_of_one_process(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(sdist("requests") / "src" / "requests", tree)
    files = sorted(tree.rglob("*.py"))
    assert len(files) >= 15
    engine = Engine(Config(), workspace_root=str(tmp_path))
    actions = [Action.DOCSTRING, Action.REVIEW]
    bar = plan.ProgressBar(len(files), enabled=False)
    one = [plan.plan_file(engine, path, actions, 2000) for path in files]
    # Worker processes even for this small tree.
    many = list(plan.plan_files(engine, files, actions, 2000, bar, parallel_from=2))
    assert sum(len(rows) for rows, _ in one) > 200
    assert many == one
    # Those workers were forked (Linux, and no other thread here, unless a fixture of the
    # session runs one); with a thread running they are spawned, as on other systems, and
    # give the same rows.
    if sys.platform == "linux" and threading.active_count() == 1:
        assert plan._pool_context().get_start_method() == "fork"
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert plan._pool_context().get_start_method() == "spawn"
        spawned = list(plan.plan_files(engine, files, actions, 2000, bar, parallel_from=2))
    finally:
        stop.set()
        other.join()
    assert spawned == one


def test_plan_text_is_the_table_of_its_json_rows(tmp_path: Path, fake: FakeProvider) -> None:
    """The table's lines are made as each file's rows come from the workers: the printed plan
    is the table the JSON rows and summary make, line for line, warnings on stderr."""
    cli = make_cli(tmp_path, fake)
    tree = cli.project / "db"
    shutil.copytree(sdist("django") / "django" / "db", tree)
    (tree / "broken.py").write_bytes(b"\xff\xfe not text")  # a warning amid the rows
    assert len(list(tree.rglob("*.py"))) > plan.PARALLEL_FROM_FILES
    text = cli("plan", str(tree), "--fresh")
    data = cli.json("plan", str(tree), "--fresh")
    assert text.returncode == 0, text.stderr
    assert "broken.py" in text.stderr
    rows, summary = data["rows"], data["summary"]
    assert len(rows) > 5_000
    printed = text.stdout.rstrip("\n").split("\n")
    expected = report.plan_text(rows, summary).split("\n")
    timed = next(i for i, line in enumerate(expected) if " routed in " in line)
    assert printed[:timed] == expected[:timed]  # the table, row for row
    assert printed[timed].split(" routed in ")[0] == expected[timed].split(" routed in ")[0]
    assert printed[timed + 1 :] == expected[timed + 1 :]


def test_ctrl_c_stops_plan_and_its_workers(tmp_path: Path, fake: FakeProvider) -> None:
    """Ctrl-C (SIGINT to the terminal's whole process group) stops a plan on workers: exit
    130, no table printed, no worker left behind. A forked worker must not keep asyncio's
    handler: it only cancels a copy of the parent's task, the workers plan on, and the parent
    notices at its next await, after the whole tree is planned and printed."""
    cli = make_cli(tmp_path, fake)
    started = subprocess.Popen(
        [*COMMAND, "plan", str(sdist("django")), "--fresh"],
        cwd=cli.project,
        env=cli.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own group, as a terminal's foreground job
    )
    try:
        group = _wait_for_workers(started.pid)
        assert len(group) >= 3, group  # the parent and two workers at least
        os.killpg(started.pid, signal.SIGINT)
        out, err = started.communicate(timeout=300)  # a hang guard, not a timing
        assert started.returncode == 130, err
        assert "interrupted" in err
        assert "requests routed" not in out, "the plan ran to its end after Ctrl-C"
        assert not _alive(group), "a worker outlived the plan"
    finally:
        if started.poll() is None:
            os.killpg(started.pid, signal.SIGKILL)
            started.communicate()


def _group(pgid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def _wait_for_workers(pgid: int) -> list[int]:
    for _ in range(600):  # until the workers are planning (each a process of the group)
        group = _group(pgid)
        if len(group) >= 3:
            return group
        time.sleep(0.05)
    return _group(pgid)


def _alive(pids: list[int]) -> list[int]:
    for _ in range(100):  # a worker may take a moment to leave once the parent has
        left = [pid for pid in pids if Path(f"/proc/{pid}").exists() and not _zombie(pid)]
        if not left:
            return []
        time.sleep(0.1)
    return left


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z")
    except OSError:
        return True


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_shows_a_bar_a_rate_and_what_is_left() -> None:
    stream = _Terminal()
    bar = plan.ProgressBar(200, stream)
    bar.update(10)
    assert stream.getvalue() == ""  # under a second: nothing at all
    bar = plan.ProgressBar(200, stream, after_s=0.0)
    bar.update(50)
    shown = stream.getvalue()
    assert shown.startswith("\rplan [██████░░░░░░░░░░░░░░░░░░] 50/200 files · ")
    assert "files/s · " in shown and " s left" in shown
    bar.close()
    assert stream.getvalue().endswith("\r\033[K")
    quiet = io.StringIO()  # not a terminal: no bar, ever
    piped = plan.ProgressBar(200, quiet)
    piped.update(200)
    piped.close()
    assert quiet.getvalue() == ""
