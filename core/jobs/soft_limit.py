"""Celery's soft time limit as a flag a service polls, instead of an exception.

In a prefork worker the soft limit arrives as a signal whose handler (billiard's)
raises ``SoftTimeLimitExceeded`` wherever the task happens to be: between an SMTP
server's "250 OK" and the row's bookkeeping, or inside an ``except Exception``
that takes it for an SMTP error and carries on until the hard limit. A task whose
service can stop cleanly swaps that handler, for its own duration, for one that
sets a flag, and hands the flag to the service (services never import Celery).

Other pools (solo, threads) enforce no soft limit: the flag then never rises.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from billiard.pool import SIG_SOFT_TIMEOUT, soft_timeout_sighandler


@contextmanager
def soft_limit_as_flag() -> Iterator[threading.Event]:
    """Yield an event set when the running task's soft time limit fires."""
    reached = threading.Event()
    if (
        SIG_SOFT_TIMEOUT is None
        or threading.current_thread() is not threading.main_thread()
        or signal.getsignal(SIG_SOFT_TIMEOUT) is not soft_timeout_sighandler
    ):
        yield reached
        return

    def raise_flag(signum: int, frame: FrameType | None) -> None:
        reached.set()

    signal.signal(SIG_SOFT_TIMEOUT, raise_flag)
    try:
        yield reached
    finally:
        signal.signal(SIG_SOFT_TIMEOUT, soft_timeout_sighandler)
