"""Celery tasks: a table of contents. Each task names its service, its retry
policy and its time limits, takes JSON arguments, and holds no business logic.
"""

from __future__ import annotations

import datetime
from typing import Any

from celery import shared_task
from django.db import DatabaseError, InterfaceError
from kombu.exceptions import OperationalError as BrokerError

from core.jobs import runs as jobs
from core.jobs.catch_up import enqueue_missed_deadline_check
from core.jobs.soft_limit import soft_limit_as_flag
from core.models import JobRun, User
from core.services.cleanup import cleanup_old_notifications as cleanup_service
from core.services.cleanup import validate_days
from core.services.daily_check import run_deadline_check
from core.services.notifications import mark_all_read
from core.services.outbox import send_pending
from core.services.summary import send_daily_summary as summary_service

# --- Periodic jobs (issue 3) ----------------------------------------------------
# Retried 3 times, 5 minutes apart, on database or broker errors (a restart, a
# failover); anything else (bad arguments, a bug) fails at once and visibly.
# Time limits: CELERY_TASK_SOFT_TIME_LIMIT / CELERY_TASK_TIME_LIMIT (settings).
RETRY_DELAY_S = 300
PERIODIC_JOB: dict[str, Any] = {
    "bind": True,
    "autoretry_for": (DatabaseError, InterfaceError, BrokerError),
    "max_retries": 3,
    "default_retry_delay": RETRY_DELAY_S,
    "retry_backoff": False,
    "retry_jitter": False,
}


@shared_task(name="core.tasks.check_task_deadlines", **PERIODIC_JOB)
def check_task_deadlines(
    self: Any, trigger: str = JobRun.Trigger.MANUAL.value, today: str | None = None
) -> dict[str, Any]:
    """Service: core.services.daily_check.run_deadline_check (alerts, then emails)."""
    day = jobs.parse_day(today)
    return jobs.run_job(
        jobs.CHECK_TASK_DEADLINES,
        lambda: run_deadline_check(today=day),
        trigger=jobs.parse_trigger(trigger),
        business_date=day,
        task_id=self.request.id or "",
    )


@shared_task(name="core.tasks.cleanup_old_notifications", **PERIODIC_JOB)
def cleanup_old_notifications(
    self: Any, days: int = 30, trigger: str = JobRun.Trigger.MANUAL.value
) -> dict[str, Any]:
    """Service: core.services.cleanup.cleanup_old_notifications (batched deletes)."""
    days = validate_days(days)  # a bad value fails here, before any retry or record
    return jobs.run_job(
        jobs.CLEANUP_OLD_NOTIFICATIONS,
        lambda: cleanup_service(days=days),
        trigger=jobs.parse_trigger(trigger),
        task_id=self.request.id or "",
    )


@shared_task(name="core.tasks.send_daily_summary", **PERIODIC_JOB)
def send_daily_summary(
    self: Any, today: str | None = None, trigger: str = JobRun.Trigger.MANUAL.value
) -> dict[str, Any]:
    """Service: core.services.summary.send_daily_summary (one email per lead per day)."""
    day = jobs.parse_day(today)
    return jobs.run_job(
        jobs.SEND_DAILY_SUMMARY,
        lambda: summary_service(today=day),
        trigger=jobs.parse_trigger(trigger),
        business_date=day,
        task_id=self.request.id or "",
    )


@shared_task(name="core.tasks.catch_up_missed_deadline_check", ignore_result=True)
def catch_up_missed_deadline_check() -> str | None:
    """Service: core.jobs.catch_up (today's check once, if its 08:00 run was missed)."""
    return enqueue_missed_deadline_check()


# --- Email delivery (issue 4) ------------------------------------------------------
# SMTP errors are the outbox's business, per email (backoff in next_attempt_at,
# FAILED after EMAIL_MAX_ATTEMPTS): these tasks only retry when the database
# itself is unavailable. The beat entry "send-pending-emails" sweeps every minute
# for retries that are due and for rows whose after-commit dispatch was lost.
EMAIL_TASK: dict[str, Any] = {
    "autoretry_for": (DatabaseError, InterfaceError),
    "max_retries": 3,
    "retry_backoff": 30,
    "retry_backoff_max": RETRY_DELAY_S,
    "retry_jitter": True,
}


@shared_task(name="core.tasks.mark_notifications_read", **EMAIL_TASK)
def mark_notifications_read(user_id: int, up_to: str) -> dict[str, Any]:
    """Service: core.services.notifications.mark_all_read (what "mark all read"
    left for the background: the user's unread notifications up to ``up_to``)."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return {"marked": 0}
    moment = datetime.datetime.fromisoformat(up_to)
    return {"marked": mark_all_read(user=user, up_to=moment).marked}


@shared_task(name="core.tasks.send_pending_emails", **EMAIL_TASK)
def send_pending_emails() -> dict[str, Any]:
    """Service: core.services.outbox.send_pending (one SMTP connection per batch).
    The soft time limit tells it to stop taking work (core.jobs.soft_limit)."""
    with soft_limit_as_flag() as soft_limit_reached:
        return send_pending(should_stop=soft_limit_reached.is_set).as_dict()
