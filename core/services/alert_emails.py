"""Alert emails: one email per user listing their new alerts (issue 4 fills this in)."""

from __future__ import annotations

import datetime


def queue_alert_emails(*, today: datetime.date | None = None) -> int:
    """Queue one outbox email per user with un-emailed alerts; return how many."""
    return 0
