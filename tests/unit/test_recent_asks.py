"""The escalation memory kept in process (engine/recent_asks.py) stays the ledger's: other
processes writing the same ledger file are seen at the next look-up, and this process's own
writes, through the engine or straight to its ledger, without one."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tierwise.config import Config
from tierwise.context.extract import extract
from tierwise.core.task import Action, Task
from tierwise.engine.asks import repeats
from tierwise.engine.route_inputs import _repeats
from tierwise.engine.stores import Stores
from tierwise.ledger import Ledger, LedgerRow
from tierwise.routing.policy import Policy
from tierwise.routing.signals import compute_signals

WINDOW_S = 900.0

# Another process appends an answered ask of the target (or marks row ARG's edit applied).
OTHER_PROCESS = """\
import sys
from pathlib import Path
from tierwise.ledger import Ledger, LedgerRow
ledger = Ledger(Path(sys.argv[1]))
if sys.argv[2] == "ask":
    print(ledger.record(LedgerRow(
        action="review", language="python", tier="mid", target=sys.argv[3], output_tokens=80
    )))
else:
    ledger.mark_edit(int(sys.argv[3]), applied=True, outcome="ok", note=None)
ledger.close()
"""


def other_process(path: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS, str(path), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout.strip()


@pytest.fixture
def stores(tmp_path: Path) -> Stores:
    config = Config()
    config.ledger.path = str(tmp_path / "ledger.sqlite3")
    config.cache.enabled = False
    return Stores(config)


def answered(target: str, tier: str = "mid", **fields: object) -> LedgerRow:
    return LedgerRow(
        action="review",
        language="python",
        tier=tier,
        target=target,
        output_tokens=80,
        **fields,  # type: ignore[arg-type]
    )


def counted(stores: Stores, target: str, action: str = "review") -> int:
    now = time.time()
    since = datetime.fromtimestamp(now - WINDOW_S, UTC)
    return repeats(stores.asks(target, action, since), now=now, window_s=WINDOW_S)


def test_asks_written_by_another_process_count_at_the_next_look_up(stores: Stores) -> None:
    target = stores.target_id("auth.py:function:verify_password")
    assert counted(stores, target) == 0  # read once: the record now holds this target
    stores.record(answered(target))
    assert counted(stores, target) == 1  # this process's own write, without a query
    other_process(stores.ledger_path, "ask", target)
    assert counted(stores, target) == 2  # the other process's commit is seen
    row_id = int(other_process(stores.ledger_path, "ask", target))
    assert counted(stores, target) == 3
    other_process(stores.ledger_path, "applied", str(row_id))
    assert counted(stores, target) == 0  # its answer was accepted elsewhere: the count resets
    stores.record(answered(target))
    assert counted(stores, target) == 1
    assert counted(stores, stores.target_id("auth.py:function:other")) == 0


def test_the_other_process_sees_this_ones_asks(stores: Stores) -> None:
    target = stores.target_id("auth.py:function:verify_password")
    stores.record(answered(target))
    stores.record(answered(target))
    other = Ledger(stores.ledger_path)  # another connection, as another process's
    since = datetime.now(UTC) - timedelta(seconds=WINDOW_S)
    assert len(other.asks(target, "review", since)) == 2
    other.close()


def test_writes_straight_to_the_ledger_and_edits_are_kept_in_step(stores: Stores) -> None:
    target = stores.target_id("auth.py:function:verify_password")
    first = stores.record(answered(target))
    assert first is not None and counted(stores, target) == 1
    ledger = stores.ledger
    assert ledger is not None
    second = ledger.record(answered(target))  # not through the engine: still this connection
    assert counted(stores, target) == 2
    stores.mark_edit(second, applied=False, outcome="declined", note="the user said no")
    asks = stores.asks(target, "review", datetime.now(UTC) - timedelta(seconds=WINDOW_S))
    assert [(a.outcome, a.applied) for a in asks] == [("ok", None), ("declined", False)]
    stores.edit_event(second, "fix", "applied", "0")  # a quick fix chosen accepts the review
    assert counted(stores, target) == 0
    assert [a.applied for a in stores.asks(target, "review", _since())] == [None, True]
    # What the record answers is what a fresh read of the file answers.
    fresh = Ledger(stores.ledger_path)
    assert fresh.asks(target, "review", _since()) == [
        (a.ts, a.cache_hit, a.tier, a.output_tokens, a.outcome, a.applied)
        for a in stores.asks(target, "review", _since())
    ]
    fresh.close()


def _since() -> datetime:
    return datetime.now(UTC) - timedelta(seconds=WINDOW_S)


def test_a_ledger_deleted_and_recreated_is_read_again(stores: Stores) -> None:
    target = stores.target_id("auth.py:function:verify_password")
    stores.record(answered(target))
    assert counted(stores, target) == 1
    path = stores.ledger_path
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    # The new file has a new target key: the same target has another id, and no asks yet.
    stores.record(answered(stores.target_id("x")))
    target = stores.target_id("auth.py:function:verify_password")
    assert counted(stores, target) == 0
    stores.record(answered(target))
    assert counted(stores, target) == 1


def test_a_narrower_then_wider_window_reads_the_older_rows_again(stores: Stores) -> None:
    target = stores.target_id("auth.py:function:verify_password")
    old = datetime.now(UTC) - timedelta(seconds=600)
    stores.record(answered(target, ts=old.isoformat()))
    stores.record(answered(target))
    narrow = stores.asks(target, "review", datetime.now(UTC) - timedelta(seconds=60))
    assert len(narrow) == 1
    wide = stores.asks(target, "review", datetime.now(UTC) - timedelta(seconds=900))
    assert len(wide) == 2 and wide[0].ts == pytest.approx(old.timestamp(), abs=1)


def test_a_window_of_zero_reads_no_asks(stores: Stores) -> None:
    """escalate_window_s = 0 turns escalation on repeat off: not even a row stamped ahead of
    this machine's clock (another machine's, sharing the file) counts, as it did before."""
    source = "def verify_password(p, e):\n    return check(p, e)\n"
    ctx = extract("auth.py", source, 1, 4, budget_tokens=2000)
    task = Task(Action.REVIEW, ctx)
    signals = compute_signals(ctx)
    target = stores.target_id(signals.target_key)
    ahead = datetime.now(UTC) + timedelta(seconds=30)
    stores.record(answered(target, ts=ahead.isoformat()))
    assert _repeats(stores, Policy.from_config(Config()), task, signals) == 1
    config = Config()
    config.routing.escalate_window_s = 0
    assert _repeats(stores, Policy.from_config(config), task, signals) == 0
