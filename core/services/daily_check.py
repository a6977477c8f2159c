"""The daily deadline check as both triggers run it: alerts first, then their emails.

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
from core.services.deadlines import DeadlineRunResult, create_deadline_alerts
from core.services.portfolio_figures import morning_refresh


def run_deadline_check(
    *, today: datetime.date | None = None, dry_run: bool = False, send_emails: bool = True
) -> DeadlineRunResult:
    """Alerts of ``today``, then their emails, then the catch-up digests of the
    users back from an absence, then the portfolio's figures of the day
    (``send_emails=False``: a backfill of a past day, whose alerts are history,
    not news, and whose figures are not today's)."""
    result = create_deadline_alerts(today=today, dry_run=dry_run)
    if send_emails and not dry_run:
        result.emails_queued = queue_alert_emails(today=result.today)
        result.emails_queued += queue_absence_digests(today=result.today)
        # Last: the portfolio's figures of the day, which no alert or email waits
        # for (a failure fails the run, and the rerun refreshes them).
        morning_refresh(today=result.today)
    return result
