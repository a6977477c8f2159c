"""What an administrator needs to know about the periodic jobs, at a glance."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

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


def job_statuses(*, now: datetime.datetime) -> list[health.JobStatus]:
    """Each periodic job with its recent runs and next planned run."""
    return health.job_statuses(now=now)


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


def worker_status(*, app: Celery, timeout: int = 1) -> WorkerStatus:
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
