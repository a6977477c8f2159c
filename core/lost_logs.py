"""Log records this process could not write (a full or read-only ``LOG_DIR``).

Python's logging calls ``Handler.handleError`` for each record a handler fails to
write, and the stock one prints a traceback to stderr every time: on a full disk,
one per log line. The project's file handler (``si_gouvernance.logging``) reports
here instead: one line on stderr for the first failure of each file, then a count.
Health reads it (a warning, not a failure: pages and jobs go on without logs).
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import sys
import threading
from dataclasses import dataclass

from django.utils import timezone


@dataclass
class LostLogs:
    path: str
    reason: str  # an errno name ("ENOSPC") or an exception class name: no path, no text
    first_at: datetime.datetime
    last_at: datetime.datetime
    count: int = 1


_lost: dict[str, LostLogs] = {}
_lock = threading.Lock()


def record_failure(*, path: str, error: BaseException | None) -> None:
    """Note one record lost for ``path``; the first one only says so on stderr."""
    now = timezone.now()
    described = f"{type(error).__name__}: {error}" if error else "unknown error"
    with _lock:
        known = _lost.get(path)
        if known is not None:
            known.count += 1
            known.last_at, known.reason = now, _reason(error)
            return
        _lost[path] = LostLogs(path, _reason(error), now, now)
    with contextlib.suppress(OSError, ValueError):  # stderr closed or full too
        sys.stderr.write(
            f"Logging to {path} failed ({described}); the next failures are counted, not printed.\n"
        )


def _reason(error: BaseException | None) -> str:
    code = getattr(error, "errno", None)
    if isinstance(code, int) and code in errno.errorcode:
        return errno.errorcode[code]
    return type(error).__name__ if error else "unknown"


def lost_since(moment: datetime.datetime) -> list[LostLogs]:
    """The files that lost records after ``moment``, in this process."""
    with _lock:
        return [
            LostLogs(lost.path, lost.reason, lost.first_at, lost.last_at, lost.count)
            for lost in _lost.values()
            if lost.last_at >= moment
        ]


def forget() -> None:
    """For the tests: a clean slate."""
    with _lock:
        _lost.clear()
