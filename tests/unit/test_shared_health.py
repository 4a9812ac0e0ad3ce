"""L2 health: one warning per outage, however many operations fail, and a flapping server
(failing, answering once, failing again) is not a new outage every time."""

from __future__ import annotations

from tierwise.cache.shared_values import QUIET_S, RETRY_AFTER_S, Health


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_warning_per_outage_and_the_password_never_shown() -> None:
    clock = Clock()
    health = Health("redis://mallory:hunter2hunter2@cache.internal:6379/2", clock)
    for _ in range(5):
        health.failed("lookup", TimeoutError())
        clock.now += 0.1
    (warning,) = health.take_warnings()
    assert "cache.internal:6379" in warning and "no answer within the deadline" in warning
    assert "hunter2" not in warning and "mallory" not in warning
    assert health.take_warnings() == [] and health.down and health.outages == 1


def test_l2_is_left_alone_after_a_failure_then_tried_again() -> None:
    clock = Clock()
    health = Health("redis://cache", clock)
    health.failed("lookup", ConnectionError("refused"))
    assert not health.usable()
    clock.now += RETRY_AFTER_S
    assert health.usable()
    health.ok()
    assert not health.down and health.usable()


def test_a_flapping_server_warns_once_and_a_later_outage_warns_again() -> None:
    clock = Clock()
    health = Health("redis://cache", clock)
    for _ in range(4):  # fails, answers once, fails again: the user sees one problem
        health.failed("store", TimeoutError())
        clock.now += RETRY_AFTER_S
        health.ok()
        clock.now += 1
    assert len(health.take_warnings()) == 1 and health.outages == 4
    clock.now += QUIET_S
    health.failed("lookup", TimeoutError())
    assert len(health.take_warnings()) == 1  # a new outage, long after the last warning
