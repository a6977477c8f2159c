"""Celery worker signals: a starting worker catches up the day's missed jobs."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_ready

from core.jobs.catch_up import enqueue_missed_jobs
from core.jobs.errors import first_line

logger = logging.getLogger(__name__)


@worker_ready.connect(dispatch_uid="core.jobs.worker_signals.catch_up")
def catch_up_at_start(**_kwargs: Any) -> None:
    try:
        enqueue_missed_jobs()
    except Exception as exc:
        # A worker must start even when the database or broker is unreachable:
        # the periodic catch-up tries again within ten minutes.
        logger.warning("Catch-up at worker start failed, retried by beat: %s", first_line(exc))
