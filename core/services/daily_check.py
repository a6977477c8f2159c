"""The daily deadline check as both triggers run it: alerts first, then their emails
and their channel messages.

The alerts are committed before any email work starts, so a failure on the email
side never loses or blocks a notification. That failure is not swallowed either:
it fails the run (recorded, retried by the task's policy, non-zero exit for the
command), and the rerun, which creates no alert twice, queues the emails that are
still owed for the day.
"""

from __future__ import annotations

import datetime

from core.services.absence_digest import queue_absence_digests
from core.services.alert_emails import queue_alert_emails
from core.services.channel_messages import queue_channel_messages
from core.services.deadlines import DeadlineRunResult, create_deadline_alerts


def run_deadline_check(
    *, today: datetime.date | None = None, dry_run: bool = False, send_emails: bool = True
) -> DeadlineRunResult:
    """Alerts of ``today``, then their emails and channel messages, then the
    catch-up digests of the users back from an absence (``send_emails=False``: a
    backfill of a past day, whose alerts are history, not news)."""
    result = create_deadline_alerts(today=today, dry_run=dry_run)
    if send_emails and not dry_run:
        result.emails_queued = queue_alert_emails(today=result.today)
        result.emails_queued += queue_absence_digests(today=result.today)
        result.channel_messages_queued = queue_channel_messages(today=result.today)
    return result
