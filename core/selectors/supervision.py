"""What an administrator needs to know about the periodic jobs, at a glance."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from celery import Celery
from django.db.models import Count, Q
from django.urls import reverse
from django_celery_results.models import TaskResult

from core.models import JobRun, OutboundEmail
from core.selectors import health

if TYPE_CHECKING:
    from core.jobs.registry import PeriodicJob

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


@dataclass(frozen=True)
class Figure:
    label: str
    value: Any


@dataclass(frozen=True)
class RunRow:
    """A run as the supervision page shows it: its figures and its task result."""

    run: JobRun
    figures: list[Figure]
    result_url: str  # the Celery task result in the admin, "" when there is none


@dataclass(frozen=True)
class JobPanel:
    status: health.JobStatus
    rows: list[RunRow]


def summarize_counts(job: PeriodicJob, counts: dict[str, Any]) -> list[Figure]:
    """The figures ``job`` declares (alerts created, emails queued, rows deleted...)
    found in a run's counts, with their labels; a list or a breakdown is shown by
    its size or total."""
    figures = []
    for key, label in job.figures.items():
        value = counts.get(key)
        if isinstance(value, list):
            value = len(value)
        elif isinstance(value, dict):
            value = sum(v for v in value.values() if isinstance(v, int))
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            continue
        figures.append(Figure(label=str(label), value=value))
    return figures


def job_panels(*, now: datetime.datetime) -> list[JobPanel]:
    """Each periodic job with its recent runs (figures, task result) and next run."""
    statuses = health.job_statuses(now=now)
    task_ids = {run.task_id for status in statuses for run in status.runs if run.task_id}
    results = dict(
        TaskResult.objects.filter(task_id__in=task_ids).values_list("task_id", "pk")
        if task_ids
        else []
    )
    return [
        JobPanel(
            status=status,
            rows=[
                RunRow(
                    run=run,
                    figures=summarize_counts(status.job, run.counts),
                    result_url=_result_url(results.get(run.task_id)),
                )
                for run in status.runs
            ],
        )
        for status in statuses
    ]


def _result_url(result_pk: int | None) -> str:
    if result_pk is None:
        return ""
    return reverse("admin:django_celery_results_taskresult_change", args=[result_pk])


def task_result_url(task_id: str) -> str:
    """Where an administrator finds a queued task's result (the admin's search)."""
    changelist = reverse("admin:django_celery_results_taskresult_changelist")
    return f"{changelist}?{urlencode({'q': task_id})}"


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
