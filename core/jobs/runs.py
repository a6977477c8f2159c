"""Running a periodic job: the once-a-day claim, the run record, the JSON report.

``run_job`` is the one entry point, for the Celery tasks and the management
commands alike. Automatic triggers (beat, catch-up) of a daily job first claim the
business day (``JobDay``, a conditional UPDATE): a day done, or held by another
live task, is skipped. An operator's explicit run (command, "run now", a bare
``.delay()``) always runs: the services are idempotent. A successful run marks
its day done when that day was today as it started (a 23:58 run ending after
midnight marks its own day), or when it had claimed the day.

The day is the message's (fixed when beat or the catch-up sent it): a message
delayed past midnight runs for its own day and never takes the new day's place.
A today-only job (the summary) whose day is past by then is not run: it is
recorded as skipped, for the supervision page to show.
"""

from __future__ import annotations

import datetime
import logging
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.jobs.registry import PeriodicJob
from core.models import JobDay, JobRun

logger = logging.getLogger(__name__)

AUTOMATIC_TRIGGERS = (JobRun.Trigger.BEAT, JobRun.Trigger.CATCH_UP)
# The holder of a day keeps it this long after the hard time limit: past that,
# its worker is dead (the limit would have killed the task) and the day is free.
LEASE_MARGIN = datetime.timedelta(seconds=60)


class Reportable(Protocol):
    def as_dict(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=Reportable | dict[str, Any])


@dataclass
class JobOutcome(Generic[R]):
    """What a run of a job gave: the service's result, or nothing when skipped."""

    job: PeriodicJob
    trigger: str
    result: R | None = None
    past_day: datetime.date | None = None  # skipped: a today-only job's day is over

    @property
    def already_done(self) -> bool:
        return self.result is None

    def as_dict(self) -> dict[str, Any]:
        """The JSON a Celery task returns: the figures, status, job, trigger, time."""
        counts: dict[str, Any] = (
            {"already_done": True} if self.result is None else _counts(self.result)
        )
        if self.past_day is not None:
            counts = {"skipped": "past_day", "business_date": self.past_day.isoformat()}
        report = {"status": "success", "job": self.job.key, "trigger": self.trigger}
        return {**counts, **report, "timestamp": timezone.now().isoformat()}


def run_job(
    job: PeriodicJob,
    service: Callable[[], R],
    *,
    trigger: str,
    business_date: datetime.date | None = None,
    task_id: str = "",
) -> JobOutcome[R]:
    """Run ``service`` as ``job``: claimed if need be, recorded."""
    today = timezone.localdate()  # as the run starts: a run ending after midnight keeps it
    day = business_date or today
    claimed = job.daily and trigger in AUTOMATIC_TRIGGERS
    if claimed and day < today and not job.backfill:
        _record_skip(job, trigger=trigger, day=day, task_id=task_id)
        return JobOutcome(job, trigger, past_day=day)
    holder = task_id or uuid.uuid4().hex
    if claimed and not claim_day(job, day, task_id=holder):
        return JobOutcome(job, trigger)
    try:
        result = _recorded(job, service, trigger=trigger, day=day, task_id=task_id)
    except BaseException:
        if claimed:
            release_day(job, day, task_id=holder)
        raise
    if not _complete(result):
        # Stopped before the end (its soft time limit): the day stays to do, for
        # a retry or the catch-up to finish it.
        logger.warning("%s for %s stopped before the end: the catch-up finishes it.", job.key, day)
        if claimed:
            release_day(job, day, task_id=holder)
    elif job.daily and (claimed or day == today):
        mark_done(job, day)
    return JobOutcome(job, trigger, result)


def _complete(result: Reportable | dict[str, Any]) -> bool:
    return bool(_counts(result).get("complete", True))


def _record_skip(job: PeriodicJob, *, trigger: str, day: datetime.date, task_id: str) -> None:
    """A today-only job's message arrived after its day: nothing runs, the record says so."""
    logger.warning("%s for %s arrived after that day: skipped (today only).", job.key, day)
    now = timezone.now()
    JobRun.objects.create(
        job=job.key,
        trigger=trigger,
        business_date=day,
        status=JobRun.Status.SKIPPED,
        started_at=now,
        finished_at=now,
        task_id=task_id,
        hostname=socket.gethostname(),
    )


def _counts(result: Reportable | dict[str, Any]) -> dict[str, Any]:
    return result if isinstance(result, dict) else result.as_dict()


def _recorded(
    job: PeriodicJob, service: Callable[[], R], *, trigger: str, day: datetime.date, task_id: str
) -> R:
    """Run and record (``JobRun``): when, how long, the outcome, its figures.

    The record is written outside the service's transaction, so a failure is
    recorded too, then re-raised for the caller's retry policy. Unrecorded jobs
    (the per-minute sender) are recorded only when they did something.
    """
    run = JobRun(
        job=job.key,
        trigger=trigger,
        business_date=day,
        started_at=timezone.now(),
        task_id=task_id,
        hostname=socket.gethostname(),
    )
    if job.recorded:
        _close_abandoned_runs(job, now=run.started_at)
        run.save()
    try:
        result = service()
    except BaseException as exc:
        _finish(run, status=JobRun.Status.FAILURE, error=f"{type(exc).__name__}: {exc}")
        raise
    counts = _counts(result)
    if job.recorded or _did_something(counts):
        _finish(run, status=JobRun.Status.SUCCESS, counts=counts)
    return result


def _close_abandoned_runs(job: PeriodicJob, *, now: datetime.datetime) -> None:
    """A run still RUNNING past its lease was lost (worker killed, database gone
    mid-run, so it could not record its end): say so, rather than "running" forever."""
    JobRun.objects.filter(
        job=job.key, status=JobRun.Status.RUNNING, started_at__lt=now - lease()
    ).update(
        status=JobRun.Status.FAILURE,
        error=_("Interrupted: its worker stopped or lost the database before the end."),
    )


def _did_something(counts: dict[str, Any]) -> bool:
    return any(isinstance(v, int) and not isinstance(v, bool) and v for v in counts.values())


def _finish(
    run: JobRun, *, status: str, counts: dict[str, Any] | None = None, error: str = ""
) -> None:
    run.status = status
    run.finished_at = timezone.now()
    run.counts = counts or {}
    run.error = error[:4000]
    if run.pk is None:
        run.save()
    else:
        run.save(update_fields=["status", "finished_at", "counts", "error"])


# --- The day claim --------------------------------------------------------------


def lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) + LEASE_MARGIN


def day_row(job: PeriodicJob, day: datetime.date) -> QuerySet[JobDay]:
    """The day's row, created if missing (insert-or-ignore on the unique key)."""
    JobDay.objects.bulk_create([JobDay(job=job.key, business_date=day)], ignore_conflicts=True)
    return JobDay.objects.filter(job=job.key, business_date=day)


def free(*, now: datetime.datetime) -> Q:
    """Not done, and nobody alive holds it."""
    return Q(done_at__isnull=True) & (Q(lease_until__isnull=True) | Q(lease_until__lte=now))


def claim_day(
    job: PeriodicJob, day: datetime.date, *, task_id: str, now: datetime.datetime | None = None
) -> bool:
    """Take the day for ``task_id``: True for exactly one of concurrent claimants.

    A task redelivered after its worker died finds the day still held under its
    own id, and goes on.
    """
    now = now or timezone.now()
    own = Q(done_at__isnull=True, task_id=task_id)
    taken = (
        day_row(job, day)
        .filter(free(now=now) | own)
        .update(task_id=task_id, lease_until=now + lease())
    )
    return taken == 1


def release_day(job: PeriodicJob, day: datetime.date, *, task_id: str) -> None:
    """Give the day back after a failure, so a retry or the catch-up retakes it
    at once. With the database down the release fails too: the lease then ends
    on its own."""
    try:
        JobDay.objects.filter(
            job=job.key, business_date=day, task_id=task_id, done_at__isnull=True
        ).update(lease_until=None)
    except DatabaseError:
        logger.warning("Could not release %s for %s; its lease will expire.", job.key, day)


def day_done(job: PeriodicJob, day: datetime.date) -> bool:
    """Whether ``job`` has done ``day`` (a run that ended, not one under way)."""
    return JobDay.objects.filter(job=job.key, business_date=day, done_at__isnull=False).exists()


def mark_done(job: PeriodicJob, day: datetime.date) -> None:
    day_row(job, day).update(done_at=timezone.now(), lease_until=None)
