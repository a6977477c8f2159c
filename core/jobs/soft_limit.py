"""Celery's soft time limit as a flag a service polls, instead of an exception.

Celery's public hook for the soft limit is ``SoftTimeLimitExceeded``, raised
wherever the task happens to be: between an SMTP server's "250 OK" and the row's
bookkeeping, or inside an ``except Exception`` that takes it for an SMTP error and
carries on until the hard limit. No public hook tells a task to stop softly.

The workaround, in this module only: in a prefork child, billiard delivers the
soft limit as the signal ``SIG_SOFT_TIMEOUT`` (SIGUSR1), whose handler raises the
exception. For the task's duration, whatever handler is installed is set aside
for one that raises a flag, handed to the service (services never import Celery),
and put back after. ``tests/celery/test_soft_limit_signal.py`` pins that delivery.

Other pools enforce no soft limit (solo, threads) or have no such signal
(Windows): the flag then never rises. (In the solo pool, a SIGUSR1 sent by hand
during the sender's run stops it instead of dumping the worker's tracebacks.)
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from billiard.pool import SIG_SOFT_TIMEOUT


@contextmanager
def soft_limit_as_flag() -> Iterator[threading.Event]:
    """Yield an event set when the running task's soft time limit fires."""
    reached = threading.Event()
    installed = None if SIG_SOFT_TIMEOUT is None else signal.getsignal(SIG_SOFT_TIMEOUT)
    if not callable(installed) or threading.current_thread() is not threading.main_thread():
        yield reached
        return

    def raise_flag(signum: int, frame: FrameType | None) -> None:
        reached.set()

    assert SIG_SOFT_TIMEOUT is not None
    signal.signal(SIG_SOFT_TIMEOUT, raise_flag)
    try:
        yield reached
    finally:
        signal.signal(SIG_SOFT_TIMEOUT, installed)
