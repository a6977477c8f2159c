"""Health of the periodic jobs: what the supervision page and ``check_health`` show."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from core.models import JobRun
from core.services import jobs


@dataclass(frozen=True)
class JobStatus:
    job: str
    last_run: JobRun | None
    last_success: JobRun | None
    next_run: datetime.datetime | None


@dataclass(frozen=True)
class HealthReport:
    ok: bool
    message: str
    last_success_at: datetime.datetime | None


def job_status(job: str, *, now: datetime.datetime | None = None) -> JobStatus:
    """Last run, last success and next planned run (from the live beat entry)."""
    now = now or timezone.now()
    return JobStatus(
        job=job,
        last_run=JobRun.objects.filter(job=job).order_by("-started_at").first(),
        last_success=jobs.last_success(job),
        next_run=jobs.next_run(job, after=now),
    )


def all_job_statuses(*, now: datetime.datetime | None = None) -> list[JobStatus]:
    return [job_status(job, now=now) for job in jobs.BEAT_ENTRIES]


def daily_check_health(
    *, now: datetime.datetime | None = None, max_age_hours: int | None = None
) -> HealthReport:
    """Healthy when the deadline check succeeded within ``HEALTH_MAX_AGE_HOURS``."""
    now = now or timezone.now()
    max_age = max_age_hours or settings.HEALTH_MAX_AGE_HOURS
    last = jobs.last_success(jobs.CHECK_TASK_DEADLINES)
    if last is None:
        return HealthReport(False, _("The daily deadline check has never succeeded."), None)
    finished = last.finished_at or last.started_at
    when = formats.date_format(timezone.localtime(finished), "DATETIME_FORMAT")
    if now - finished > datetime.timedelta(hours=max_age):
        message = _(
            "The daily deadline check has not succeeded for more than %(hours)d hours "
            "(last success: %(when)s)."
        ) % {"hours": max_age, "when": when}
        return HealthReport(False, message, finished)
    message = _("The daily deadline check last succeeded on %(when)s.") % {"when": when}
    return HealthReport(True, message, finished)
