"""Celery tasks: a table of contents. Each task names its service, its retry
policy and its time limits, takes JSON arguments, and holds no business logic.

The schedule of each periodic job is declared in ``core.jobs.registry``; running
it once a day, recording it and catching it up is ``core.jobs``.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.db import DatabaseError, InterfaceError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from core.jobs import arguments, catch_up, registry, runs
from core.jobs.runs import AUTOMATIC_TRIGGERS, run_job
from core.jobs.soft_limit import soft_limit_as_flag
from core.models import JobRun, User
from core.services.channel_delivery import send_pending_channel_messages as post_channel_messages
from core.services.cleanup import cleanup_old_notifications as cleanup_service
from core.services.daily_check import run_deadline_check
from core.services.daily_check import send_alert_digests as digests_service
from core.services.event_notices import queue_event_notices
from core.services.notifications import mark_all_read
from core.services.outbox import send_pending
from core.services.password_reset import request_password_reset_by_email
from core.services.portfolio_export_jobs import MAX_ATTEMPTS as EXPORT_MAX_ATTEMPTS
from core.services.portfolio_export_jobs import generate_export
from core.services.summary import send_daily_summary as summary_service

MANUAL = JobRun.Trigger.MANUAL.value

# --- Periodic jobs ----------------------------------------------------------------
# Retried 3 times, JOB_RETRY_DELAY_S (5 minutes) apart, on database or broker errors
# (a restart, a failover); anything else (bad arguments, a bug) fails at once and
# visibly. Beyond the retries, the catch-up runs a daily job again the same day.
# Time limits: CELERY_TASK_SOFT_TIME_LIMIT / CELERY_TASK_TIME_LIMIT (settings).
PERIODIC_JOB: dict[str, Any] = {
    "bind": True,
    "autoretry_for": (DatabaseError, InterfaceError, BrokerError),
    "max_retries": 3,
    "default_retry_delay": settings.JOB_RETRY_DELAY_S,
    "retry_backoff": False,
    "retry_jitter": False,
}


def sent(trigger: str) -> bool:
    """Whether the message's ``today`` was fixed when it was sent (beat: by
    core.jobs.sent_day; the catch-up), rather than asked for by an operator."""
    return trigger in AUTOMATIC_TRIGGERS


@shared_task(name=registry.CHECK_TASK_DEADLINES.task, **PERIODIC_JOB)
def check_task_deadlines(
    self: Task[Any, Any], trigger: str = MANUAL, today: str | None = None
) -> dict[str, Any]:
    """Service: core.services.daily_check.run_deadline_check (alerts, then emails)."""
    trigger = arguments.trigger(trigger)
    day = arguments.run_day(today, job=registry.CHECK_TASK_DEADLINES, sent=sent(trigger))
    with soft_limit_as_flag() as soft_limit_reached:
        return run_job(
            registry.CHECK_TASK_DEADLINES,
            # Today's alerts are emailed; a past day's (a message sent before
            # midnight, run after it) are history. The soft time limit stops the
            # emails between two chunks: the catch-up queues the rest.
            lambda: run_deadline_check(
                today=day,
                send_emails=day == timezone.localdate(),
                should_stop=soft_limit_reached.is_set,
            ),
            trigger=trigger,
            business_date=day,
            task_id=self.request.id or "",
        ).as_dict()


@shared_task(name=registry.CLEANUP_OLD_NOTIFICATIONS.task, **PERIODIC_JOB)
def cleanup_old_notifications(
    self: Task[Any, Any], days: int | None = None, trigger: str = MANUAL
) -> dict[str, Any]:
    """Service: core.services.cleanup.cleanup_old_notifications (batched deletes).

    ``days`` defaults to NOTIFICATION_RETENTION_DAYS, read when the job runs."""
    retention = arguments.days(days)  # a bad value fails here, before any retry or record
    return run_job(
        registry.CLEANUP_OLD_NOTIFICATIONS,
        lambda: cleanup_service(days=retention),
        trigger=arguments.trigger(trigger),
        task_id=self.request.id or "",
    ).as_dict()


@shared_task(name=registry.SEND_DAILY_SUMMARY.task, **PERIODIC_JOB)
def send_daily_summary(
    self: Task[Any, Any], today: str | None = None, trigger: str = MANUAL
) -> dict[str, Any]:
    """Service: core.services.summary.send_daily_summary (one email per lead per day)."""
    trigger = arguments.trigger(trigger)
    day = arguments.run_day(today, job=registry.SEND_DAILY_SUMMARY, sent=sent(trigger))
    return run_job(
        registry.SEND_DAILY_SUMMARY,
        lambda: summary_service(today=day),
        trigger=trigger,
        business_date=day,
        task_id=self.request.id or "",
    ).as_dict()


@shared_task(name=registry.CATCH_UP_MISSED_JOBS.task, ignore_result=True)
def catch_up_missed_jobs() -> list[str]:
    """core.jobs.catch_up: each daily job missed today is queued once."""
    return catch_up.enqueue_missed_jobs()


# --- Email delivery ------------------------------------------------------------------
# SMTP errors are the outbox's business, per email (backoff in next_attempt_at,
# FAILED after EMAIL_MAX_ATTEMPTS): this task only retries when the database
# itself is unavailable. Beat sweeps every minute ("send-pending-emails") for
# retries that are due and rows whose dispatch after commit was lost.
EMAIL_TASK: dict[str, Any] = {
    "autoretry_for": (DatabaseError, InterfaceError),
    "max_retries": 3,
    "retry_backoff": 30,
    "retry_backoff_max": settings.JOB_RETRY_DELAY_S,
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


# No result stored: it would tell whether the address has an account, and it
# would keep the address in the results table.
@shared_task(name="core.tasks.request_password_reset", ignore_result=True, **EMAIL_TASK)
def request_password_reset(email: str) -> int:
    """Service: core.services.password_reset.request_password_reset_by_email (the
    look-up and the outbox row, off the reset page: no timing tells who has an account)."""
    return request_password_reset_by_email(email=email)


@shared_task(name=registry.SEND_PENDING_EMAILS.task, **EMAIL_TASK)
def send_pending_emails(trigger: str = MANUAL) -> dict[str, Any]:
    """Service: core.services.outbox.send_pending (a few SMTP connections per batch).
    The soft time limit tells it to stop taking work (core.jobs.soft_limit)."""
    return _run_sender(registry.SEND_PENDING_EMAILS, send_pending, trigger=trigger)


def _run_sender(
    job: registry.PeriodicJob, send: Callable[..., Any], *, trigger: str
) -> dict[str, Any]:
    """An outbox's sender, told by the soft time limit to stop taking work."""
    with soft_limit_as_flag() as soft_limit_reached:
        stoppable = functools.partial(send, should_stop=soft_limit_reached.is_set)
        return run_job(job, stoppable, trigger=arguments.trigger(trigger)).as_dict()


@shared_task(name=registry.SEND_ALERT_DIGESTS.task, **EMAIL_TASK)
def send_alert_digests(trigger: str = MANUAL) -> dict[str, Any]:
    """Service: core.services.daily_check.send_alert_digests (the alert emails and
    summaries of those who chose this hour; what was sent is never sent again).
    Nothing before today's deadline check is done: a digest lists the whole day's
    alerts, and a summary goes once (the check, late, takes those whose hour passed)."""
    return run_job(
        registry.SEND_ALERT_DIGESTS, _digests_once_checked, trigger=arguments.trigger(trigger)
    ).as_dict()


def _digests_once_checked() -> dict[str, Any]:
    if not runs.day_done(registry.CHECK_TASK_DEADLINES, timezone.localdate()):
        return {"alert_emails": 0, "summaries": 0, "waiting_for_check": True}
    return digests_service()


@shared_task(name=registry.SEND_EVENT_EMAILS.task, **EMAIL_TASK)
def send_event_emails(trigger: str = MANUAL) -> dict[str, Any]:
    """Service: core.services.event_notices.queue_event_notices (one email per user
    and one message per channel listing the events of the last minutes; the
    outboxes send them)."""
    return run_job(
        registry.SEND_EVENT_EMAILS,
        queue_event_notices,
        trigger=arguments.trigger(trigger),
    ).as_dict()


# --- Portfolio exports -----------------------------------------------------------------
# A database error is retried (the service raises it while attempts remain, and the
# retry claims the export again); anything else is the service's: the export FAILED,
# its owner told. A worker killed mid-export: the message comes back (acks late,
# reject on worker lost) and counts as the next attempt. Time limits: the global
# CELERY_TASK_SOFT_TIME_LIMIT / CELERY_TASK_TIME_LIMIT (5,000 projects take seconds).
EXPORT_TASK: dict[str, Any] = {
    "autoretry_for": (DatabaseError, InterfaceError),
    "max_retries": EXPORT_MAX_ATTEMPTS - 1,
    "retry_backoff": 30,
    "retry_backoff_max": settings.JOB_RETRY_DELAY_S,
    "retry_jitter": True,
}


@shared_task(name="core.tasks.generate_portfolio_export", **EXPORT_TASK)
def generate_portfolio_export(export_id: int) -> dict[str, Any]:
    """Service: core.services.portfolio_export_jobs.generate_export (write, store,
    notify the owner)."""
    return generate_export(export_id=export_id)


# --- Channel delivery -----------------------------------------------------------------
# A chat service's errors are the channel outbox's business, per message (backoff,
# FAILED after CHANNEL_MAX_ATTEMPTS); this task only retries when the database
# itself is unavailable, as the email sender does.
@shared_task(name=registry.SEND_PENDING_CHANNEL_MESSAGES.task, **EMAIL_TASK)
def send_pending_channel_messages(trigger: str = MANUAL) -> dict[str, Any]:
    """Service: core.services.channel_delivery.send_pending_channel_messages (Apprise).
    The soft time limit tells it to stop taking work (core.jobs.soft_limit)."""
    return _run_sender(
        registry.SEND_PENDING_CHANNEL_MESSAGES, post_channel_messages, trigger=trigger
    )
