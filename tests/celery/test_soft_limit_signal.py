"""The library behaviour ``core.jobs.soft_limit`` relies on, pinned on billiard itself
(the pool under Celery's prefork workers): the soft limit reaches the child as
``SIG_SOFT_TIMEOUT``, whose handler raises ``SoftTimeLimitExceeded``; held by
``soft_limit_as_flag``, it raises the flag instead, and the handler comes back
after. When a billiard release delivers it otherwise, this fails."""

from __future__ import annotations

import signal
import time

import billiard
import pytest
from billiard.pool import SIG_SOFT_TIMEOUT
from celery.exceptions import SoftTimeLimitExceeded

from core.jobs.soft_limit import soft_limit_as_flag

pytestmark = [
    pytest.mark.process,  # billiard's pool forks
    pytest.mark.skipif(SIG_SOFT_TIMEOUT is None, reason="no SIGUSR1 (Windows)"),
]

SOFT_LIMIT_S = 0.3
PATIENCE_S = 20.0


def _wait_for_the_exception() -> str:
    try:
        time.sleep(PATIENCE_S)
    except SoftTimeLimitExceeded:
        return "exception"
    return "no soft limit"


def _wait_for_the_flag() -> tuple[bool, bool]:
    installed = signal.getsignal(SIG_SOFT_TIMEOUT)
    with soft_limit_as_flag() as reached:
        reached.wait(PATIENCE_S)
    return reached.is_set(), signal.getsignal(SIG_SOFT_TIMEOUT) is installed


@pytest.fixture
def pool():
    pool = billiard.Pool(1, soft_timeout=SOFT_LIMIT_S, timeout=PATIENCE_S * 2)
    yield pool
    pool.terminate()
    pool.join()


def test_billiard_raises_the_soft_limit_in_the_child(pool):
    assert SIG_SOFT_TIMEOUT == signal.SIGUSR1
    assert pool.apply_async(_wait_for_the_exception).get(timeout=PATIENCE_S) == "exception"


def test_held_the_soft_limit_raises_the_flag_and_the_handler_comes_back(pool):
    assert pool.apply_async(_wait_for_the_flag).get(timeout=PATIENCE_S) == (True, True)


def test_outside_a_pool_child_nothing_is_swapped():
    before = signal.getsignal(SIG_SOFT_TIMEOUT)
    with soft_limit_as_flag() as reached:
        assert signal.getsignal(SIG_SOFT_TIMEOUT) is before
    assert not reached.is_set()
