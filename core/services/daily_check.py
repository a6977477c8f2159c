"""The daily deadline check as both triggers run it: alerts first, then their emails
and their channel messages.

The alerts are committed before any email work starts, so a failure on the email
side never loses or blocks a notification. That failure is not swallowed either:
it fails the run (recorded, retried by the task's policy, non-zero exit for the
command), and the rerun, which creates no alert twice, queues the emails that are
still owed for the day.

Told to stop (``should_stop``: the Celery task's soft time limit), the run queues
no further chunk of emails and says it is not ``complete``: its day stays undone,
and the catch-up's rerun queues the emails still owed, from where it stopped.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.utils import timezone

from core.services.absence_digest import queue_absence_digests
from core.services.alert_emails import queue_alert_emails
from core.services.channel_messages import queue_channel_messages
from core.services.deadlines import DeadlineRunResult, create_deadline_alerts
from core.services.portfolio_figures import morning_refresh
from core.services.summary import send_daily_summary


def _never() -> bool:
    return False


def run_deadline_check(
    *,
    today: datetime.date | None = None,
    dry_run: bool = False,
    send_emails: bool = True,
    should_stop: Callable[[], bool] = _never,
) -> DeadlineRunResult:
    """Alerts of ``today``, then their emails and channel messages, then the
    catch-up digests of the users back from an absence, then the portfolio's
    figures of the day (``send_emails=False``: a backfill of a past day, whose
    alerts are history, not news, and whose figures are not today's)."""
    result = create_deadline_alerts(today=today, dry_run=dry_run)
    if send_emails and not dry_run:
        result.emails_queued = queue_alert_emails(today=result.today, should_stop=should_stop)
        if should_stop():
            result.complete = False
            return result
        result.emails_queued += queue_absence_digests(today=result.today)
        result.channel_messages_queued = queue_channel_messages(today=result.today)
        # Last: the portfolio's figures of the day, which no alert or email waits
        # for (a failure fails the run, and the rerun refreshes them).
        morning_refresh(today=result.today)
    return result


def send_alert_digests(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """The hourly job: the alert emails and the daily summary of the users whose
    chosen hour has come (core.selectors.delivery), once each."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    return {
        "alert_emails": queue_alert_emails(today=today, now=now, digests_only=True),
        "summaries": send_daily_summary(today=today, now=now, digests_only=True).queued,
    }
