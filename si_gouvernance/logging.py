"""Log handlers: process-safe rotation that creates its directory when it opens."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from concurrent_log_handler import ConcurrentRotatingFileHandler

from core import lost_logs


class RotatingFileHandler(ConcurrentRotatingFileHandler):
    """Web, worker and beat may share a file: rotation must be process-safe (and
    work on Windows, where renaming an open file is an error). ``LOG_DIR`` is
    created here, when logging is configured, not when settings are read.

    A record that cannot be written (a full disk) is counted in ``core.lost_logs``,
    which health reads: one line on stderr, not a traceback per record."""

    def __init__(self, filename: str, *args: Any, **kwargs: Any) -> None:
        Path(filename).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(filename, *args, **kwargs)

    def handleError(self, record: logging.LogRecord) -> None:
        lost_logs.record_failure(path=self.baseFilename, error=sys.exc_info()[1])
