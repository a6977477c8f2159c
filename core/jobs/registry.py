"""The periodic jobs, declared once: what runs, when, what it reports.

This table is the only place a periodic job is declared. Celery's beat schedule
(``app.conf.beat_schedule``), the rows of django-celery-beat's table
(``core.jobs.beat_rows``), the catch-up, the supervision page and the health
check all read ``JOBS`` when they run (never a copy taken at import). It imports
no model, so the Celery settings can read it before Django is set up.

A *daily* job runs once per business day (Europe/Paris) when triggered
automatically (beat, catch-up): the second trigger of the day finds the day
claimed or done and skips. A daily job whose planned time passed without a
success is caught up the same day (``core.jobs.catch_up``), through the task
registered under ``task``: that task takes ``trigger`` and ``today`` (ISO date),
the day fixed when the message was sent (beat's: ``core.jobs.sent_day``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from celery.schedules import crontab
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# A daily job's message waits at most this long in the queue: a 08:00 check
# delivered after 09:00 is dropped, and the catch-up sends a fresh one.
DAILY_EXPIRES_S = 3600
BEAT = {"trigger": "BEAT"}


@dataclass(frozen=True)
class PeriodicJob:
    key: str  # JobRun.job and JobDay.job, e.g. "check_task_deadlines"
    beat_name: str  # the beat entry (fixed name, see shared/product.md)
    task: str  # the registered Celery task name
    schedule: crontab  # the code's default; an administrator may change it
    label: Promise
    # The figures of a run (keys of the service's report) an operator reads, with
    # their labels, in the order shown; the other keys are bookkeeping.
    figures: Mapping[str, Promise] = field(default_factory=dict)
    expires_s: int | None = None
    daily: bool = False
    backfill: bool = False  # may run for a past day (that day's records, no email)
    recorded: bool = True  # each run is a JobRun (the per-minute sender is not)
    kwargs: Mapping[str, Any] = field(default_factory=lambda: dict(BEAT))

    def beat_entry(self) -> dict[str, Any]:
        """The entry for ``app.conf.beat_schedule``."""
        entry: dict[str, Any] = {"task": self.task, "schedule": self.schedule}
        if self.kwargs:
            entry["kwargs"] = dict(self.kwargs)
        if self.expires_s is not None:
            entry["options"] = {"expires": self.expires_s}
        return entry


CHECK_TASK_DEADLINES = PeriodicJob(
    key="check_task_deadlines",
    beat_name="check-task-deadlines-daily",
    task="core.tasks.check_task_deadlines",
    schedule=crontab(hour=8, minute=0),
    label=_("Daily deadline check"),
    figures={
        "total_created": _("alerts created"),
        "tasks_scanned": _("tasks checked"),
        "emails_queued": _("alert emails queued"),
        "channel_messages_queued": _("channel messages queued"),
        "skipped_count": _("recipients skipped"),
    },
    expires_s=DAILY_EXPIRES_S,
    daily=True,
    backfill=True,
)
SEND_DAILY_SUMMARY = PeriodicJob(
    key="send_daily_summary",
    beat_name="send-daily-summary",
    task="core.tasks.send_daily_summary",
    schedule=crontab(hour=8, minute=15),
    label=_("Daily summary to project leads"),
    figures={
        "leads": _("project leads"),
        "queued": _("summaries queued"),
        "already_queued": _("already sent today"),
        "skipped": _("recipients skipped"),
    },
    expires_s=DAILY_EXPIRES_S,
    daily=True,
)
# Weekly; "days" is read from NOTIFICATION_RETENTION_DAYS when the job runs,
# never frozen into the beat row.
CLEANUP_OLD_NOTIFICATIONS = PeriodicJob(
    key="cleanup_old_notifications",
    beat_name="cleanup-old-notifications",
    task="core.tasks.cleanup_old_notifications",
    schedule=crontab(hour=2, minute=0, day_of_week=1),
    label=_("Cleanup of old notifications"),
    figures={
        "deleted": _("notifications deleted"),
        "days": _("retention (days)"),
        "deleted_emails": _("sent emails deleted"),
        "deleted_channel_messages": _("posted channel messages deleted"),
        "email_days": _("email retention (days)"),
        "deleted_exports": _("expired exports deleted"),
    },
)
# Every ten minutes: a daily job missed at its time (beat or broker down, message
# lost in a restarted broker, run failed beyond its retries) runs the same day.
CATCH_UP_MISSED_JOBS = PeriodicJob(
    key="catch_up_missed_jobs",
    beat_name="catch-up-missed-jobs",
    task="core.tasks.catch_up_missed_jobs",
    schedule=crontab(minute="5,15,25,35,45,55"),
    label=_("Catch-up of missed daily jobs"),
    expires_s=540,
    recorded=False,
    kwargs={},
)
# Every minute: email retries whose backoff is over, and emails whose dispatch
# after commit was lost (broker down at that moment).
SEND_PENDING_EMAILS = PeriodicJob(
    key="send_pending_emails",
    beat_name="send-pending-emails",
    task="core.tasks.send_pending_emails",
    schedule=crontab(),
    label=_("Sending of outgoing emails"),
    figures={
        "claimed": _("emails taken"),
        "sent": _("emails sent"),
        "retrying": _("emails to retry"),
        "failed": _("emails failed"),
    },
    expires_s=55,
    recorded=False,
)

# Every five minutes: the events of the last minutes (a blockage, a hand-over, a
# due date changed...), one email per user listing theirs (never one per change).
SEND_EVENT_EMAILS = PeriodicJob(
    key="send_event_emails",
    beat_name="send-event-emails",
    task="core.tasks.send_event_emails",
    schedule=crontab(minute="*/5"),
    label=_("Emails of changes to tasks"),
    figures={"queued": _("emails queued"), "channel_messages": _("channel messages queued")},
    expires_s=240,
    recorded=False,
)

# Every hour: the alert emails and the daily summary of the users who chose to
# receive them as a digest at that hour (core.selectors.delivery).
SEND_ALERT_DIGESTS = PeriodicJob(
    key="send_alert_digests",
    beat_name="send-alert-digests",
    task="core.tasks.send_alert_digests",
    schedule=crontab(minute=0),
    label=_("Alert emails at the hour chosen"),
    figures={"alert_emails": _("alert emails queued"), "summaries": _("summaries queued")},
    expires_s=3000,
    recorded=False,
)

# Every minute: channel messages whose backoff is over, and those whose dispatch
# after commit was lost (core.services.channel_delivery).
SEND_PENDING_CHANNEL_MESSAGES = PeriodicJob(
    key="send_pending_channel_messages",
    beat_name="send-pending-channel-messages",
    task="core.tasks.send_pending_channel_messages",
    schedule=crontab(),
    label=_("Posting of channel messages"),
    figures={
        "claimed": _("messages taken"),
        "sent": _("messages posted"),
        "retrying": _("messages to retry"),
        "failed": _("messages failed"),
    },
    expires_s=55,
    recorded=False,
)

JOBS: tuple[PeriodicJob, ...] = (
    CHECK_TASK_DEADLINES,
    CLEANUP_OLD_NOTIFICATIONS,
    SEND_DAILY_SUMMARY,
    CATCH_UP_MISSED_JOBS,
    SEND_PENDING_EMAILS,
    SEND_EVENT_EMAILS,
    SEND_ALERT_DIGESTS,
    SEND_PENDING_CHANNEL_MESSAGES,
)


def daily_jobs() -> list[PeriodicJob]:
    return [job for job in JOBS if job.daily]


def by_beat_name(name: str) -> PeriodicJob | None:
    return next((job for job in JOBS if job.beat_name == name), None)


def beat_schedule() -> dict[str, dict[str, Any]]:
    """``app.conf.beat_schedule``: every declared job, in declaration order."""
    return {job.beat_name: job.beat_entry() for job in JOBS}
