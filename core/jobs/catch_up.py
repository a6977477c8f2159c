"""Catch-up: a worker that starts after today's 08:00 check was missed runs it once.

Three guards keep it to once: today's successful (or live) run is looked up; the
right to enqueue is *claimed* by inserting a row under a unique key, the task id
``catch-up:check_task_deadlines:<day>`` in django-celery-results' table, so among
workers starting together exactly one insert wins; and the task itself skips when
today's run succeeded in the meantime. Under all three, the deadline engine's unique
key makes even a double run harmless.
"""

from __future__ import annotations

import datetime
import logging

from celery import current_app
from celery import states as celery_states
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_celery_results.models import TaskResult

from core.jobs import runs as jobs
from core.models import JobRun

logger = logging.getLogger(__name__)

CHECK_TASK_NAME = "core.tasks.check_task_deadlines"


def catch_up_task_id(day: datetime.date) -> str:
    return f"catch-up:{jobs.CHECK_TASK_DEADLINES}:{day.isoformat()}"


# Beat's own message may still wait in the queue just after the planned time.
GRACE = datetime.timedelta(minutes=10)


def missed_today(*, now: datetime.datetime) -> bool:
    """Whether today's planned check time has passed, by more than ``GRACE``
    (per the live beat entry)."""
    today = timezone.localdate(now)
    midnight = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    # "After" is exclusive: start just before midnight so a 00:00 entry counts.
    day_start = midnight - datetime.timedelta(seconds=1)
    planned = jobs.next_run(jobs.CHECK_TASK_DEADLINES, after=day_start)
    if planned is None:
        return False  # the administrator disabled the daily check
    return timezone.localdate(planned) == today and planned + GRACE <= now


def needs_catch_up(*, now: datetime.datetime) -> bool:
    today = timezone.localdate(now)
    if not missed_today(now=now):
        return False
    return not jobs.day_taken(jobs.CHECK_TASK_DEADLINES, today, now=now)


def claim(task_id: str) -> bool:
    """Insert-or-fail on the unique task id; a failed earlier catch-up is re-claimable."""
    try:
        with transaction.atomic():
            TaskResult.objects.create(
                task_id=task_id, task_name=CHECK_TASK_NAME, status=celery_states.PENDING
            )
        return True
    except IntegrityError:
        # Conditional UPDATE: of several workers, one changes the row, the others none.
        retaken = TaskResult.objects.filter(
            task_id=task_id, status__in=[celery_states.FAILURE, celery_states.REVOKED]
        ).update(status=celery_states.PENDING, date_done=timezone.now())
        return retaken == 1


def release(task_id: str) -> None:
    TaskResult.objects.filter(task_id=task_id, status=celery_states.PENDING).update(
        status=celery_states.FAILURE
    )


def enqueue_missed_deadline_check(*, now: datetime.datetime | None = None) -> str | None:
    """Enqueue today's check with trigger CATCH_UP if it was missed; return its task id."""
    now = now or timezone.now()
    if not needs_catch_up(now=now):
        return None
    today = timezone.localdate(now)
    task_id = catch_up_task_id(today)
    if not claim(task_id):
        return None
    try:
        # Through the registered task (not send_task) so eager mode is honoured.
        current_app.signature(
            CHECK_TASK_NAME,
            kwargs={"trigger": JobRun.Trigger.CATCH_UP.value, "today": today.isoformat()},
        ).apply_async(task_id=task_id)
    except Exception:
        release(task_id)  # the next worker start may try again
        raise
    logger.info("Daily deadline check missed for %s: catch-up %s queued", today, task_id)
    return task_id
