"""Records of the periodic jobs' runs (supervision page, health check, catch-up)."""

from __future__ import annotations

import datetime
import socket
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from celery.schedules import BaseSchedule, crontab, maybe_schedule
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from core.models import JobRun

CHECK_TASK_DEADLINES = "check_task_deadlines"
CLEANUP_OLD_NOTIFICATIONS = "cleanup_old_notifications"
SEND_DAILY_SUMMARY = "send_daily_summary"

# The beat entry (settings.CELERY_BEAT_SCHEDULE, then django-celery-beat's table)
# that triggers each job.
BEAT_ENTRIES = {
    CHECK_TASK_DEADLINES: "check-task-deadlines-daily",
    CLEANUP_OLD_NOTIFICATIONS: "cleanup-old-notifications",
    SEND_DAILY_SUMMARY: "send-daily-summary",
}


AUTOMATIC_TRIGGERS = (JobRun.Trigger.BEAT, JobRun.Trigger.CATCH_UP)


class _Reportable(Protocol):
    def as_dict(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=_Reportable | dict[str, Any])


def run_recorded(
    job: str,
    service: Callable[[], R],
    *,
    trigger: str,
    business_date: datetime.date | None = None,
    task_id: str = "",
) -> R:
    """Run ``service`` and record when, how long, the outcome and its counts.

    The record is written outside the service's transaction, so a failure is
    recorded too (then re-raised for the caller's retry policy).
    """
    run = JobRun.objects.create(
        job=job,
        trigger=trigger,
        business_date=business_date or timezone.localdate(),
        started_at=timezone.now(),
        task_id=task_id or "",
        hostname=socket.gethostname(),
    )
    try:
        result = service()
    except BaseException as exc:
        _finish(run, status=JobRun.Status.FAILURE, error=f"{type(exc).__name__}: {exc}")
        raise
    counts = result if isinstance(result, dict) else result.as_dict()
    _finish(run, status=JobRun.Status.SUCCESS, counts=counts)
    return result


def _finish(
    run: JobRun, *, status: str, counts: dict[str, Any] | None = None, error: str = ""
) -> None:
    run.status = status
    run.finished_at = timezone.now()
    run.counts = counts or {}
    run.error = error
    run.save(update_fields=["status", "finished_at", "counts", "error"])


def succeeded_on(job: str, business_date: datetime.date) -> bool:
    """Whether ``job`` already succeeded for ``business_date`` (any trigger)."""
    return JobRun.objects.filter(
        job=job, business_date=business_date, status=JobRun.Status.SUCCESS
    ).exists()


def running_since(
    job: str, business_date: datetime.date, *, now: datetime.datetime, other_than: str = ""
) -> bool:
    """Whether a run of ``job`` for that day started recently enough to be alive.

    A run older than the hard time limit was killed with its worker; it does not
    count, so a catch-up may replace it. Nor does the run of task ``other_than``: a
    redelivered task finding its own dead attempt must go on.
    """
    horizon = now - datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    alive = JobRun.objects.filter(
        job=job,
        business_date=business_date,
        status=JobRun.Status.RUNNING,
        started_at__gte=horizon,
    )
    if other_than:
        alive = alive.exclude(task_id=other_than)
    return alive.exists()


def day_taken(
    job: str, business_date: datetime.date, *, now: datetime.datetime, other_than: str = ""
) -> bool:
    """Whether ``job``'s run for that day is done, or under way in a live task
    other than ``other_than``: an automatic trigger then has nothing to do."""
    return succeeded_on(job, business_date) or running_since(
        job, business_date, now=now, other_than=other_than
    )


def beat_schedule(job: str) -> BaseSchedule | None:
    """The schedule beat follows for ``job``: the admin's row, else the code's entry.

    ``None`` when an administrator disabled the entry (the job is not planned).
    """
    name = BEAT_ENTRIES[job]
    row = PeriodicTask.objects.filter(name=name).first()
    if row is not None:
        return row.schedule if row.enabled else None
    entry: dict[str, Any] | None = settings.CELERY_BEAT_SCHEDULE.get(name)
    if entry is None:
        return None
    declared = maybe_schedule(entry["schedule"])
    return declared if isinstance(declared, BaseSchedule) else None


def next_run(job: str, *, after: datetime.datetime) -> datetime.datetime | None:
    """The first time strictly after ``after`` at which beat will trigger ``job``."""
    return next_fire(beat_schedule(job), after=after)


def next_fire(schedule: Any, *, after: datetime.datetime) -> datetime.datetime | None:
    """The first time strictly after ``after`` at which ``schedule`` fires."""
    schedule = maybe_schedule(schedule)
    if not isinstance(schedule, BaseSchedule):
        return None
    try:
        if isinstance(schedule, crontab):
            # The exact next minute: now + estimate would drift by the milliseconds
            # between our clock read and the schedule's own.
            start, delta, _now = schedule.remaining_delta(after)
            fire: datetime.datetime = start + delta
            return fire
        # An interval (or solar, clocked) entry set in the admin: its own estimate.
        return after + schedule.remaining_estimate(after)
    except (AttributeError, TypeError, ValueError):
        # A schedule kind without an estimate (e.g. a clocked task already run).
        return None


def parse_trigger(value: str) -> str:
    """A JobRun trigger from a task argument, or ``ValueError`` naming the choices."""
    if value not in JobRun.Trigger.values:
        choices = ", ".join(JobRun.Trigger.values)
        raise ValueError(f"trigger must be one of {choices}, got {value!r}")
    return value


def parse_day(value: str | None) -> datetime.date | None:
    """An ISO date from a task argument (JSON carries dates as strings)."""
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}") from None


def run_job(
    job: str,
    service: Callable[[], _Reportable | dict[str, Any]],
    *,
    trigger: str,
    business_date: datetime.date | None = None,
    task_id: str = "",
) -> dict[str, Any]:
    """Run a periodic job as a task does: recorded, reported as a JSON dict.

    The automatic triggers (beat, catch-up) run a job once a day: one finding the
    day already done, or being done by another live task, skips. An operator's
    explicit run (manual, command) always runs; the services are idempotent.
    """
    day = business_date or timezone.localdate()
    report: dict[str, Any] = {"status": "success", "job": job, "trigger": trigger}
    if trigger in AUTOMATIC_TRIGGERS and day_taken(
        job, day, now=timezone.now(), other_than=task_id
    ):
        return {**report, "already_done": True, "timestamp": timezone.now().isoformat()}
    result = run_recorded(job, service, trigger=trigger, business_date=day, task_id=task_id)
    counts = result if isinstance(result, dict) else result.as_dict()
    return {**counts, **report, "timestamp": timezone.now().isoformat()}
