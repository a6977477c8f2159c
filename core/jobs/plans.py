"""What beat plans for each declared job: its next run, from the administrator's beat
row (else the code's default), and whether an administrator edited that row.

The job runner's half of a job's status on the supervision page:
``core.selectors.health.job_statuses`` takes these plans as an argument, so that
selectors read neither beat's tables nor ``core.jobs``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django_celery_beat.models import PeriodicTask

from core.jobs import beat_rows, schedules
from core.jobs.registry import PeriodicJob
from core.selectors.health import Plan


def job_plans(jobs: Iterable[PeriodicJob], *, now: datetime.datetime) -> dict[str, Plan]:
    """Each job's plan by job key: two queries."""
    jobs = list(jobs)
    names = [job.beat_name for job in jobs]
    rows = {
        row.name: row
        for row in PeriodicTask.objects.filter(name__in=names).select_related(
            "crontab", "interval", "solar", "clocked"
        )
    }
    stored = beat_rows.stored_fingerprints(names)
    return {job.key: _plan(job, rows.get(job.beat_name), now=now, stored=stored) for job in jobs}


def _plan(
    job: PeriodicJob, row: PeriodicTask | None, *, now: datetime.datetime, stored: dict[str, str]
) -> Plan:
    next_run = schedules.next_fire(schedules.schedule_of(job, row=row), after=now)
    if row is None:
        return Plan(next_run=next_run)
    modified = beat_rows.is_modified(row, stored)
    return Plan(next_run, enabled=row.enabled, from_database=True, modified=modified)
