"""Health of the periodic jobs: what the supervision page and ``check_health`` show.

The one place that knows which beat entry triggers which job, when each runs next
and which successes count; the supervision selector and the command build on it.
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
from django.utils.translation import gettext_lazy
from django_celery_beat.models import PeriodicTask

from core.jobs import runs as jobs
from core.models import JobRun

RECENT_RUNS = 10

JOB_LABELS = {
    jobs.CHECK_TASK_DEADLINES: gettext_lazy("Daily deadline check"),
    jobs.CLEANUP_OLD_NOTIFICATIONS: gettext_lazy("Cleanup of old notifications"),
    jobs.SEND_DAILY_SUMMARY: gettext_lazy("Daily summary to project leads"),
    "send_pending_emails": gettext_lazy("Sending of outgoing emails"),
    "catch_up_missed_deadline_check": gettext_lazy("Catch-up of a missed deadline check"),
}


@dataclass
class JobStatus:
    job: str  # JobRun.job, e.g. "check_task_deadlines"
    beat_name: str  # the beat entry, e.g. "check-task-deadlines-daily"
    runs: list[JobRun] = field(default_factory=list)  # newest first
    next_run: datetime.datetime | None = None
    enabled: bool = True
    from_database: bool = False  # False: read from settings, beat has not stored it yet

    @property
    def label(self) -> str:
        return str(JOB_LABELS.get(self.job, self.job))

    @property
    def last_run(self) -> JobRun | None:
        return self.runs[0] if self.runs else None

    @property
    def last_success(self) -> JobRun | None:
        """The newest recent success for its own day (a run for a future date is not)."""
        return next(
            (
                run
                for run in self.runs
                if run.status == JobRun.Status.SUCCESS
                and run.business_date <= timezone.localdate(run.started_at)
            ),
            None,
        )


@dataclass(frozen=True)
class HealthReport:
    ok: bool
    message: str
    last_success_at: datetime.datetime | None


def beat_entries() -> dict[str, str]:
    """Beat entry name per job, for every entry of ``CELERY_BEAT_SCHEDULE``.

    The recorded jobs keep the entries ``jobs.BEAT_ENTRIES`` names; any other
    declared entry (the outbox sweep) is keyed by its task's name, as JobRun is.
    """
    entries = dict(jobs.BEAT_ENTRIES)
    named = set(entries.values())
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        if name not in named:
            entries[str(entry["task"]).rsplit(".", 1)[-1]] = name
    return entries


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
    *, now: datetime.datetime | None = None, only: Iterable[str] | None = None
) -> list[JobStatus]:
    """Each periodic job (or those in ``only``) with its recent runs and next planned
    run, from the administrator's beat row, else the declared entry: two queries."""
    now = now or timezone.now()
    entries = beat_entries()
    if only is not None:
        entries = {job: entries[job] for job in only}
    runs = recent_runs(jobs=entries)
    stored = {
        task.name: task
        for task in PeriodicTask.objects.filter(name__in=entries.values()).select_related(
            "crontab", "interval", "solar", "clocked"
        )
    }
    return [
        _status(job, beat_name, runs=runs[job], row=stored.get(beat_name), now=now)
        for job, beat_name in entries.items()
    ]


def _status(
    job: str,
    beat_name: str,
    *,
    runs: list[JobRun],
    row: PeriodicTask | None,
    now: datetime.datetime,
) -> JobStatus:
    status = JobStatus(job=job, beat_name=beat_name, runs=runs)
    if row is None:
        schedule = settings.CELERY_BEAT_SCHEDULE[beat_name]["schedule"]
        status.next_run = jobs.next_fire(schedule, after=now)
        return status
    status.from_database = True
    status.enabled = row.enabled
    status.next_run = jobs.next_fire(row.schedule, after=now) if row.enabled else None
    return status


def job_status(job: str, *, now: datetime.datetime | None = None) -> JobStatus:
    """One job's recent runs and next planned run."""
    return job_statuses(now=now, only=[job])[0]


def last_success(job: str, *, today: datetime.date) -> JobRun | None:
    """The newest success for ``today`` or before: a run recorded now for a future
    business day (``--date 2027-01-01``) says nothing about today's check."""
    return (
        JobRun.objects.filter(job=job, status=JobRun.Status.SUCCESS, business_date__lte=today)
        .order_by("-started_at")
        .first()
    )


def daily_check_health(
    *, now: datetime.datetime | None = None, max_age_hours: int | None = None
) -> HealthReport:
    """Healthy when the deadline check succeeded within ``HEALTH_MAX_AGE_HOURS``,
    for today or yesterday (Europe/Paris)."""
    now = now or timezone.now()
    max_age = max_age_hours or settings.HEALTH_MAX_AGE_HOURS
    today = timezone.localdate(now)
    last = last_success(jobs.CHECK_TASK_DEADLINES, today=today)
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
