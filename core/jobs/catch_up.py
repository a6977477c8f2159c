"""Catch-up: a daily job whose planned time passed without a success runs today.

Whatever failed where: beat down at 08:00, the broker down when beat fired or
restarted empty with the message inside, the database down until the retries ran
out, or down before the task body even started (the result backend's write),
a worker killed mid-run. Every ten minutes (beat) and at each worker start, each
daily job planned today, more than CATCH_UP_GRACE_MINUTES ago, whose day is neither done nor
held by a live task, is queued again with the trigger ``CATCH_UP``.

Queuing is claimed on the day's row (``JobDay.queued_at``, conditional UPDATE):
workers starting together queue it once, and a message lost since is queued
again by the next catch-up. Running is claimed too (``core.jobs.runs``), so even
two copies of the message run the job once.
"""

from __future__ import annotations

import datetime
import logging

from celery import current_app
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from core.jobs import registry, runs, schedules
from core.jobs.registry import PeriodicJob
from core.models import JobRun

logger = logging.getLogger(__name__)

# A day queued by a catch-up and still not taken this long after is queued again
# (its message was lost); below the catch-up's period, so each tick may resend.
REQUEUE_AFTER = datetime.timedelta(minutes=9)


def grace() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.CATCH_UP_GRACE_MINUTES)


def missed_jobs(*, now: datetime.datetime) -> list[PeriodicJob]:
    """Daily jobs planned today, more than ``grace()`` ago (per their live beat row)."""
    missed = []
    for job in registry.daily_jobs():
        planned = schedules.planned_today(job, now=now)
        if planned is not None and planned + grace() <= now:
            missed.append(job)
    return missed


def claim_queueing(job: PeriodicJob, *, now: datetime.datetime) -> bool:
    """The right to queue today's run of ``job``: the day is free, and nobody
    queued it within ``REQUEUE_AFTER``."""
    not_recent = Q(queued_at__isnull=True) | Q(queued_at__lte=now - REQUEUE_AFTER)
    day = timezone.localdate(now)
    return runs.day_row(job, day).filter(runs.free(now=now), not_recent).update(queued_at=now) == 1


def enqueue_missed_jobs(*, now: datetime.datetime | None = None) -> list[str]:
    """Queue each missed daily job once, through the task its row names; return
    the keys queued."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    queued = []
    for job in missed_jobs(now=now):
        if not claim_queueing(job, now=now):
            continue
        kwargs = {"trigger": JobRun.Trigger.CATCH_UP.value, "today": today.isoformat()}
        try:
            current_app.signature(job.task).apply_async(kwargs=kwargs)
        except Exception:
            # Broker down: give the right back, the next catch-up tries again.
            runs.day_row(job, today).filter(queued_at=now).update(queued_at=None)
            raise
        logger.info("%s missed for %s: catch-up queued", job.key, today)
        queued.append(job.key)
    return queued
