"""The soak in CI: a few minutes of mixed traffic with a 10% provider fault rate.

Bounds (stated in docs/security.md): memory grows by less than SOAK_RSS_GROWTH_KIB from the
end of the warm-up to the end; descriptors, threads and asyncio tasks come back to where
they were (a small allowance for pools that grow on first use); no background job is left;
every request is answered, and only with a result or a clean error; every answered run has
its ledger row. TIERWISE_SOAK_S sets the length (bench/soak.py runs it longer).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import make_workspace
from tests.e2e.lsp_helpers import fake_reply
from tests.fakes.wire import FakeProvider
from tests.protocol.conftest import spawn
from tests.protocol.fuzzing import SUMMARY
from tests.protocol.soak import CAPABILITIES, Soak, SoakReport

SOAK_S = float(os.environ.get("TIERWISE_SOAK_S", "150"))
SOAK_RSS_GROWTH_KIB = 16 * 1024
SLACK = {"fds": 4, "threads": 4, "tasks": 3}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoakReport]:
    with FakeProvider() as fake:
        fake.responder = fake_reply
        home, root = make_workspace(tmp_path_factory.mktemp("soak"), fake)
        rpc = spawn(home)
        try:
            rpc.initialize(root, CAPABILITIES)
            result = Soak(rpc, fake, root, home, seed=9).run(SOAK_S)
            SUMMARY.append(result.summary())
            yield result
            assert rpc.exit() == 0
        finally:
            rpc.close()


def test_every_request_is_answered_and_only_cleanly(report: SoakReport) -> None:
    assert report.steps > 200
    assert report.unanswered == []
    assert report.unclean == []
    assert report.codes[-32803] > 0  # the faults did reach the user, as clean errors
    assert report.codes["ok"] > report.steps // 2


def test_faults_were_injected_and_every_answered_run_was_recorded(report: SoakReport) -> None:
    assert report.provider_calls > 50
    assert report.ledger_rows >= report.runs_answered > 0


def test_memory_stays_bounded(report: SoakReport) -> None:
    growth = report.end.rss_kib - report.start.rss_kib
    assert growth < SOAK_RSS_GROWTH_KIB, [s.rss_kib for s in report.samples]


def test_no_tasks_threads_descriptors_or_jobs_leak(report: SoakReport) -> None:
    start, end = report.start, report.end
    assert end.fds <= start.fds + SLACK["fds"], [s.fds for s in report.samples]
    assert end.threads <= start.threads + SLACK["threads"], [s.threads for s in report.samples]
    assert end.tasks <= start.tasks + SLACK["tasks"], [s.tasks for s in report.samples]
    assert end.jobs == 0
    assert end.in_flight == 0
