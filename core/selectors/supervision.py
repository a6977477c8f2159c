"""What an administrator needs to know about the periodic jobs, at a glance."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from typing import Any

from celery import Celery
from django.conf import settings
from django.db.models import Count, Q, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext_lazy as _
from django_celery_beat.models import PeriodicTask

from core.models import JobRun, OutboundEmail

logger = logging.getLogger(__name__)

RECENT_RUNS = 10

JOB_LABELS = {
    "check_task_deadlines": _("Daily deadline check"),
    "cleanup_old_notifications": _("Cleanup of old notifications"),
    "send_daily_summary": _("Daily summary to project leads"),
    "send_pending_emails": _("Sending of outgoing emails"),
}


@dataclass
class JobStatus:
    job: str  # JobRun.job, e.g. "check_task_deadlines"
    beat_name: str  # the beat entry, e.g. "check-task-deadlines-daily"
    runs: list[JobRun] = field(default_factory=list)
    next_run: datetime.datetime | None = None
    enabled: bool = True
    from_database: bool = False  # False: read from settings, beat has not stored it yet

    @property
    def label(self) -> str:
        return str(JOB_LABELS.get(self.job, self.job))


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


def beat_jobs() -> dict[str, str]:
    """Beat entry name per job name, from the declared schedule (one source of truth)."""
    return {
        entry["task"].rsplit(".", 1)[-1]: name
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
    }


def recent_runs(*, jobs: list[str], per_job: int = RECENT_RUNS) -> dict[str, list[JobRun]]:
    """The last ``per_job`` runs of each job, in one windowed query."""
    ranked = (
        JobRun.objects.filter(job__in=jobs)
        .annotate(rank=Window(RowNumber(), partition_by="job", order_by="-started_at"))
        .filter(rank__lte=per_job)
        .order_by("job", "-started_at")
    )
    runs: dict[str, list[JobRun]] = {job: [] for job in jobs}
    for run in ranked:
        run.summary = summarize_counts(run.counts)
        runs[run.job].append(run)
    return runs


# Bookkeeping keys of a run's counts that say nothing to an operator.
_HIDDEN_COUNTS = {"date", "dry_run", "duration_s", "status"}


def summarize_counts(counts: dict[str, Any]) -> list[tuple[str, Any]]:
    """The scalar figures of a run (alerts created, emails queued, rows deleted...)."""
    return [
        (key, value)
        for key, value in counts.items()
        if key not in _HIDDEN_COUNTS and isinstance(value, int | float | str)
    ]


def _next_run(schedule: Any, *, now: datetime.datetime) -> datetime.datetime | None:
    try:
        if hasattr(schedule, "remaining_delta"):
            # Crontab: the exact next minute (now + estimate would drift by the
            # milliseconds between our clock read and the schedule's own).
            start, delta, _now = schedule.remaining_delta(now)
            return start + delta
        return now + schedule.remaining_estimate(now)
    except (AttributeError, TypeError, ValueError):
        # A schedule kind without an estimate (e.g. a clocked task already run).
        return None


def job_statuses(*, now: datetime.datetime) -> list[JobStatus]:
    """Each periodic job with its recent runs and next planned run (two queries)."""
    jobs = beat_jobs()
    runs = recent_runs(jobs=list(jobs))
    stored = {
        task.name: task
        for task in PeriodicTask.objects.filter(name__in=jobs.values()).select_related(
            "crontab", "interval", "solar", "clocked"
        )
    }
    statuses = []
    for job, beat_name in jobs.items():
        status = JobStatus(job=job, beat_name=beat_name, runs=runs[job])
        periodic = stored.get(beat_name)
        if periodic is not None:
            status.from_database = True
            status.enabled = periodic.enabled
            status.next_run = _next_run(periodic.schedule, now=now) if periodic.enabled else None
        else:
            schedule = settings.CELERY_BEAT_SCHEDULE[beat_name]["schedule"]
            status.next_run = _next_run(schedule, now=now)
        statuses.append(status)
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
