"""The events (what others changed on one's tasks) told by email and in the channels.

What the periodic job "send-event-emails" runs every five minutes: one email
per user listing their new events (``alert_emails.queue_event_emails``), and
one message per channel (``channel_messages.queue_channel_events``). Each side
keeps its own record of what it told (the email on the notification, the
watermark on the channel): a rerun tells nothing twice, and a side that failed
catches up at the next run.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from core.services.alert_emails import queue_event_emails
from core.services.channel_messages import queue_channel_events


def queue_event_notices(*, now: datetime.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    report = queue_event_emails(now=now)
    report["channel_messages"] = queue_channel_events(now=now)
    return report
