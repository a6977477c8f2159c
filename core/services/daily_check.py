"""The daily deadline check as both triggers run it: alerts first, then their emails.

Creating the alerts is committed before any email work starts, so a failure on
the email side never loses or blocks a notification.
"""

from __future__ import annotations

import datetime
import logging

from core.services.alert_emails import queue_alert_emails
from core.services.deadlines import DeadlineRunResult, create_deadline_alerts

logger = logging.getLogger(__name__)


def run_deadline_check(
    *, today: datetime.date | None = None, dry_run: bool = False
) -> DeadlineRunResult:
    result = create_deadline_alerts(today=today, dry_run=dry_run)
    if dry_run:
        return result
    try:
        result.emails_queued = queue_alert_emails(today=result.today)
    except Exception:
        # The alerts are committed; the unsent ones are picked up by the next run.
        logger.exception("Queueing alert emails failed; alerts are kept")
    return result
