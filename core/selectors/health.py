"""Health of the periodic jobs: what the supervision page and ``check_health`` show.

Reads only: each declared job (``core.jobs.registry``) with its recent runs, its
next planned run from the live beat row, and whether an administrator changed
that row; and whether the daily check succeeded recently enough.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Window
from django.db.models.functions import RowNumber
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django_celery_beat.models import PeriodicTask

from core.jobs import registry, schedules
from core.jobs.beat_rows import is_modified, stored_fingerprints
from core.jobs.registry import PeriodicJob
from core.models import JobRun

RECENT_RUNS = 10


@dataclass
class JobStatus:
    job: PeriodicJob
    runs: list[JobRun] = field(default_factory=list)  # newest first
    next_run: datetime.datetime | None = None
    enabled: bool = True
    from_database: bool = False  # False: beat has not stored its row yet
    modified: bool = False  # an administrator changed the row: the code's default no longer applies

    @property
    def key(self) -> str:
        return self.job.key

    @property
    def beat_name(self) -> str:
        return self.job.beat_name

    @property
    def label(self) -> str:
        return str(self.job.label)

    @property
    def last_run(self) -> JobRun | None:
        return self.runs[0] if self.runs else None


@dataclass(frozen=True)
class HealthReport:
    ok: bool
    message: str
    last_success_at: datetime.datetime | None


def recent_runs(*, jobs: Iterable[str], per_job: int = RECENT_RUNS) -> dict[str, list[JobRun]]:
    """The last ``per_job`` runs of each job, newest first, in one windowed query."""
    names = list(jobs)
    ranked = (
        JobRun.objects.filter(job__in=names)
        .annotate(rank=Window(RowNumber(), partition_by="job", order_by="-started_at"))
        .filter(rank__lte=per_job)
        .order_by("job", "-started_at")
    )
    runs: dict[str, list[JobRun]] = {job: [] for job in names}
    for run in ranked:
        runs[run.job].append(run)
    return runs


def job_statuses(
    *, now: datetime.datetime | None = None, only: Iterable[PeriodicJob] | None = None
) -> list[JobStatus]:
    """Each periodic job (or those in ``only``) with its recent runs and next planned
    run, from the administrator's beat row, else the code's default: three queries."""
    now = now or timezone.now()
    jobs = list(registry.JOBS if only is None else only)
    runs = recent_runs(jobs=[job.key for job in jobs])
    names = [job.beat_name for job in jobs]
    rows = {
        row.name: row
        for row in PeriodicTask.objects.filter(name__in=names).select_related(
            "crontab", "interval", "solar", "clocked"
        )
    }
    fingerprints = stored_fingerprints(names)
    return [
        _status(job, runs=runs[job.key], row=rows.get(job.beat_name), now=now, stored=fingerprints)
        for job in jobs
    ]


def _status(
    job: PeriodicJob,
    *,
    runs: list[JobRun],
    row: PeriodicTask | None,
    now: datetime.datetime,
    stored: dict[str, str],
) -> JobStatus:
    status = JobStatus(job=job, runs=runs)
    if row is not None:
        status.from_database = True
        status.enabled = row.enabled
        status.modified = is_modified(row, stored)
    status.next_run = schedules.next_fire(schedules.schedule_of(job, row=row), after=now)
    return status


def last_success(job: PeriodicJob, *, today: datetime.date) -> JobRun | None:
    """The success for the latest business day up to ``today`` (the latest run
    among several for that day). A run started now for another day, a backfill
    of last week (``--date``), says nothing about today's check."""
    return (
        JobRun.objects.filter(job=job.key, status=JobRun.Status.SUCCESS, business_date__lte=today)
        .order_by("-business_date", "-started_at")
        .first()
    )


def daily_check_health(
    *, now: datetime.datetime | None = None, max_age_hours: int | None = None
) -> HealthReport:
    """Healthy when the deadline check succeeded within ``HEALTH_MAX_AGE_HOURS``,
    for today or yesterday (Europe/Paris)."""
    now = now or timezone.now()
    max_age = settings.HEALTH_MAX_AGE_HOURS if max_age_hours is None else max_age_hours
    today = timezone.localdate(now)
    last = last_success(registry.CHECK_TASK_DEADLINES, today=today)
    if last is None:
        return HealthReport(False, _("The daily deadline check has never succeeded."), None)
    finished = last.finished_at or last.started_at
    when = formats.date_format(timezone.localtime(finished), "DATETIME_FORMAT")
    recent_day = last.business_date >= today - datetime.timedelta(days=1)
    if now - finished > datetime.timedelta(hours=max_age) or not recent_day:
        message = _(
            "The daily deadline check has not succeeded for more than %(hours)d hours "
            "(last success: %(when)s)."
        ) % {"hours": max_age, "when": when}
        return HealthReport(False, message, finished)
    message = _("The daily deadline check last succeeded on %(when)s.") % {"when": when}
    return HealthReport(True, message, finished)
