"""When a periodic job runs: the administrator's beat row, else the code's default."""

from __future__ import annotations

import datetime
from typing import Any

from celery.schedules import BaseSchedule, crontab, maybe_schedule
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from core.jobs.registry import PeriodicJob


def live_schedule(job: PeriodicJob) -> BaseSchedule | None:
    """The schedule beat follows for ``job`` (one query)."""
    return schedule_of(job, row=PeriodicTask.objects.filter(name=job.beat_name).first())


def schedule_of(job: PeriodicJob, *, row: PeriodicTask | None) -> BaseSchedule | None:
    """``job``'s schedule given its beat row: the row's, the code's default while
    beat has not stored it, ``None`` when an administrator disabled it."""
    if row is None:
        return job.schedule
    return row.schedule if row.enabled else None


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


def planned_today(job: PeriodicJob, *, now: datetime.datetime) -> datetime.datetime | None:
    """The first time ``job`` is planned on ``now``'s business day, if any."""
    today = timezone.localdate(now)
    midnight = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    # "After" is exclusive: start just before midnight so a 00:00 entry counts.
    planned = next_fire(live_schedule(job), after=midnight - datetime.timedelta(seconds=1))
    if planned is None or timezone.localdate(planned) != today:
        return None
    return planned
