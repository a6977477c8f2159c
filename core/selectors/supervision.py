"""What an administrator needs to know about the periodic jobs, at a glance."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import Any

from celery import Celery
from django.db.models import Count, Q

from core.models import OutboundEmail
from core.selectors import health

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerStatus:
    answered: list[str]
    error: str = ""
    unsupported: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.answered)


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    failed: int


# Bookkeeping keys of a run's counts that say nothing to an operator.
_HIDDEN_COUNTS = {"date", "dry_run", "duration_s", "status"}


def summarize_counts(counts: dict[str, Any]) -> list[tuple[str, Any]]:
    """The scalar figures of a run (alerts created, emails queued, rows deleted...)."""
    return [
        (key, value)
        for key, value in counts.items()
        if key not in _HIDDEN_COUNTS and isinstance(value, int | float | str)
    ]


def job_statuses(*, now: datetime.datetime) -> list[health.JobStatus]:
    """Each periodic job with its recent runs (and their figures) and next planned run."""
    statuses = health.job_statuses(now=now)
    for status in statuses:
        for run in status.runs:
            run.summary = summarize_counts(run.counts)
    return statuses


def outbox_counts() -> OutboxCounts:
    """Pending (incl. being sent) and failed outgoing emails: one aggregate query."""
    counts = OutboundEmail.objects.aggregate(
        pending=Count(
            "id",
            filter=Q(status__in=[OutboundEmail.Status.PENDING, OutboundEmail.Status.SENDING]),
        ),
        failed=Count("id", filter=Q(status=OutboundEmail.Status.FAILED)),
    )
    return OutboxCounts(pending=counts["pending"], failed=counts["failed"])


def worker_status(*, app: Celery, timeout: float = 1.0) -> WorkerStatus:
    """Which workers answer a ping; never hangs the page when the broker is down.

    The connection is opened with a single, bounded attempt: the default retry
    policy would otherwise keep the request waiting for minutes.
    """
    try:
        with app.connection_for_write() as connection:
            if "fanout" not in connection.transport.implements.exchange_type:
                # Broadcast needs fanout: the embedded SQLAlchemy broker cannot ping.
                return WorkerStatus(answered=[], unsupported=True)
            connection.ensure_connection(max_retries=0, timeout=timeout)
            replies = app.control.ping(timeout=timeout, connection=connection) or []
    except Exception as exc:  # any broker or transport failure means "no answer"
        logger.info("Worker ping failed: %s", exc)
        return WorkerStatus(answered=[], error=f"{type(exc).__name__}: {exc}")
    return WorkerStatus(answered=sorted(name for reply in replies for name in reply))
